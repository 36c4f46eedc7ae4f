// Rewriting a row without changing its secondary keys (a status write-back)
// leaves the secondary indexes untouched: they keep the older entry, and
// every reader resolves it to the version its snapshot holds. These tests
// read through every query kind, on the latest state, on older snapshots,
// inside the writing transaction (before and after later writes, after
// commit and abort), and check watches and unique-constraint errors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DB, Keys, lpmIndex, multiIndex, nonUniqueIndex, UniqueConstraintError, uniqueIndex } from '../../statedb/index.js';
import type { Entry, Txn } from '../../statedb/index.js';
import { throwsA } from './fixtures.js';

interface Row {
  readonly id: number;
  readonly name: string;
  readonly group: string;
  readonly tags: readonly string[];
  readonly cidr: string;
  readonly status: string;
}

function rowsTable() {
  const db = new DB({ validate: true });
  const table = db.newTable({
    name: 'rows',
    primary: uniqueIndex('id', Keys.u32, (r: Row) => r.id),
    secondary: {
      name: uniqueIndex('name', Keys.string, (r: Row) => r.name),
      group: nonUniqueIndex('group', Keys.string, (r: Row) => r.group),
      tags: multiIndex('tags', Keys.string, (r: Row) => r.tags),
      cidr: lpmIndex('cidr', (r: Row) => r.cidr),
    },
  });
  return { db, table };
}

const row = (id: number, status = 'pending', group = 'g'): Row => ({
  id,
  name: `n${id}`,
  group,
  tags: ['t', `t${id}`],
  cidr: `10.0.${id}.0/24`,
  status,
});

type RowsTable = ReturnType<typeof rowsTable>['table'];
const statuses = (es: Iterable<Entry<Row>>) => [...es].map((e) => `${e.object.id}:${e.object.status}@${e.revision}`);

/** What every secondary query kind answers about rows 1 and 2. */
function seen(table: RowsTable, txn: Txn): Record<string, string[]> {
  const s = table.secondary;
  const one = (e: Entry<Row> | undefined) => (e === undefined ? [] : statuses([e]));
  return {
    byName: one(table.getEntry(txn, s.name.query('n1'))),
    byGroupGet: one(table.getEntry(txn, s.group.query('g'))),
    byGroup: statuses(table.list(txn, s.group.query('g'))),
    byTagPrefix: statuses(table.prefix(txn, s.tags.query('t'))),
    byTagLowerBound: statuses(table.lowerBound(txn, s.tags.query('t1'))),
    byNameLowerBound: statuses(table.lowerBound(txn, s.name.query('n'))),
    byCidr: statuses(table.list(txn, s.cidr.query('10.0.1.7'))),
    byCidrPrefix: statuses(table.prefix(txn, s.cidr.query('10.0.0.0/16'))),
  };
}

function expected(s1: string, r1: number, s2: string, r2: number): Record<string, string[]> {
  const a = `1:${s1}@${r1}`;
  const b = `2:${s2}@${r2}`;
  return {
    byName: [a],
    byGroupGet: [a],
    byGroup: [a, b],
    byTagPrefix: [a, b],
    byTagLowerBound: [a, b],
    byNameLowerBound: [a, b],
    byCidr: [a],
    byCidrPrefix: [a, b],
  };
}

test('committed readers see the rewritten version through every secondary query; older snapshots keep theirs', () => {
  const { db, table } = rowsTable();
  db.write(table, (w) => [1, 2].forEach((id) => table.insert(w, row(id))));
  const before = db.readTxn();
  db.write(table, (w) => table.insert(w, row(1, 'done')));
  const after = db.readTxn();
  db.write(table, (w) => table.insert(w, row(2, 'done')));
  assert.equal(seen(table, before), expected('pending', 1, 'pending', 2));
  assert.equal(seen(table, after), expected('done', 3, 'pending', 2));
  assert.equal(seen(table, db.readTxn()), expected('done', 3, 'done', 4));
  // A rewrite that does change a key still moves the row.
  db.write(table, (w) => table.insert(w, row(2, 'done', 'h')));
  assert.equal(statuses(table.list(db.readTxn(), table.secondary.group.query('h'))), ['2:done@5']);
  assert.equal(statuses(table.list(db.readTxn(), table.secondary.group.query('g'))), ['1:done@3']);
});

test('inside the writing transaction: queries see its rewrites, and results taken earlier keep their moment', () => {
  const { db, table } = rowsTable();
  db.write(table, (w) => [1, 2].forEach((id) => table.insert(w, row(id))));
  const w = db.writeTxn(table);
  table.insert(w, row(1, 'done'));
  assert.equal(seen(table, w), expected('done', 3, 'pending', 2));
  const taken = table.list(w, table.secondary.group.query('g'));
  const takenByTag = table.prefix(w, table.secondary.tags.query('t'));
  table.insert(w, row(1, 'failed'));
  table.insert(w, row(2, 'done'));
  assert.equal(statuses(taken), ['1:done@3', '2:pending@2']);
  assert.equal(seen(table, w), expected('failed', 4, 'done', 5));
  w.commit();
  assert.equal(statuses(taken), ['1:done@3', '2:pending@2'], 'unchanged after commit');
  assert.equal(statuses(takenByTag), ['1:done@3', '2:pending@2']);
  assert.equal(seen(table, db.readTxn()), expected('failed', 4, 'done', 5));

  const w2 = db.writeTxn(table);
  table.insert(w2, row(2, 'aborted'));
  const inAborted = table.list(w2, table.secondary.group.query('g'));
  w2.abort();
  assert.equal(statuses(inAborted), ['1:failed@4', '2:aborted@6'], 'unchanged after abort');
  assert.equal(seen(table, db.readTxn()), expected('failed', 4, 'done', 5));
  db.write(table, (w3) => table.insert(w3, row(1, 'again')));
  assert.equal(statuses(inAborted), ['1:failed@4', '2:aborted@6'], 'and after a commit reusing its revisions');
  assert.equal(seen(table, db.readTxn()), expected('again', 6, 'done', 5));
});

test('a same-key rewrite closes the watches on that key and no others; stale snapshots get closed watches', () => {
  const { db, table } = rowsTable();
  db.write(table, (w) => [1, 2].forEach((id) => table.insert(w, row(id, 'pending', `g${id}`))));
  const r = db.readTxn();
  const g = table.secondary.group;
  const w1 = table.getWatch(r, g.query('g1')).watch;
  const w2 = table.getWatch(r, g.query('g2')).watch;
  const n1 = table.getWatch(r, table.secondary.name.query('n1')).watch;
  const all = table.lowerBoundWatch(r, g.query('')).watch;
  db.write(table, (w) => table.insert(w, row(1, 'done', 'g1')));
  assert.ok(w1.closed && n1.closed && all.closed);
  assert.not.ok(w2.closed, 'the other row is untouched');
  assert.ok(table.getWatch(r, g.query('g1')).watch.closed, 'an old snapshot of a rewritten index gets a closed watch');
  assert.not.ok(table.getWatch(db.readTxn(), g.query('g1')).watch.closed);
});

test('a unique-constraint error names the current version of the holder', () => {
  const { db, table } = rowsTable();
  db.write(table, (w) => table.insert(w, row(1)));
  db.write(table, (w) => table.insert(w, row(1, 'done')));
  db.write(table, (w) => {
    table.insert(w, row(1, 'failed'));
    const err = throwsA(() => table.insert(w, { ...row(9), name: 'n1' }), UniqueConstraintError);
    assert.is((err as UniqueConstraintError<Row>).existing.status, 'failed');
  });
  const err = db.write(table, (w) => throwsA(() => table.insert(w, { ...row(9), name: 'n1' }), UniqueConstraintError));
  assert.is((err as UniqueConstraintError<Row>).existing.status, 'failed');
});

test.run();
