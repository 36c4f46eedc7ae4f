// The hash index behind gets on the latest state catches up lazily from the
// revision log (latest-index.ts). Validation mode reads it after every
// commit, which would hide a lazy bug, so these tests run without
// validation, read only now and then, and compare with a plain Map.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DB } from '../../statedb/index.js';
import { obj, objTable } from './fixtures.js';
import type { Obj } from './fixtures.js';

type Op = { kind: 'put'; id: number; name: string } | { kind: 'delete'; id: number };
type Commit = { ops: Op[]; abort: boolean; readAfter: boolean };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('put' as const), id: fc.nat(40), name: fc.constantFrom('a', 'b', 'c') }),
  fc.record({ kind: fc.constant('delete' as const), id: fc.nat(40) }),
);
const commit: fc.Arbitrary<Commit> = fc.record({
  ops: fc.array(op, { maxLength: 30 }),
  abort: fc.boolean().map((b) => b && Math.random() < 0.3),
  readAfter: fc.boolean().map((b) => b && Math.random() < 0.3),
});

test('gets on the latest state agree with a Map, however many commits pass between reads', () => {
  fc.assert(
    fc.property(fc.array(commit, { maxLength: 25 }), (commits) => {
      const { db, table } = objTable(new DB({ validate: false }));
      const model = new Map<number, Obj>();
      const snapshots: { txn: ReturnType<DB['readTxn']>; model: Map<number, Obj> }[] = [];
      const check = (txn: ReturnType<DB['readTxn']>, m: Map<number, Obj>) => {
        for (let id = 0; id <= 40; id++) assert.equal(table.get(txn, table.primary.query(id)), m.get(id), `id ${id}`);
        assert.is(table.numObjects(txn), m.size);
      };
      for (const c of commits) {
        const w = db.writeTxn(table);
        const next = new Map(model);
        for (const o of c.ops) {
          if (o.kind === 'put') {
            const row = obj(o.id, [], o.name);
            table.insert(w, row);
            next.set(o.id, row);
          } else {
            table.delete(w, obj(o.id));
            next.delete(o.id);
          }
        }
        if (c.abort) {
          w.abort();
          continue;
        }
        w.commit();
        model.clear();
        for (const [k, v] of next) model.set(k, v);
        snapshots.push({ txn: db.readTxn(), model: new Map(model) });
        if (c.readAfter) check(db.readTxn(), model);
      }
      check(db.readTxn(), model);
      // Older snapshots walk their trees and are unaffected.
      for (const s of snapshots) check(s.txn, s.model);
    }),
    { numRuns: 150 },
  );
});

test('many deletes without a read do not keep the deleted rows in the index', () => {
  const { db, table } = objTable(new DB({ validate: false }));
  db.write(table, (w) => {
    for (let id = 0; id < 3000; id++) table.insert(w, obj(id));
  });
  assert.ok(table.get(db.readTxn(), table.primary.query(1)));
  for (let round = 0; round < 30; round++) {
    db.write(table, (w) => {
      for (let id = round * 100; id < round * 100 + 100; id++) table.delete(w, obj(id));
    });
  }
  // Churn: rows that come and go, never read.
  for (let round = 0; round < 20; round++) {
    db.write(table, (w) => {
      for (let id = 5000; id < 5100; id++) table.insert(w, obj(id));
    });
    db.write(table, (w) => {
      for (let id = 5000; id < 5100; id++) table.delete(w, obj(id));
    });
  }
  const st = table.stateOf(db.readTxn());
  // 5000 deletes, more than the index held: it caught up on its own meanwhile.
  assert.ok(st.latest!.entries.size < 3000, `index holds ${st.latest!.entries.size} rows`);
  assert.is(table.get(db.readTxn(), table.primary.query(1)), undefined);
  assert.is(st.latest!.entries.size, 0);
});

test.run();
