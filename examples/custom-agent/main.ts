// A custom agent built on the flagella library: its own table (rate-limits),
// its own reconciler writing its own pinned BPF map. It loads the desired
// limits from a JSON file, reconciles them into the map (pruning entries
// from earlier runs only once the whole file is in the table), prints the
// map, and exits, leaving the map pinned for a datapath program to read.
//
//   node --conditions=source --import tsx examples/custom-agent/main.ts \
//     --pin-root /sys/fs/bpf/rate-limits --limits limits.json
//
// Exit status: 0 all limits applied, 1 some entries were refused or failed
// (each is printed; the others are applied), 2 usage or an unusable limits
// file or pin root.
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { DB } from 'flagella/statedb';
import { Reconciler } from 'flagella/reconcilers';
import { openRateLimitMap } from './rate-limit-map.js';
import { RateLimitOperations } from './rate-limit-operations.js';
import { parseLimits, rateLimitStatus, rateLimitTable } from './rate-limits.js';

function fail(message: string, code: number): never {
  process.stderr.write(`custom-agent: ${message}\n`);
  process.exit(code);
}

const { values } = (() => {
  try {
    return parseArgs({ options: { 'pin-root': { type: 'string', default: '/sys/fs/bpf/rate-limits' }, limits: { type: 'string' } } });
  } catch (e) {
    return fail((e as Error).message, 2);
  }
})();
const limitsFile = values.limits ?? fail('usage: main.ts [--pin-root DIR] --limits FILE.json', 2);
const pinRoot = values['pin-root'];

let parsed;
try {
  parsed = parseLimits(readFileSync(limitsFile, 'utf8'));
} catch (e) {
  fail(`${limitsFile}: ${(e as Error).message}`, 2);
}
const { limits, problems } = parsed;
for (const p of problems) process.stderr.write(`custom-agent: ${limitsFile}: ${p} (skipped)\n`);

let map;
try {
  map = openRateLimitMap(pinRoot);
} catch (e) {
  fail((e as Error).message, 2);
}

const db = new DB();
const table = rateLimitTable(db);
// Prune must not run until the whole file is in the table: an initializer holds it back.
const markLoaded = db.write([table], (txn) => table.registerInitializer(txn, 'limits-file'));
const reconciler = new Reconciler({ db, table, status: rateLimitStatus, operations: new RateLimitOperations(map) });
reconciler.start();

const revision = db.write([table], (txn) => {
  for (const limit of limits) table.insert(txn, limit);
  markLoaded(txn);
  return table.revision(txn);
});

try {
  // Resolves once every row up to `revision` has been tried. With synchronous
  // operations the initial prune (due now that the table is initialized)
  // runs in that same round, before this wait resolves.
  await reconciler.waitUntilReconciled(revision);
  const failed = [...table.all(db.readTxn())].filter((e) => e.object.status.kind === 'error');
  for (const [client, v] of [...map.entries()].sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }))) {
    process.stdout.write(`${client} ${v.packetsPerSecond} pps burst ${v.burst}\n`);
  }
  for (const { object } of failed) process.stderr.write(`custom-agent: ${object.client}: ${object.status.error ?? 'failed'}\n`);
  process.stdout.write(`${reconciler.health.message}\n`);
  process.exitCode = failed.length > 0 || problems.length > 0 ? 1 : 0;
} finally {
  await reconciler.stop();
  map.close(); // the pin keeps the map (and its entries) alive
}
