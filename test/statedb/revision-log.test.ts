// The revision index is one append-only log shared by every snapshot of a
// table (revision-log.ts): snapshots must not see later appends or stamps,
// aborts must take theirs back, and compaction must leave old snapshots
// intact. Validation mode (on here) checks the log after every commit.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { StateDBError } from '../../statedb/index.js';
import type { Entry, ReadTxn, Txn } from '../../statedb/index.js';
import { obj, objTable, throwsA } from './fixtures.js';
import type { Obj } from './fixtures.js';

type ObjTable = ReturnType<typeof objTable>['table'];

/** [id, revision] in revision order, as `txn` sees the revision index. */
function byRevision(table: ObjTable, txn: Txn, from = 0): [number, number][] {
  return [...table.lowerBound(txn, table.byRevision(from))].map((e: Entry<Obj>) => [e.object.id, e.revision]);
}

/** Internal: how many entries the table's latest revision log holds (live and superseded). */
function logLength(table: ObjTable, txn: ReadTxn): number {
  return table.stateOf(txn).revisions.entries.length;
}

test('replaces and deletes in an aborted transaction leave every snapshot as it was, and revisions are reused', () => {
  const { db, table } = objTable();
  db.write(table, (w) => [1, 2, 3].forEach((id) => table.insert(w, obj(id))));
  const before = db.readTxn();
  const w = db.writeTxn(table);
  table.insert(w, obj(1, ['x']));
  table.delete(w, obj(2));
  table.insert(w, obj(4));
  assert.equal(byRevision(table, w), [[3, 3], [1, 4], [4, 6]], 'the open write sees its own changes');
  w.abort();
  assert.equal(byRevision(table, before), [[1, 1], [2, 2], [3, 3]]);
  assert.equal(byRevision(table, db.readTxn()), [[1, 1], [2, 2], [3, 3]]);
  assert.equal(byRevision(table, w), [[1, 1], [2, 2], [3, 3]], 'reads through the aborted write see what it started from');
  assert.is(table.getEntry(db.readTxn(), table.byRevision(2))?.object.id, 2);
  db.write(table, (w2) => table.insert(w2, obj(2, ['y'])));
  assert.equal(byRevision(table, db.readTxn()), [[1, 1], [3, 3], [2, 4]]);
  assert.equal(byRevision(table, before), [[1, 1], [2, 2], [3, 3]]);
  assert.is(logLength(table, db.readTxn()), 4);
});

test('a revision-index query inside a write transaction is a snapshot of that moment', () => {
  const { db, table } = objTable();
  db.write(table, (w) => [1, 2].forEach((id) => table.insert(w, obj(id))));
  const w = db.writeTxn(table);
  table.insert(w, obj(3));
  const taken = table.lowerBound(w, table.byRevision(0));
  table.insert(w, obj(1, ['changed']));
  table.delete(w, obj(2));
  const ids = (es: Iterable<Entry<Obj>>) => [...es].map((e) => e.object.id);
  assert.equal(ids(taken), [1, 2, 3]);
  w.abort();
  assert.equal(ids(taken), [1, 2, 3], 'also after the abort');
  const w2 = db.writeTxn(table);
  table.insert(w2, obj(5));
  w2.commit();
  assert.equal(ids(taken), [1, 2, 3], 'and after later commits');
});

test('superseded entries are compacted away once they outnumber live ones; old snapshots keep theirs', () => {
  const { db, table } = objTable();
  db.write(table, (w) => {
    for (let id = 0; id < 100; id++) table.insert(w, obj(id));
  });
  const early = db.readTxn();
  const earlyView = byRevision(table, early);
  let maxLength = 0;
  for (let round = 0; round < 40; round++) {
    db.write(table, (w) => {
      for (let id = 0; id < 100; id++) table.insert(w, obj(id, [`r${round}`]));
    });
    maxLength = Math.max(maxLength, logLength(table, db.readTxn()));
  }
  const now = db.readTxn();
  assert.ok(maxLength <= 100 + 1024 + 100, `log stays bounded (max ${maxLength})`);
  assert.ok(logLength(table, now) < 4100, 'compaction happened');
  assert.equal(byRevision(table, early), earlyView, 'the early snapshot still sees its entries');
  const latest = byRevision(table, now);
  assert.is(latest.length, 100);
  assert.equal(latest[0], [0, 40 * 100 + 1]);
  assert.equal(byRevision(table, now, 4050), latest.slice(49));
});

test('restore accepts rows in any order and refuses a duplicate revision before writing anything', () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.restore(w, [3, 1, 2].map((id) => ({ object: obj(id), revision: id * 10 }))));
  assert.equal(byRevision(table, db.readTxn()), [[1, 10], [2, 20], [3, 30]]);
  const other = objTable();
  const w = other.db.writeTxn(other.table);
  const rows = [
    { object: obj(1), revision: 5 },
    { object: obj(2), revision: 5 },
  ];
  throwsA(() => other.table.restore(w, rows), StateDBError);
  assert.is(other.table.numObjects(w), 0);
  w.abort();
});

test.run();
