// Change iterators beyond the acceptance checks: committed-only reads,
// closing, the FinalizationRegistry backstop, stale snapshots.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StaleSnapshotError, StateDBError } from '../../statedb/index.js';
import type { Change } from '../../statedb/index.js';
import { obj, objTable, throwsA } from './fixtures.js';
import type { Obj } from './fixtures.js';

const list = (cs: Iterable<Change<Obj>>) => [...cs].map((c) => `${c.deleted ? '-' : '+'}${c.object.id}`);

test('next(wtxn) reports committed changes only, deletes included', () => {
  const { db, table } = objTable();
  db.write(table, (w) => [1, 2].forEach((id) => table.insert(w, obj(id))));
  const it = table.changes();
  assert.equal(list(it.next().changes), ['+1', '+2']);
  const w = db.writeTxn(table);
  table.delete(w, obj(1));
  table.insert(w, obj(3));
  assert.equal(list(it.next(w).changes), [], 'uncommitted writes are invisible');
  w.commit();
  assert.equal(list(it.next().changes), ['-1', '+3']);
  it.close();
});

test('an aborted delete never appears and does not reuse revisions', () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(1)));
  const it = table.changes();
  list(it.next().changes);
  const w = db.writeTxn(table);
  table.delete(w, obj(1));
  w.abort();
  db.write(table, (w2) => table.insert(w2, obj(2)));
  assert.equal(list(it.next().changes), ['+2']);
  assert.is(table.graveyardSize, 0);
  it.close();
});

test('drained: the watch is open and next does not spin', () => {
  const { db, table } = objTable();
  const it = table.changes();
  for (let i = 0; i < 3; i++) {
    const b = it.next();
    assert.equal(list(b.changes), []);
    assert.is(b.watch.closed, false);
  }
  db.write(table, (w) => table.insert(w, obj(1)));
  const b = it.next();
  assert.is(b.watch.closed, true, 'changes pending: poll again');
  assert.equal(list(b.changes), ['+1']);
  assert.is(it.next().watch.closed, false);
  it.close();
});

test('a snapshot older than the iterator is refused; next after close throws', () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(1)));
  const old = db.readTxn();
  db.write(table, (w) => table.delete(w, obj(1)));
  const it = table.changes();
  throwsA(() => it.next(old), StaleSnapshotError);
  it.close();
  it.close();
  throwsA(() => it.next(), StateDBError);
});

test('closing mid-iteration stops the sequence and frees retained deletes', () => {
  const { db, table } = objTable();
  db.write(table, (w) => [1, 2, 3].forEach((id) => table.insert(w, obj(id))));
  const it = table.changes();
  list(it.next().changes);
  db.write(table, (w) => [1, 2, 3].forEach((id) => table.delete(w, obj(id))));
  assert.is(table.graveyardSize, 3);
  const seen: string[] = [];
  for (const c of it.next().changes) {
    seen.push(...list([c]));
    it.close();
  }
  assert.equal(seen, ['-1']);
  assert.is(table.graveyardSize, 0);
});

test('a leaked iterator is untracked by the FinalizationRegistry backstop', async () => {
  setFlagsFromString('--expose-gc');
  const gc = runInNewContext('gc') as () => void;
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(1)));
  (() => {
    const leaked = table.changes();
    list(leaked.next().changes);
  })();
  db.write(table, (w) => table.delete(w, obj(1)));
  assert.is(table.deleteTrackers, 1);
  for (let i = 0; i < 50 && table.deleteTrackers > 0; i++) {
    gc();
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.is(table.deleteTrackers, 0, 'the tracker went with the iterator');
  assert.is(table.graveyardSize, 0);
});

test('updates collapse to the latest version, in revision order across objects', () => {
  const { db, table } = objTable();
  const it = table.changes();
  db.write(table, (w) => {
    table.insert(w, obj(1, ['a']));
    table.insert(w, obj(2));
    table.insert(w, obj(1, ['b']));
  });
  const got = [...it.next().changes].map((c) => [c.object.id, c.revision, c.object.tags.join()]);
  assert.equal(got, [
    [2, 2, ''],
    [1, 3, 'b'],
  ]);
  it.close();
});

test.run();
