// statedb core benchmarks, each beside a native Map baseline measured in the
// same run (these are 2-core noisy VMs: compare ratios, not absolutes).
// Targets from issue 2: batched insert <= 4x Map.set per object (>= 1M/s),
// get <= 2x Map.get, full iteration >= 20M objects/s.
import { DB, Keys, nonUniqueIndex, uniqueIndex } from '../../statedb/index.js';
import type { Query } from '../../statedb/index.js';
import { Report } from './harness.js';

interface Frontend {
  readonly address: string;
  readonly service: string;
  readonly port: number;
}

const ROWS = 100_000;
const SERVICES = 1000;

function makeRows(n: number, tag = 0): Frontend[] {
  const rows: Frontend[] = [];
  for (let i = 0; i < n; i++) {
    rows.push({ address: `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}:${80 + tag}`, service: `ns/svc-${i % SERVICES}`, port: 80 });
  }
  // Shuffle so inserts and lookups are not sequential.
  for (let i = rows.length - 1; i > 0; i--) {
    const j = (i * 7919 + 13) % (i + 1);
    [rows[i], rows[j]] = [rows[j]!, rows[i]!];
  }
  return rows;
}

function newTable(db = new DB({ validate: false })) {
  const table = db.newTable({
    name: 'frontends',
    primary: uniqueIndex('address', Keys.string, (f: Frontend) => f.address),
    secondary: { service: nonUniqueIndex('service', Keys.string, (f: Frontend) => f.service) },
  });
  return { db, table };
}

/** Best of `rounds` runs of fn, in ns per item. */
function nsPer(items: number, rounds: number, fn: () => unknown): number {
  let best = Infinity;
  let sink: unknown;
  for (let r = 0; r < rounds; r++) {
    const start = process.hrtime.bigint();
    sink = fn();
    const ns = Number(process.hrtime.bigint() - start);
    best = Math.min(best, ns / items);
  }
  if (sink === Symbol.for('never')) process.stdout.write('');
  return best;
}

const report = new Report('statedb core (2-core noisy VM; best of several rounds; ns per object)');

// ---- inserts ------------------------------------------------------------
let mapSetOnly = Infinity;
for (let round = 0; round < 5; round++) {
  const rows = makeRows(ROWS);
  const m = new Map<string, Frontend>();
  const start = process.hrtime.bigint();
  for (const r of rows) m.set(r.address, r);
  mapSetOnly = Math.min(mapSetOnly, Number(process.hrtime.bigint() - start) / ROWS);
}

for (const batch of [1, 100, 1000]) {
  const n = batch === 1 ? 20_000 : ROWS;
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const rows = makeRows(n);
    const { db, table } = newTable();
    const start = process.hrtime.bigint();
    for (let i = 0; i < n; i += batch) {
      const txn = db.writeTxn(table);
      const end = Math.min(n, i + batch);
      for (let j = i; j < end; j++) table.insert(txn, rows[j]!);
      txn.commit();
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / n);
  }
  report.add({
    name: `insert, batch ${batch} (1 secondary index${batch === 1 ? ', 20k rows' : ', 100k rows'})`,
    value: best,
    unit: 'ns/obj',
    better: 'lower',
    baseline: { name: 'Map.set', value: mapSetOnly },
    target: `<= 4x Map.set (>= 1M/s); here ${(1e9 / best / 1e6).toFixed(2)}M/s`,
  });
}

// ---- compare-and-swap write-backs (a reconciler's status) -------------------
{
  let best = Infinity;
  for (let round = 0; round < 3; round++) {
    const rows = makeRows(ROWS);
    const { db, table } = newTable();
    db.write(table, (txn) => {
      for (const r of rows) table.insert(txn, r);
    });
    const revisions = rows.map((r) => table.getEntry(db.readTxn(), table.primary.query(r.address))!.revision);
    const start = process.hrtime.bigint();
    for (let i = 0; i < ROWS; i += 100) {
      const txn = db.writeTxn(table);
      for (let j = i; j < i + 100; j++) table.compareAndSwap(txn, revisions[j]!, { ...rows[j]!, port: 81 });
      txn.commit();
    }
    best = Math.min(best, Number(process.hrtime.bigint() - start) / ROWS);
  }
  report.add({
    name: 'compareAndSwap, batch 100, same index keys (100k rows)',
    value: best,
    unit: 'ns/obj',
    better: 'lower',
    baseline: { name: 'Map.set', value: mapSetOnly },
  });
}

// ---- reads on a 100k table ------------------------------------------------
const rows = makeRows(ROWS);
const { db, table } = newTable();
db.write(table, (txn) => {
  for (const r of rows) table.insert(txn, r);
});
const map = new Map<string, Frontend>(rows.map((r) => [r.address, r]));
const lookupOrder = makeRows(ROWS).map((r) => r.address);
const queries: Query<Frontend>[] = lookupOrder.map((a) => table.primary.query(a));

const mapGet = nsPer(ROWS, 7, () => {
  let found = 0;
  for (const k of lookupOrder) if (map.get(k) !== undefined) found++;
  return found;
});
const getPrebuilt = nsPer(ROWS, 7, () => {
  const txn = db.readTxn();
  let found = 0;
  for (const q of queries) if (table.get(txn, q) !== undefined) found++;
  return found;
});
const getWithQuery = nsPer(ROWS, 7, () => {
  const txn = db.readTxn();
  let found = 0;
  for (const k of lookupOrder) if (table.get(txn, table.primary.query(k)) !== undefined) found++;
  return found;
});
// An older snapshot has no hash index: gets walk the tree.
const old = db.readTxn();
db.write(table, (txn) => table.insert(txn, { ...rows[0]! }));
const getOldSnapshot = nsPer(ROWS, 3, () => {
  let found = 0;
  for (const q of queries) if (table.get(old, q) !== undefined) found++;
  return found;
});
const target2x = '<= 2x Map.get';
report.add({ name: 'get by primary key (query prebuilt)', value: getPrebuilt, unit: 'ns/op', better: 'lower', baseline: { name: 'Map.get', value: mapGet }, target: target2x });
report.add({ name: 'get by primary key (query built per get)', value: getWithQuery, unit: 'ns/op', better: 'lower', baseline: { name: 'Map.get', value: mapGet }, target: target2x });
report.add({ name: 'get on an older snapshot (tree walk)', value: getOldSnapshot, unit: 'ns/op', better: 'lower', baseline: { name: 'Map.get', value: mapGet } });

const byService = new Map<string, Frontend[]>();
for (const r of rows) {
  const list = byService.get(r.service);
  if (list === undefined) byService.set(r.service, [r]);
  else list.push(r);
}
const services = [...byService.keys()];
const mapList = nsPer(ROWS, 5, () => {
  let n = 0;
  for (const s of services) for (const r of byService.get(s)!) if (r.port > 0) n++;
  return n;
});
const tableList = nsPer(ROWS, 5, () => {
  const txn = db.readTxn();
  let n = 0;
  for (const s of services) for (const e of table.list(txn, table.secondary.service.query(s))) if (e.object.port > 0) n++;
  return n;
});
report.add({ name: `list on a secondary index (${SERVICES} keys x ${ROWS / SERVICES})`, value: tableList, unit: 'ns/obj', better: 'lower', baseline: { name: 'Map<key, array> walk', value: mapList } });

const mapIter = nsPer(ROWS, 7, () => {
  let n = 0;
  for (const r of map.values()) if (r.port > 0) n++;
  return n;
});
const tableIter = nsPer(ROWS, 7, () => {
  let n = 0;
  for (const e of table.all(db.readTxn())) if (e.object.port > 0) n++;
  return n;
});
report.add({ name: 'full iteration (all)', value: tableIter, unit: 'ns/obj', better: 'lower', baseline: { name: 'Map.values()', value: mapIter }, target: `>= 20M/s; here ${(1e3 / tableIter).toFixed(1)}M/s` });

// ---- change iterator --------------------------------------------------------
{
  let replay = Infinity;
  let deletes = Infinity;
  for (let round = 0; round < 3; round++) {
    const { db: cdb, table: ct } = newTable();
    const it = ct.changes();
    cdb.write(ct, (txn) => {
      for (const r of rows) ct.insert(txn, r);
    });
    let start = process.hrtime.bigint();
    let n = 0;
    for (const c of it.next().changes) if (!c.deleted) n++;
    replay = Math.min(replay, Number(process.hrtime.bigint() - start) / n);
    cdb.write(ct, (txn) => {
      for (let i = 0; i < ROWS / 2; i++) ct.delete(txn, rows[i]!);
    });
    start = process.hrtime.bigint();
    let d = 0;
    for (const c of it.next().changes) if (c.deleted) d++;
    deletes = Math.min(deletes, Number(process.hrtime.bigint() - start) / d);
    it.close();
  }
  report.add({ name: 'change iterator: initial replay (100k upserts)', value: replay, unit: 'ns/obj', better: 'lower', baseline: { name: 'Map.values()', value: mapIter } });
  report.add({ name: 'change iterator: 50k deletes', value: deletes, unit: 'ns/obj', better: 'lower', baseline: { name: 'Map.values()', value: mapIter } });
}

// ---- heap per row -----------------------------------------------------------
const gc = (globalThis as { gc?: () => void }).gc;
if (gc !== undefined) {
  const heap = (): number => {
    gc();
    gc();
    return process.memoryUsage().heapUsed;
  };
  const objects = makeRows(ROWS);
  // Each structure is built and measured inside its own function, so it is
  // garbage by the time the next one is measured.
  const mapBytes = ((): number => {
    const base = heap();
    const m = new Map(objects.map((r) => [r.address, r]));
    const bytes = (heap() - base) / ROWS;
    if (m.size !== ROWS) throw new Error('map');
    return bytes;
  })();
  const tableBytes = ((): number => {
    const base = heap();
    const t = newTable();
    t.db.write(t.table, (txn) => {
      for (const r of objects) t.table.insert(txn, r);
    });
    // One read brings the hash index of the latest state up to date (it is built lazily).
    if (t.table.get(t.db.readTxn(), t.table.primary.query(objects[0]!.address)) === undefined) throw new Error('get');
    const bytes = (heap() - base) / ROWS;
    if (t.table.numObjects(t.db.readTxn()) !== ROWS) throw new Error('table');
    return bytes;
  })();
  report.add({ name: 'heap per row at 100k rows (1 secondary; objects excluded)', value: tableBytes, unit: 'B/row', better: 'lower', baseline: { name: 'Map of the same objects', value: mapBytes } });
}

report.print();
