// A minimal load-balancing agent as its own process, for the restart test:
// loads (or re-loads) the datapath under a pin root, feeds the Kubernetes
// objects of the given YAML files through the writer as one source's
// initial sync, waits until every frontend is reconciled and the initial
// prune has run, and prints one JSON line: the writes it made to the maps
// (counted below the operations), the frontends' IDs and the map dump.
//
//   node --import tsx agent-process.ts <json: {pinRoot, files, maglevTableSize?, defaultAlgorithm?}>
import { readFileSync } from 'node:fs';
import { parseObjectFile } from '../../agent/index.js';
import { countingLBMaps, formatLBDump, kernelLBMaps, LBOperations, loadDatapath, newLBReconciler } from '../../datapath/index.js';
import type { ReadTxn } from '../../statedb/index.js';
import { DB } from '../../statedb/index.js';
import { formatL3n4Addr, LBWriter, newLBTables, type Frontend, type LBAlgorithm } from '../../tables/index.js';

interface Spec {
  pinRoot: string;
  files: string[];
  maglevTableSize?: number;
  defaultAlgorithm?: LBAlgorithm;
}

const spec = JSON.parse(process.argv[2] ?? '{}') as Spec;
const dp = loadDatapath({ pinRoot: spec.pinRoot, config: { maglevTableSize: spec.maglevTableSize ?? 1021 } });
const maps = countingLBMaps(kernelLBMaps(dp));

class ObservedOperations extends LBOperations {
  prunes = 0;
  override prune(txn: ReadTxn, desired: Iterable<Frontend>): void {
    super.prune(txn, desired);
    this.prunes++;
  }
}

const db = new DB();
const tables = newLBTables(db);
const writer = new LBWriter(db, tables, { nodeName: 'testnode' });
const init = writer.registerInitializer('files', ['Service', 'EndpointSlice', 'Node']);
const ops = new ObservedOperations({ tables, maps, ...(spec.defaultAlgorithm ? { defaultAlgorithm: spec.defaultAlgorithm } : {}) });
const reconciler = newLBReconciler({ db, tables, operations: ops, retry: { minMs: 1, maxMs: 10 }, refreshIntervalMs: 0 });
reconciler.start();

const changes = spec.files.flatMap((f) => {
  const parsed = parseObjectFile(f, readFileSync(f, 'utf8'));
  if (parsed.problems.length > 0) throw new Error(parsed.problems.map((p) => p.message).join('; '));
  return parsed.objects.map((o) => ({ type: 'upsert' as const, kind: o.kind, object: o.object }));
});
const errors = writer.apply(changes).errors.map((e) => e.error.message);
init.markDone();

const deadline = Date.now() + 20_000;
for (;;) {
  const progress = await reconciler.waitUntilReconciled(tables.frontends.revision(db.readTxn()));
  const rows = [...tables.frontends.all(db.readTxn())].map((e) => e.object);
  if (progress.retryLowWatermark === 0 && ops.prunes > 0 && rows.every((r) => r.status.kind === 'done')) break;
  if (Date.now() > deadline) throw new Error('not reconciled within 20 s');
  await new Promise((r) => setTimeout(r, 5));
}
await reconciler.stop();
const ids = Object.fromEntries([...tables.frontends.all(db.readTxn())].map((e) => [formatL3n4Addr(e.object.address), e.object.id]));
process.stdout.write(`${JSON.stringify({ errors, writes: maps.counts(), ids, dump: formatLBDump(maps) })}\n`);
dp.close();
process.exit(0);
