// Fault injection: thousands of random inserts, updates and deletes while
// every operation fails with probability 0.1 (seeded). Afterwards the target
// must equal the table exactly and every row must be done.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { seededRandom, settle } from '../../reconcilers/index.js';
import { pending, startItems } from './fixture.js';

const KEYS = 150;
const OPERATIONS = 3000;
const FAILURE_RATE = 0.1;

type Mode = 'single' | 'batch' | 'async';

async function run(seed: number, mode: Mode): Promise<void> {
  const random = seededRandom(seed);
  const h = startItems(
    { retry: { minMs: 10, maxMs: 1000, jitter: 0.5 }, random: seededRandom(seed + 1), pruneIntervalMs: 5000, roundSize: 64 },
    { batch: mode === 'batch' },
  );
  h.target.async = mode === 'async';
  // Left over from "a previous run": prune must remove it.
  h.target.state.set(KEYS + 1, 'stale');
  h.target.fail = () => random() < FAILURE_RATE;
  try {
    let done = 0;
    let version = 0;
    while (done < OPERATIONS) {
      const n = 1 + Math.floor(random() * 8);
      h.write((txn) => {
        for (let i = 0; i < n; i++, done++) {
          const id = 1 + Math.floor(random() * KEYS);
          if (random() < 0.3) h.table.delete(txn, pending(id));
          else h.table.insert(txn, pending(id, `v${++version}`));
        }
      });
      const r = random();
      if (r < 0.3) await h.clock.advance(Math.floor(random() * 40));
      else if (r < 0.6) await settle(1);
    }
    // Let retries (which keep failing 10% of the time) converge.
    for (let i = 0; i < 300; i++) {
      const rows = [...h.table.all(h.db.readTxn())].map((e) => e.object);
      if (rows.every((o) => o.status.kind === 'done') && h.reconciler.health.level === 'ok' && !h.target.state.has(KEYS + 1)) {
        break;
      }
      await h.clock.advance(1000);
    }
    const rows = [...h.table.all(h.db.readTxn())].map((e) => e.object);
    const notDone = rows.filter((o) => o.status.kind !== 'done').map((o) => `${o.id}: ${o.status.format(h.clock.now())}`);
    assert.equal(notDone, [], 'every status is done');
    const desired = new Map(rows.map((o) => [o.id, o.value]));
    const target = new Map([...h.target.state].sort((a, b) => a[0] - b[0]));
    assert.equal(target, new Map([...desired].sort((a, b) => a[0] - b[0])), 'the target equals the table');
    assert.is(h.reconciler.health.level, 'ok', h.reconciler.health.message);
    assert.is(h.reconciler.progress.retryLowWatermark, 0);
    const failures = h.target.log.filter((l) => l.endsWith(' fail')).length;
    assert.ok(failures > 100, `faults were injected (${failures})`);
  } finally {
    await h.reconciler.stop();
  }
}

const faults = suite('fault injection (p = 0.1)');

for (const mode of ['single', 'batch', 'async'] as const) {
  for (const seed of [1, 2, 3]) {
    faults(`${mode} operations, seed ${seed}: the target converges to the table`, () => run(seed * 7919, mode));
  }
}

faults.run();
