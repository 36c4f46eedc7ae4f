// The statedb behavioural acceptance checks (reference statedb-semantics.md
// §14, checks 1-16), one test each, written as specifications.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DB,
  DuplicateIndexError,
  DuplicateTableError,
  EmptyIndexNameError,
  InitializerError,
  InvalidTableNameError,
  Keys,
  lpmIndex,
  nonUniqueIndex,
  ObjectNotFoundError,
  PrimaryIndexNotUniqueError,
  ReservedIndexNameError,
  RevisionNotEqualError,
  SameObjectError,
  TableNotLockedError,
  TransactionClosedError,
  uniqueIndex,
} from '../../statedb/index.js';
import type { Change } from '../../statedb/index.js';
import { ids, keys, namedTable, obj, objTable, throwsA } from './fixtures.js';
import type { Named, Obj } from './fixtures.js';

const byId = (o: { id: number }) => o.id;
const drain = (it: { next(): { changes: Iterable<unknown> } }): number => [...it.next().changes].length;
const changeList = (cs: Iterable<Change<Obj>>) =>
  [...cs].map((c) => `${c.deleted ? 'delete' : 'upsert'} ${c.object.id}@${c.revision}`);

test('1. table and index validation', () => {
  const db = new DB();
  db.newTable({ name: 'my-objects', primary: uniqueIndex('id', Keys.u32, byId) });
  for (const name of ['', '1a', 'ABC', 'a^*', 'a'.repeat(32)]) {
    throwsA(() => db.newTable({ name, primary: uniqueIndex('id', Keys.u32, byId) }), InvalidTableNameError);
  }
  for (const name of ['a', 'abc123', 'a1_bc', 'a-b', 'a'.repeat(31)]) {
    db.newTable({ name, primary: uniqueIndex('id', Keys.u32, byId) });
  }
  throwsA(
    () => db.newTable({ name: 'my-objects', primary: uniqueIndex('id', Keys.u32, byId) }),
    DuplicateTableError,
  );
  throwsA(
    () => db.newTable({ name: 'nonunique', primary: nonUniqueIndex('id', Keys.u32, byId) }),
    PrimaryIndexNotUniqueError,
  );
  throwsA(
    () =>
      db.newTable({
        name: 'twoids',
        primary: uniqueIndex('id', Keys.u32, byId),
        secondary: { other: nonUniqueIndex('id', Keys.u32, byId) },
      }),
    DuplicateIndexError,
  );
  throwsA(() => uniqueIndex('__x', Keys.u32, byId), ReservedIndexNameError);
  throwsA(() => uniqueIndex('', Keys.u32, byId), EmptyIndexNameError);
  // LPM cannot be primary: rejected when the table is created.
  assert.throws(() => db.newTable({ name: 'lpmprimary', primary: lpmIndex('p', (o: { p: string }) => o.p) }), /LPM/);
  assert.is(db.table('lpmprimary'), undefined);
});

test('2. read isolation and read-your-writes', () => {
  const { db, table } = objTable();
  const r0 = db.readTxn();
  const k = table.primary.query(1);
  const w = db.writeTxn(table);
  table.insert(w, obj(1));
  assert.is(table.get(w, k)?.id, 1);
  assert.equal(ids(table.all(w)), [1]);
  assert.is(table.get(r0, k), undefined);
  w.commit();
  assert.is(table.get(r0, k), undefined);
  assert.is(table.get(db.readTxn(), k)?.id, 1);

  const rev = table.revision(db.readTxn());
  const w2 = db.writeTxn(table);
  table.insert(w2, obj(2));
  w2.abort();
  assert.is(table.get(db.readTxn(), table.primary.query(2)), undefined);
  assert.is(table.revision(db.readTxn()), rev);
});

test('3. iteration stability inside a write txn', () => {
  const { db, table } = objTable();
  const n = 100;
  db.write(table, (w) => {
    for (let i = 0; i < n; i++) table.insert(w, obj(i));
  });
  db.write(table, (w) => {
    let yielded = 0;
    for (const e of table.all(w)) {
      table.delete(w, e.object);
      yielded++;
    }
    assert.is(yielded, n);
    assert.is(table.numObjects(w), 0);
  });
  assert.is(table.numObjects(db.readTxn()), 0);
});

test('4. revision rules', () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(100)));
  const r = table.revision(db.readTxn());
  db.write(table, (w) => {
    table.insert(w, obj(1));
    table.insert(w, obj(2));
    table.modify(w, obj(1, ['x']), (old, n) => ({ ...n, name: old.name }));
  });
  const r1 = db.readTxn();
  assert.is(table.getEntry(r1, table.primary.query(2))?.revision, r + 2);
  assert.is(table.getEntry(r1, table.primary.query(1))?.revision, r + 3);
  assert.is(table.revision(r1), r + 3);
  db.write(table, (w) => table.delete(w, obj(2)));
  assert.is(table.revision(db.readTxn()), r + 4);
  db.write(table, (w) => table.delete(w, obj(2))); // missing: adds 0
  assert.is(table.revision(db.readTxn()), r + 4);
  db.write(table, (w) => {
    throwsA(() => table.compareAndSwap(w, 999, obj(1)), RevisionNotEqualError);
  });
  assert.is(table.revision(db.readTxn()), r + 4);
  const w = db.writeTxn(table);
  table.insert(w, obj(3));
  w.abort();
  assert.is(table.revision(db.readTxn()), r + 4);
  // lowerBound(byRevision(x)): exactly the objects with revision >= x, in revision order.
  const revs = [...table.lowerBound(db.readTxn(), table.byRevision(r + 1))].map((e) => [e.object.id, e.revision]);
  assert.equal(revs, [[1, r + 3]]);
  const all = [...table.lowerBound(db.readTxn(), table.byRevision(0))].map((e) => e.object.id);
  assert.equal(all, [100, 1]);
});

test('5. getWatch on an existing key', () => {
  const { db, table } = namedTable();
  db.write(table, (w) => {
    table.insert(w, { key: 'K', value: 1 });
    table.insert(w, { key: 'J', value: 1 });
  });
  const { watch } = table.getWatch(db.readTxn(), table.primary.query('K'));
  db.write(table, (w) => table.insert(w, { key: 'J', value: 2 }));
  assert.is(watch.closed, false, 'neighbour change must not close it');
  const w = db.writeTxn(table);
  table.insert(w, { key: 'K', value: 2 });
  assert.is(watch.closed, false, 'uncommitted change must not close it');
  w.commit();
  assert.is(watch.closed, true);
  const again = table.getWatch(db.readTxn(), table.primary.query('K')).watch;
  db.write(table, (w) => table.delete(w, { key: 'K', value: 0 }));
  assert.is(again.closed, true, 'delete closes it');
});

test('6. getWatch on a missing key (and the "a" vs "aa" regression)', () => {
  const { db, table } = namedTable();
  const missing = table.getWatch(db.readTxn(), table.primary.query('K'));
  assert.is(missing.entry, undefined);
  db.write(table, (w) => table.insert(w, { key: 'K', value: 1 }));
  assert.is(missing.watch.closed, true);

  db.write(table, (w) => table.insert(w, { key: 'a', value: 1 }));
  const r = db.readTxn();
  const wa = table.getWatch(r, table.primary.query('a'));
  const waa = table.getWatch(r, table.primary.query('aa'));
  assert.ok(wa.entry !== undefined && waa.entry === undefined);
  assert.ok(wa.watch !== waa.watch);
  db.write(table, (w) => table.insert(w, { key: 'aa', value: 1 }));
  assert.is(waa.watch.closed, true);
  assert.is(wa.watch.closed, false);
});

test('7. prefix, lowerBound, all and LPM watches', () => {
  const { db, table } = namedTable();
  const put = (key: string, value = 1) => db.write(table, (w) => table.insert(w, { key, value }));
  const del = (key: string) => db.write(table, (w) => table.delete(w, { key, value: 0 }));
  for (const k of ['a1', 'a2', 'b1', 'b2']) put(k);
  const pa = table.prefixWatch(db.readTxn(), table.primary.query('a'));
  assert.equal(keys(pa.result), ['a1', 'a2']);
  put('b1', 2);
  assert.is(pa.watch.closed, false, 'a change under "b" leaves the "a" prefix watch open');
  const pab = table.prefixWatch(db.readTxn(), table.primary.query('ab')).watch;
  put('abc');
  assert.is(pab.closed, true, 'insert under the prefix');
  const pab2 = table.prefixWatch(db.readTxn(), table.primary.query('ab')).watch;
  del('abc');
  assert.is(pab2.closed, true, 'delete under the prefix');

  const lb = table.lowerBoundWatch(db.readTxn(), table.primary.query('x')).watch;
  const all = table.allWatch(db.readTxn()).watch;
  const w = db.writeTxn(table);
  table.insert(w, { key: 'a0', value: 1 });
  w.abort();
  assert.is(lb.closed || all.closed, false, 'no watch closes on abort');
  put('a0');
  assert.is(lb.closed, true, 'lowerBound watches the whole table');
  assert.is(all.closed, true);

  const nets = db.newTable({
    name: 'nets',
    primary: uniqueIndex('name', Keys.string, (o: { name: string; cidr: string }) => o.name),
    secondary: { cidr: lpmIndex('cidr', (o: { name: string; cidr: string }) => o.cidr) },
  });
  db.write(nets, (w) => nets.insert(w, { name: 'n1', cidr: '10.0.0.0/8' }));
  const lpmWatch = nets.getWatch(db.readTxn(), nets.secondary.cidr.query('10.1.1.1')).watch;
  db.write(nets, (w) => nets.insert(w, { name: 'n2', cidr: '192.168.0.0/16' }));
  assert.is(lpmWatch.closed, true, 'an LPM watch closes on any change to that index');
});

test('8. commit ordering: watch callbacks see the committed change', async () => {
  const { db, table } = namedTable();
  const { watch } = table.getWatch(db.readTxn(), table.primary.query('K'));
  const seen = watch.promise.then(() => table.get(db.readTxn(), table.primary.query('K'))?.value);
  let initSeen: Promise<boolean> | undefined;
  db.write(table, (w) => {
    const done = table.registerInitializer(w, 'init');
    w.commit();
    const init = table.initialized(db.readTxn());
    initSeen = init.watch.promise.then(() => table.initialized(db.readTxn()).initialized);
    db.write(table, (w2) => {
      table.insert(w2, { key: 'K', value: 7 });
      done(w2);
    });
  });
  assert.is(await seen, 7);
  assert.is(await initSeen, true);
});

test('9. cross-table atomicity and locking', () => {
  const db = new DB({ validate: true });
  const a = namedTable(db, 'a').table;
  const b = namedTable(db, 'b').table;
  const c = namedTable(db, 'c').table;
  const before = db.readTxn();
  const w = db.writeTxn([a, b]);
  a.insert(w, { key: 'x', value: 1 });
  b.insert(w, { key: 'x', value: 1 });
  const during = db.readTxn();
  throwsA(() => c.insert(w, { key: 'x', value: 1 }), TableNotLockedError);
  assert.instance(w.commit(), Object);
  for (const [snap, n] of [[before, 0], [during, 0], [db.readTxn(), 1]] as const) {
    assert.is(a.numObjects(snap), n);
    assert.is(b.numObjects(snap), n);
  }
  throwsA(() => a.insert(w, { key: 'y', value: 1 }), TransactionClosedError);
  w.abort(); // no-op after commit
  assert.is(w.commit(), undefined);
  const w2 = db.writeTxn([a]);
  w2.abort();
  throwsA(() => a.insert(w2, { key: 'y', value: 1 }), TransactionClosedError);
  const dup = db.writeTxn([a, a]);
  a.insert(dup, { key: 'dup', value: 1 });
  dup.commit();
  assert.is(a.numObjects(db.readTxn()), 2);
});

test('10. non-unique and multi-key semantics', () => {
  const { db, table } = objTable();
  db.write(table, (w) => {
    table.insert(w, obj(1, ['a', 'b']));
    table.insert(w, obj(2, ['a']));
    table.insert(w, obj(3, ['ab']));
  });
  const r = db.readTxn();
  const tags = table.secondary.tags;
  assert.equal(ids(table.list(r, tags.query('a'))), [1, 2]);
  assert.is(table.get(r, tags.query('a'))?.id, 1);
  assert.equal(ids(table.list(r, tags.query('ab'))), [3]);
  assert.equal(ids(table.prefix(r, tags.query('a'))).sort(), [1, 2, 3]);
  assert.equal(ids(table.lowerBound(r, tags.query('ab'))), [3, 1]);
  db.write(table, (w) => table.insert(w, obj(1, ['b'])));
  assert.equal(ids(table.list(db.readTxn(), tags.query('a'))), [2]);

  // Bytes 0x00/0x01 in keys keep bytewise order: secondary first, then primary.
  db.write(table, (w) => {
    table.deleteAll(w);
    table.insert(w, obj(10, ['a\x01']));
    table.insert(w, obj(11, ['a']));
    table.insert(w, obj(12, ['a\x00b']));
    table.insert(w, obj(5, ['a\x00']));
    table.insert(w, obj(4, ['a']));
  });
  const order = [...table.lowerBound(db.readTxn(), tags.query(''))].map((e) => e.object.id);
  assert.equal(order, [4, 11, 5, 12, 10]);
  assert.equal(ids(table.list(db.readTxn(), tags.query('a'))), [4, 11]);
  assert.equal(ids(table.list(db.readTxn(), tags.query('a\x00'))), [5]);
});

test('11. unique string keys match exactly', () => {
  const { db, table } = namedTable();
  db.write(table, (w) => {
    for (const key of ['foo', 'foobar', 'baz']) table.insert(w, { key, value: 1 });
  });
  const r = db.readTxn();
  assert.is(table.get(r, table.primary.query('foo'))?.key, 'foo');
  assert.equal(keys(table.list(r, table.primary.query('foob'))), []);
  assert.equal(keys(table.prefix(r, table.primary.query('foo'))), ['foo', 'foobar']);
});

test('12. key encodings', () => {
  assert.ok(Keys.u64.encode(1) < Keys.u64.encode(256));
  assert.ok(Keys.u32.encode(255) < Keys.u32.encode(256));
  assert.is(Keys.bool.encode(true), 'T');
  assert.is(Keys.ip.encode('10.0.0.1').length, 16);
  assert.is(Keys.ip.encode('10.0.0.1'), Keys.ip.encode('::ffff:10.0.0.1'));
  const p = Keys.prefix.encode('10.1.2.3/8');
  assert.is(p.length, 17);
  assert.is(p, Keys.prefix.encode('10.0.0.0/8'), 'the address is masked');
  // Signed integers sort numerically (upstream does not flip the sign bit; we do, on purpose).
  const signed = [-129, -1, 0, 1, 127, 128].map((n) => Keys.i32.encode(n));
  assert.equal([...signed].sort(), signed);
  // Big-endian lowerBound works numerically.
  const db = new DB({ validate: true });
  const t = db.newTable({ name: 'nums', primary: uniqueIndex('n', Keys.u64, (o: { n: number }) => o.n) });
  db.write(t, (w) => [1, 2, 256, 65536, 3].forEach((n) => t.insert(w, { n })));
  assert.equal(
    [...t.lowerBound(db.readTxn(), t.primary.query(3))].map((e) => e.object.n),
    [3, 256, 65536],
  );
});

test('13. modify and CAS', () => {
  const { db, table } = objTable();
  let merges = 0;
  const merge = (old: Obj, n: Obj): Obj => {
    merges++;
    return { ...n, tags: [...old.tags, ...n.tags] };
  };
  db.write(table, (w) => table.modify(w, obj(1, ['a']), merge));
  assert.is(merges, 0, 'merge is not called without an old object');
  db.write(table, (w) => table.modify(w, obj(1, ['b']), merge));
  assert.is(merges, 1);
  const r = db.readTxn();
  assert.equal(table.get(r, table.primary.query(1))?.tags, ['a', 'b']);
  assert.equal(ids(table.list(r, table.secondary.tags.query('b'))), [1], 'secondaries see the merged object');

  const cur = table.getEntry(db.readTxn(), table.primary.query(1))!;
  db.write(table, (w) => table.compareAndSwap(w, cur.revision, obj(1, ['c'])));
  const rev = table.revision(db.readTxn());
  db.write(table, (w) => {
    try {
      table.compareAndSwap(w, cur.revision, obj(1, ['d']));
      assert.unreachable();
    } catch (e) {
      assert.instance(e, RevisionNotEqualError);
      assert.equal((e as RevisionNotEqualError<Obj>).current.object.tags, ['c']);
    }
    throwsA(() => table.compareAndSwap(w, 1, obj(99)), ObjectNotFoundError);
    const refused = obj(1, ['e']);
    throwsA(() => table.compareAndSwap(w, 0, refused), RevisionNotEqualError, 'revision 0 is not special');
    assert.not.ok(Object.isFrozen(refused), 'a refused object is not frozen');
    assert.equal(table.get(w, table.primary.query(1))?.tags, ['c']);
  });
  assert.is(table.revision(db.readTxn()), rev);
  assert.is(table.get(db.readTxn(), table.primary.query(99)), undefined);
  db.write(table, (w) => assert.is(table.compareAndDelete(w, 5, obj(42)), undefined));

  const stored = table.get(db.readTxn(), table.primary.query(1))!;
  db.write(table, (w) => throwsA(() => table.insert(w, stored), SameObjectError));
});

test('14. the changes stream', () => {
  const { db, table } = objTable();
  db.write(table, (w) => {
    table.insert(w, obj(1));
    table.insert(w, obj(2));
  });
  db.write(table, (w) => {
    table.insert(w, obj(9));
    table.delete(w, obj(9)); // before the iterator: never reported
  });
  using it = table.changes();
  const first = it.next();
  assert.equal(changeList(first.changes), ['upsert 1@1', 'upsert 2@2']);
  assert.is(first.watch.closed, true);
  const second = it.next();
  assert.equal(changeList(second.changes), []);
  assert.is(second.watch.closed, false);

  db.write(table, (w) => {
    table.insert(w, obj(1, ['x']));
    table.delete(w, obj(2));
  });
  assert.is(second.watch.closed, true);
  assert.equal(changeList(it.next().changes), ['upsert 1@5', 'delete 2@6']);

  db.write(table, (w) => table.insert(w, obj(3)));
  db.write(table, (w) => table.delete(w, obj(3)));
  assert.equal(changeList(it.next().changes), ['delete 3@8']);

  db.write(table, (w) => table.delete(w, obj(1)));
  db.write(table, (w) => table.insert(w, obj(1, ['back'])));
  assert.equal(changeList(it.next().changes), ['upsert 1@10']);

  // Half a sequence, then next again: nothing lost or repeated.
  db.write(table, (w) => {
    for (const id of [20, 21, 22, 23]) table.insert(w, obj(id));
  });
  db.write(table, (w) => table.delete(w, obj(21)));
  const seen: string[] = [];
  for (const c of it.next().changes) {
    seen.push(...changeList([c]));
    if (seen.length === 2) break;
  }
  seen.push(...changeList(it.next().changes));
  assert.equal(seen, ['upsert 20@11', 'upsert 22@13', 'upsert 23@14', 'delete 21@15']);
});

test('15. graveyard retention and collection', () => {
  const { db, table } = objTable();
  db.write(table, (w) => [1, 2, 3].forEach((id) => table.insert(w, obj(id))));
  const it1 = table.changes();
  const it2 = table.changes();
  drain(it1);
  drain(it2);
  db.write(table, (w) => {
    table.delete(w, obj(1));
    table.delete(w, obj(2));
  });
  assert.is(table.graveyardSize, 2);
  drain(it1);
  assert.is(table.graveyardSize, 2, 'kept until both iterators saw the deletions');
  drain(it2);
  assert.is(table.graveyardSize, 0, 'collected once both have');
  it1.close();
  it2.close();
  it2.close(); // idempotent
  db.write(table, (w) => table.delete(w, obj(3)));
  assert.is(table.graveyardSize, 0, 'not retained without iterators');
  assert.is(table.deleteTrackers, 0);
});

test('16. initializers', () => {
  const { db, table } = namedTable();
  const fresh = table.initialized(db.readTxn());
  assert.is(fresh.initialized, true);
  assert.is(fresh.watch.closed, true);

  let doneA!: (w: Parameters<typeof table.insert>[0]) => void;
  let doneB!: typeof doneA;
  db.write(table, (w) => {
    doneA = table.registerInitializer(w, 'a');
    doneB = table.registerInitializer(w, 'b');
  });
  const r1 = db.readTxn();
  const s1 = table.initialized(r1);
  assert.is(s1.initialized, false);
  assert.is(s1.watch.closed, false);
  assert.equal(table.pendingInitializers(r1), ['a', 'b']);
  db.write(table, (w) => doneA(w));
  assert.is(table.initialized(db.readTxn()).initialized, false);
  assert.is(s1.watch.closed, false);
  const beforeLast = db.readTxn();
  const w = db.writeTxn(table);
  doneB(w);
  assert.is(table.initialized(w).initialized, true);
  assert.is(s1.watch.closed, false, 'stays open until the commit');
  w.commit();
  assert.is(s1.watch.closed, true);
  assert.is(table.initialized(db.readTxn()).initialized, true);
  assert.is(table.initialized(beforeLast).initialized, false);

  db.write(table, (w) => table.registerInitializer(w, 'c'));
  const s2 = table.initialized(db.readTxn());
  assert.is(s2.initialized, false);
  assert.is(s2.watch.closed, false);
  assert.ok(s2.watch !== s1.watch);
  db.write(table, (w) => throwsA(() => table.registerInitializer(w, 'c'), InitializerError));
});

test.run();

export type { Named };
