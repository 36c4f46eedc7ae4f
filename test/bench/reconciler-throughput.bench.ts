// Reconciler throughput: 1,000,000 rows inserted pending in write
// transactions of 1000 with no-op operations, timed from the first insert
// until the last row is done. Baseline: the same inserts and commits with no
// reconciler, in the same run. (cilium/statedb reports ~760k objects/s on
// server hardware; the target here is >= 500k/s.) 2-core noisy VM:
// compare the ratio, not the absolute figure.
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { DB, Keys, uniqueIndex } from '../../statedb/index.js';
import type { Operations } from '../../reconcilers/index.js';
import { Reconciler, Status, statusProperty } from '../../reconcilers/index.js';
import { Report } from './harness.js';

const N = Number(process.env.FLAGELLA_BENCH_RECONCILER_N ?? 1_000_000);
const BATCH = 1000;

interface Row {
  readonly id: number;
  readonly status: Status;
}

function setup() {
  const db = new DB();
  const table = db.newTable({ name: 'bench', primary: uniqueIndex('id', Keys.u32, (r: Row) => r.id) });
  return { db, table };
}

/** Inserts N pending rows in transactions of BATCH, yielding to the event loop between them; returns the last revision. */
async function insertAll(db: DB, table: ReturnType<typeof setup>['table'], n: number): Promise<number> {
  let revision = 0;
  for (let start = 0; start < n; start += BATCH) {
    revision = db.write([table], (txn) => {
      const status = Status.pending();
      for (let id = start; id < start + BATCH; id++) table.insert(txn, { id, status });
      return table.revision(txn);
    });
    await yieldToLoop();
  }
  return revision;
}

async function baseline(n: number): Promise<number> {
  const { db, table } = setup();
  const t0 = performance.now();
  await insertAll(db, table, n);
  return performance.now() - t0;
}

async function reconciled(n: number): Promise<{ ms: number; updates: number; done: number }> {
  const { db, table } = setup();
  let updates = 0;
  const ops: Operations<Row> = {
    update() {
      updates++;
    },
    delete() {},
    prune() {},
  };
  const r = new Reconciler<Row>({ db, table, status: statusProperty<Row, 'status'>('status'), operations: ops });
  r.start();
  const t0 = performance.now();
  const last = await insertAll(db, table, n);
  await r.waitUntilReconciled(last);
  const ms = performance.now() - t0;
  await r.stop();
  let done = 0;
  for (const { object } of table.all(db.readTxn())) if (object.status.kind === 'done') done++;
  return { ms, updates, done };
}

const report = new Report(`reconciler throughput: ${N.toLocaleString('en')} rows, txns of ${BATCH}, no-op update (2-core VM)`);
// Best of two alternating runs each, after a small warm-up of both, so JIT
// warm-up and a noisy neighbour do not decide the ratio.
let base = Infinity;
let best = Infinity;
await baseline(Math.min(N, 50_000));
await reconciled(Math.min(N, 50_000));
for (let rep = 0; rep < 2; rep++) {
  globalThis.gc?.();
  base = Math.min(base, await baseline(N));
  globalThis.gc?.();
  const run = await reconciled(N);
  if (run.updates !== N || run.done !== N) throw new Error(`expected ${N} updates and done rows, got ${run.updates} / ${run.done}`);
  best = Math.min(best, run.ms);
}
report.add({
  name: 'insert + reconcile (first insert to last done)',
  value: N / (best / 1000),
  unit: 'objects/s',
  better: 'higher',
  baseline: { name: 'statedb insert+commit alone', value: N / (base / 1000) },
  target: '>= 500k/s',
});
report.print();
