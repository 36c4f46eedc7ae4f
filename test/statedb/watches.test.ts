// Watches at each granularity, stale snapshots, watches inside write
// transactions, and the watch helpers.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { closedWatch, DB, Keys, uniqueIndex, waitAny, WaitAbortedError, Watch } from '../../statedb/index.js';
import { namedTable, obj, objTable } from './fixtures.js';

const handles = suite('watch handles');

handles('resolve once; the promise is lazy and settles after close', async () => {
  const w = new Watch();
  assert.is(w.closed, false);
  assert.is((w as unknown as { pending?: unknown }).pending, undefined, 'no promise until asked');
  const p = w.promise;
  assert.is(w.promise, p);
  w.close();
  w.close();
  await p;
  assert.is(w.closed, true);
  assert.is(closedWatch.closed, true);
  await closedWatch.promise;
});

handles('waitAny returns the closed watches, or rejects on abort', async () => {
  const a = new Watch();
  const b = new Watch();
  setTimeout(() => b.close(), 5);
  assert.equal(await waitAny([a, b]), [b]);
  const ctl = new AbortController();
  setTimeout(() => ctl.abort(new Error('stop')), 5);
  try {
    await waitAny([a], ctl.signal);
    assert.unreachable('should abort');
  } catch (e) {
    assert.instance(e, WaitAbortedError);
    assert.match(String(e), /stop/);
  }
  assert.equal(await waitAny([a, closedWatch]), [closedWatch], 'already closed: resolves at once');
});

handles.run();

const granularity = suite('granularity');

granularity('non-unique list watches close when an object gains or loses the key only', () => {
  const { db, table } = objTable();
  db.write(table, (w) => {
    table.insert(w, obj(1, ['a']));
    table.insert(w, obj(2, ['b']));
  });
  const tags = table.secondary.tags;
  const wa = table.listWatch(db.readTxn(), tags.query('a')).watch;
  const wc = table.listWatch(db.readTxn(), tags.query('c')).watch;
  db.write(table, (w) => table.insert(w, obj(2, ['b', 'x'])));
  assert.is(wa.closed, false, 'unrelated keys');
  assert.is(wc.closed, false);
  db.write(table, (w) => table.insert(w, obj(2, ['c'])));
  assert.is(wc.closed, true, 'gained');
  assert.is(wa.closed, false);
  db.write(table, (w) => table.insert(w, obj(1, ['z'])));
  assert.is(wa.closed, true, 'lost');
});

granularity('a unique secondary get watch and a secondary prefix watch', () => {
  const db = new DB({ validate: true });
  const t = db.newTable({
    name: 'hosts',
    primary: uniqueIndex('id', Keys.u32, (h: { id: number; host: string }) => h.id),
    secondary: { host: uniqueIndex('host', Keys.string, (h: { id: number; host: string }) => h.host) },
  });
  db.write(t, (w) => {
    t.insert(w, { id: 1, host: 'api.example' });
    t.insert(w, { id: 2, host: 'db.example' });
  });
  const get = t.getWatch(db.readTxn(), t.secondary.host.query('api.example')).watch;
  const pre = t.prefixWatch(db.readTxn(), t.secondary.host.query('db.')).watch;
  db.write(t, (w) => t.insert(w, { id: 3, host: 'cache.example' }));
  assert.is(get.closed || pre.closed, false);
  db.write(t, (w) => t.insert(w, { id: 2, host: 'db.example' })); // same key, new version
  assert.is(pre.closed, true);
  assert.is(get.closed, false);
  db.write(t, (w) => t.insert(w, { id: 1, host: 'api2.example' }));
  assert.is(get.closed, true, 'the key moved away');
});

granularity('a stale snapshot hands out closed watches for what changed since', () => {
  const { db, table } = namedTable();
  db.write(table, (w) => {
    table.insert(w, { key: 'a', value: 1 });
    table.insert(w, { key: 'b', value: 1 });
  });
  const old = db.readTxn();
  db.write(table, (w) => table.insert(w, { key: 'a', value: 2 }));
  assert.is(table.getWatch(old, table.primary.query('a')).watch.closed, true);
  assert.is(table.getWatch(old, table.primary.query('b')).watch.closed, false, 'b did not change: exact');
  assert.is(table.allWatch(old).watch.closed, true);
});

granularity('watches from a write txn on data it changed close when it ends', () => {
  const { db, table } = namedTable();
  db.write(table, (w) => table.insert(w, { key: 'a', value: 1 }));
  const w = db.writeTxn(table);
  const before = table.getWatch(w, table.primary.query('a')).watch;
  table.insert(w, { key: 'a', value: 2 });
  const after = table.getWatch(w, table.primary.query('a')).watch;
  w.abort();
  assert.is(after.closed, true, 'its uncommitted value is gone: the watch closes');
  assert.is(before.closed, false, 'the committed value it saw is still current');
});

granularity('watches on other tables and untouched keys stay open on commit', () => {
  const db = new DB({ validate: true });
  const a = namedTable(db, 'a').table;
  const b = namedTable(db, 'b').table;
  const wa = a.allWatch(db.readTxn()).watch;
  db.write(b, (w) => b.insert(w, { key: 'x', value: 1 }));
  assert.is(wa.closed, false);
});

granularity('many watchers of one key share one watch; closing removes it', () => {
  const { db, table } = namedTable();
  const q = table.primary.query('k');
  const w1 = table.getWatch(db.readTxn(), q).watch;
  const w2 = table.getWatch(db.readTxn(), q).watch;
  assert.is(w1, w2);
  db.write(table, (w) => table.insert(w, { key: 'k', value: 1 }));
  const w3 = table.getWatch(db.readTxn(), q).watch;
  assert.ok(w3 !== w1 && !w3.closed);
});

granularity.run();
