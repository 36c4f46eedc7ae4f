// Durable tables: the cost of a commit that also writes its rows to LMDB,
// beside the same commit on an in-memory table of the same DB (same run).
// 2-core noisy VM: compare ratios, not absolutes. Best of several rounds.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DB, Keys, nonUniqueIndex, openStore, uniqueIndex } from '../../statedb/index.js';
import type { Table } from '../../statedb/index.js';
import { Report } from './harness.js';

interface Frontend {
  readonly address: string;
  readonly service: string;
  readonly port: number;
  readonly backends: number;
}

const ROWS = 10_000;

function define(db: DB, name: string, durable: boolean): Table<Frontend, string> {
  return db.newTable({
    name,
    durable,
    primary: uniqueIndex('address', Keys.string, (f: Frontend) => f.address),
    secondary: { service: nonUniqueIndex('service', Keys.string, (f: Frontend) => f.service) },
  });
}

const row = (i: number, gen: number): Frontend => ({
  address: `10.0.${(i >> 8) & 255}.${i & 255}:80`,
  service: `ns/svc-${i % 100}`,
  port: 80,
  backends: gen,
});

/** Best of `rounds`: ns per commit of `commits` commits each rewriting `batch` rows. */
function nsPerCommit(db: DB, table: Table<Frontend, string>, batch: number, commits: number, rounds: number): number {
  let best = Infinity;
  let gen = 0;
  let next = 0;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    for (let c = 0; c < commits; c++) {
      gen++;
      db.write(table, (txn) => {
        for (let b = 0; b < batch; b++) table.insert(txn, row(next++ % ROWS, gen));
      });
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / commits);
  }
  return best;
}

const dir = mkdtempSync(join(tmpdir(), `flagella-bench-durable-${process.pid}-`));
try {
  const db = new DB({ validate: false });
  const durable = define(db, 'durable', true);
  const memory = define(db, 'memory', false);
  const plainDB = new DB({ validate: false });
  const noStore = define(plainDB, 'memory', false);
  const store = openStore(db, join(dir, 'bench.mdb'));
  const noSyncDB = new DB({ validate: false });
  const noSync = define(noSyncDB, 'durable', true);
  const noSyncStore = openStore(noSyncDB, join(dir, 'nosync.mdb'), { sync: false });
  for (const [d, t] of [[db, durable], [db, memory], [plainDB, noStore], [noSyncDB, noSync]] as const) {
    d.write(t, (txn) => {
      for (let i = 0; i < ROWS; i++) t.insert(txn, row(i, 0));
    });
  }

  const report = new Report('statedb durable tables (2-core noisy VM; best of 5 rounds; µs per commit)');
  for (const batch of [1, 100]) {
    const commits = batch === 1 ? 2000 : 200;
    const mem = nsPerCommit(db, memory, batch, commits, 5) / 1000;
    const dur = nsPerCommit(db, durable, batch, commits, 5) / 1000;
    const durNoSync = nsPerCommit(noSyncDB, noSync, batch, commits, 5) / 1000;
    report.add({
      name: `commit, batch ${batch}, durable table`,
      value: dur,
      unit: 'µs',
      better: 'lower',
      baseline: { name: 'same commit, in-memory table', value: mem },
    });
    report.add({
      name: `commit, batch ${batch}, durable table, sync: false`,
      value: durNoSync,
      unit: 'µs',
      better: 'lower',
      baseline: { name: 'same commit, in-memory table', value: mem },
    });
    if (batch === 100) {
      report.add({
        name: 'per object, batch 100, durable table',
        value: dur / batch,
        unit: 'µs',
        better: 'lower',
        baseline: { name: 'in-memory table', value: mem / batch },
      });
    }
  }
  const withStore = nsPerCommit(db, memory, 1, 2000, 5) / 1000;
  const without = nsPerCommit(plainDB, noStore, 1, 2000, 5) / 1000;
  report.add({
    name: 'commit, batch 1, in-memory table of a DB with a store',
    value: withStore,
    unit: 'µs',
    better: 'lower',
    baseline: { name: 'DB without a store', value: without },
  });
  await store.close();
  await noSyncStore.close();

  // Restart: restoring ROWS rows vs inserting them into an in-memory table.
  let restoreBest = Infinity;
  let insertBest = Infinity;
  for (let r = 0; r < 3; r++) {
    const again = new DB({ validate: false });
    define(again, 'durable', true);
    define(again, 'memory', false);
    let start = process.hrtime.bigint();
    const s = openStore(again, join(dir, 'bench.mdb'));
    restoreBest = Math.min(restoreBest, Number(process.hrtime.bigint() - start) / 1e6);
    await s.close();
    const fresh = new DB({ validate: false });
    const t = define(fresh, 'memory', false);
    const rows = Array.from({ length: ROWS }, (_, i) => row(i, 1));
    start = process.hrtime.bigint();
    fresh.write(t, (txn) => rows.forEach((x) => t.insert(txn, x)));
    insertBest = Math.min(insertBest, Number(process.hrtime.bigint() - start) / 1e6);
  }
  report.add({
    name: `openStore restoring ${ROWS / 1000}k rows`,
    value: restoreBest,
    unit: 'ms',
    better: 'lower',
    baseline: { name: `inserting ${ROWS / 1000}k rows in memory`, value: insertBest },
  });
  report.print();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
