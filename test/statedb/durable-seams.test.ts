// The core seams the durable layer stands on: a prepare-commit hook that runs
// before a commit is visible and aborts it by throwing, and a new-table hook
// that can refuse a table.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB, InvalidSchemaError, Keys, TransactionClosedError, uniqueIndex } from '../../statedb/index.js';
import type { CommitEvent } from '../../statedb/index.js';
import { ids, obj, objTable, throwsA } from './fixtures.js';
import type { Obj } from './fixtures.js';

const prepare = suite('prepare-commit hook');

prepare('sees the net changes before they are visible, and commit hooks get the same event', () => {
  const { db, table } = objTable();
  const seen: { event: CommitEvent; visibleObjects: number }[] = [];
  const after: CommitEvent[] = [];
  db.onPrepareCommit((event) => seen.push({ event, visibleObjects: table.numObjects(db.readTxn()) }));
  db.onCommit((e) => after.push(e));
  db.write(table, (w) => {
    table.insert(w, obj(1));
    table.insert(w, obj(2));
    table.delete(w, obj(2));
  });
  assert.is(seen.length, 1);
  assert.is(seen[0]!.visibleObjects, 0, 'the hook runs before the new root is visible');
  const t = seen[0]!.event.tables[0]!;
  assert.is(t.revision, 3);
  assert.equal(
    t.upserted.map((e) => (e.object as Obj).id),
    [1],
  );
  assert.equal(
    t.deleted.map((e) => (e.object as Obj).id),
    [2],
  );
  assert.is(after[0], seen[0]!.event, 'the event is built once');
  db.writeTxn(table).commit();
  assert.is(seen.length, 1, 'an empty commit runs no hook');
});

prepare('a throwing hook aborts the commit: nothing visible, no watch closed, revision kept, locks released', () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(1)));
  const before = db.readTxn();
  const { watch } = table.getWatch(before, table.primary.query(2));
  let fail = true;
  const committed: CommitEvent[] = [];
  db.onCommit((e) => committed.push(e));
  db.onPrepareCommit(() => {
    if (fail) throw new Error('disk full');
  });
  assert.throws(() => db.write(table, (w) => table.insert(w, obj(2))), /disk full/);
  assert.is(db.readTxn(), before, 'the root did not move');
  assert.is(table.revision(db.readTxn()), 1);
  assert.equal(ids(table.all(db.readTxn())), [1]);
  assert.not.ok(watch.closed, 'no watch closed');
  assert.is(committed.length, 0, 'commit hooks did not run');

  const txn = db.writeTxn(table);
  table.insert(txn, obj(3));
  assert.throws(() => txn.commit(), /disk full/);
  assert.is(txn.status, 'aborted');
  throwsA(() => table.insert(txn, obj(4)), TransactionClosedError);

  fail = false;
  db.write(table, (w) => table.insert(w, obj(2))); // the table is not left locked
  assert.equal(ids(table.all(db.readTxn())), [1, 2]);
  assert.is(table.revision(db.readTxn()), 2, 'the failed commits took no revision');
  assert.ok(watch.closed);
});

prepare('a hook removed is not called', () => {
  const { db, table } = objTable();
  let calls = 0;
  const off = db.onPrepareCommit(() => calls++);
  db.write(table, (w) => table.insert(w, obj(1)));
  off();
  db.write(table, (w) => table.insert(w, obj(2)));
  assert.is(calls, 1);
});

prepare.run();

const newTable = suite('new-table hook and durable definitions');

newTable('a throwing hook refuses the table, which stays unregistered', () => {
  const db = new DB({ validate: true });
  const seen: { name: string; durable: boolean }[] = [];
  db.onNewTable((t) => {
    seen.push({ ...t });
    if (t.durable) throw new Error(`no durable table ${t.name} now`);
  });
  db.newTable({ name: 'plain', primary: uniqueIndex('id', Keys.u32, (o: Obj) => o.id) });
  assert.throws(
    () => db.newTable({ name: 'kept', durable: true, primary: uniqueIndex('id', Keys.u32, (o: Obj) => o.id) }),
    /no durable table kept/,
  );
  assert.equal(seen, [
    { name: 'plain', durable: false },
    { name: 'kept', durable: true },
  ]);
  assert.is(db.table('kept'), undefined);
  assert.equal(
    db.tables().map((t) => t.name),
    ['plain'],
  );
});

newTable('durable, version and codec are kept on the table; a bad version is refused', () => {
  const db = new DB({ validate: true });
  const codec = { encode: (o: Obj) => [o.id], decode: (s: unknown) => obj((s as number[])[0]!) };
  const t = db.newTable({
    name: 'd',
    durable: true,
    version: 3,
    codec,
    primary: uniqueIndex('id', Keys.u32, (o: Obj) => o.id),
  });
  assert.is(t.durable, true);
  assert.is(t.version, 3);
  assert.is(t.codec, codec);
  const plain = db.newTable({ name: 'p', primary: uniqueIndex('id', Keys.u32, (o: Obj) => o.id) });
  assert.is(plain.durable, false);
  assert.is(plain.version, 1);
  for (const version of [0, -1, 1.5, Number.NaN]) {
    throwsA(
      () => db.newTable({ name: 'bad', durable: true, version, primary: uniqueIndex('id', Keys.u32, (o: Obj) => o.id) }),
      InvalidSchemaError,
      `version ${version}`,
    );
  }
});

newTable.run();
