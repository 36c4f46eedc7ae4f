// The seams for what is built on the core: commit hooks, restore, metrics,
// untyped tooling access, and validation mode catching corruption.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DB,
  describeTable,
  formatRow,
  getByString,
  KeyParseError,
  listByString,
  lowerBoundByString,
  prefixByString,
  queryByString,
  rowToJSON,
  tableByName,
  UnknownIndexError,
  UnknownTableError,
  ValidationError,
} from '../../statedb/index.js';
import type { CommitEvent, StateDBMetrics, TableFigures } from '../../statedb/index.js';
import type { BTree } from '../../statedb/btree.js';
import type { TableState } from '../../statedb/table-state.js';
import { nonUniqueStorageKey } from '../../statedb/indexes.js';
import { ids, obj, objTable, throwsA } from './fixtures.js';
import type { Obj } from './fixtures.js';

const hooks = suite('commit hook');

hooks('reports each changed table with its revision and net changes', () => {
  const { db, table } = objTable();
  const events: CommitEvent[] = [];
  const off = db.onCommit((e) => events.push(e));
  db.write(table, (w) => {
    table.insert(w, obj(1));
    table.insert(w, obj(2));
    table.insert(w, obj(1, ['x']));
    table.insert(w, obj(3));
    table.delete(w, obj(3));
  });
  db.write(table, (w) => table.delete(w, obj(2)));
  db.writeTxn(table).commit(); // nothing changed: no event
  off();
  db.write(table, (w) => table.insert(w, obj(9)));
  assert.is(events.length, 2);
  const [first, second] = events.map((e) => e.tables[0]!);
  assert.is(first!.revision, 5);
  assert.equal(
    first!.upserted.map((e) => [(e.object as Obj).id, e.revision]),
    [
      [2, 2],
      [1, 3],
    ],
  );
  assert.equal(
    first!.deleted.map((e) => [(e.object as Obj).id, e.revision]),
    [[3, 5]],
  );
  assert.equal(
    second!.deleted.map((e) => (e.object as Obj).id),
    [2],
  );
});

hooks('a throwing hook does not undo the commit', () => {
  const { db, table } = objTable();
  db.onCommit(() => {
    throw new Error('hook failed');
  });
  assert.throws(() => db.write(table, (w) => table.insert(w, obj(1))), /hook failed/);
  assert.is(table.numObjects(db.readTxn()), 1);
  db.write(table, () => {}); // the table is not left locked
});

hooks.run();

const restore = suite('restore');

restore('bulk-loads rows with their revisions into an empty table', () => {
  const { db, table } = objTable();
  const events: CommitEvent[] = [];
  db.onCommit((e) => events.push(e));
  db.write(table, (w) =>
    table.restore(
      w,
      [
        { object: obj(1, ['a']), revision: 7 },
        { object: obj(2, ['a']), revision: 3 },
      ],
      10,
    ),
  );
  const r = db.readTxn();
  assert.is(table.revision(r), 10);
  assert.is(table.getEntry(r, table.primary.query(1))?.revision, 7);
  assert.equal(ids(table.list(r, table.secondary.tags.query('a'))), [1, 2]);
  assert.equal(
    [...table.lowerBound(r, table.byRevision(0))].map((e) => e.revision),
    [3, 7],
  );
  assert.is(events[0]!.tables[0]!.restored, true);
  db.write(table, (w) => table.insert(w, obj(3)));
  assert.is(table.getEntry(db.readTxn(), table.primary.query(3))?.revision, 11);
  db.write(table, (w) => throwsA(() => table.restore(w, []), Error));
});

restore('rejects duplicate or invalid revisions', () => {
  const { db, table } = objTable();
  const w = db.writeTxn(table);
  assert.throws(
    () =>
      table.restore(w, [
        { object: obj(1), revision: 2 },
        { object: obj(2), revision: 2 },
      ]),
    /duplicate revision 2/,
  );
  w.abort();
  db.write(table, (w2) => assert.throws(() => table.restore(w2, [{ object: obj(1), revision: 0 }]), /bad/));
});

restore.run();

const tooling = suite('tooling access');

tooling('indexes by name, keys as text, rows as JSON, metadata', () => {
  const { db, table } = objTable();
  db.write(table, (w) => {
    table.insert(w, obj(1, ['a', 'b'], 'one'));
    table.insert(w, obj(12, ['ab'], 'twelve'));
  });
  const r = db.readTxn();
  const t = tableByName(db, 'objs');
  assert.is((getByString(r, t, '', '12')?.object as Obj).name, 'twelve');
  assert.is((getByString(r, t, 'id', '1')?.object as Obj).name, 'one');
  assert.equal(
    [...listByString(r, t, 'tags', 'a')].map((e) => (e.object as Obj).id),
    [1],
  );
  assert.equal(
    [...prefixByString(r, t, 'tags', 'a')].map((e) => (e.object as Obj).id),
    [1, 12],
  );
  assert.equal(
    [...lowerBoundByString(r, t, '__revision__', '2')].map((e) => e.revision),
    [2],
  );
  assert.equal(
    [...lowerBoundByString(r, t, 'name', 'p')].map((e) => (e.object as Obj).name),
    ['twelve'],
  );
  throwsA(() => queryByString(t, 'nope', 'x'), UnknownIndexError);
  throwsA(() => queryByString(t, 'id', 'x'), KeyParseError);
  throwsA(() => tableByName(db, 'missing'), UnknownTableError);
  assert.equal(rowToJSON(t, obj(5)), obj(5));
  assert.equal(formatRow(t, obj(5, ['x', 'y'])), ['5', 'x,y']);
  const info = describeTable(r, t);
  assert.equal(
    info.indexes.map((i) => `${i.name}:${i.kind}:${i.unique}:${i.keyType}`),
    ['id:primary:true:u32', 'tags:non-unique:false:string', 'name:non-unique:false:string'],
  );
  assert.is(info.objects, 2);
  assert.is(info.revision, 2);
  assert.is(info.initialized, true);
  assert.equal(info.header, ['ID', 'Tags']);
  assert.equal(
    db.tables().map((x) => x.name),
    ['objs'],
  );
});

tooling.run();

const metrics = suite('metrics hook');

metrics('receives commit durations and table figures', () => {
  const figures: TableFigures[] = [];
  const commits: string[][] = [];
  const sink: StateDBMetrics = {
    writeTxnCommitted: (tables, ms) => {
      assert.ok(ms >= 0);
      commits.push([...tables]);
    },
    tableFigures: (f) => figures.push(f),
  };
  const { db, table } = objTable(new DB({ validate: true, metrics: sink }));
  const it = table.changes();
  db.write(table, (w) => table.insert(w, obj(1)));
  db.write(table, (w) => table.delete(w, obj(1)));
  assert.equal(commits, [['objs'], ['objs']]);
  assert.equal(figures[1], { table: 'objs', objects: 0, revision: 2, graveyard: 1, deleteTrackers: 1 });
  it.close();
});

metrics.run();

const validation = suite('validation mode');

validation('detects a corrupted secondary index after the next commit', () => {
  const { db, table } = objTable();
  db.write(table, (w) => {
    table.insert(w, obj(1, ['a']));
    table.insert(w, obj(2, ['b']));
  });
  // Corrupt the committed state behind the DB's back: drop object 1's "a" tag entry.
  const st = db.readTxn().states[table.pos] as TableState<Obj>;
  const tags = (st.secondary[0] as BTree<string, never>).forWrite();
  assert.ok(tags.delete(nonUniqueStorageKey('a', '\x00\x00\x00\x01')) !== undefined);
  tags.freeze(true);
  st.secondary[0] = tags;
  const err = throwsA(() => db.write(table, (w) => table.insert(w, obj(3))), ValidationError);
  assert.match(String(err), /index "tags" misses 0x00000001 under "a"/);
});

validation('detects a stale hash index entry', () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(1)));
  const st = db.readTxn().states[table.pos] as TableState<Obj>;
  assert.ok(table.get(db.readTxn(), table.primary.query(1)), 'the index is up to date once read');
  const w = db.writeTxn(table);
  table.insert(w, obj(2));
  st.latest!.entries.delete('\x00\x00\x00\x01');
  assert.throws(() => w.commit(), /hash index/);
});

validation('is off by default outside tests and on with the option', () => {
  assert.is(new DB({ validate: false }).validate, false);
  assert.is(new DB({ validate: true }).validate, true);
  assert.is(new DB().validate, process.env.FLAGELLA_STATEDB_VALIDATE === '1');
});

validation.run();
