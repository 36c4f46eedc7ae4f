// Health values and the Prometheus metrics, read back from a scrape.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import type { ReadTxn } from '../../statedb/index.js';
import type { Health } from '../../reconcilers/index.js';
import { ReconcilerConfigError, settle } from '../../reconcilers/index.js';
import type { Item } from './fixture.js';
import { pending, startItems } from './fixture.js';

/** The value of one sample line of a scrape, by metric name and label text. */
function sample(text: string, name: string, labels: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${name}{${labels}}`));
  return line === undefined ? undefined : Number(line.slice(line.lastIndexOf(' ') + 1));
}

const health = suite('health');

health('ok with the object count, degraded with the first 10 errors and the rest counted', async () => {
  const h = startItems();
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2)));
    assert.is(h.reconciler.health.message, 'OK, 2 object(s)');
    h.target.fail = (op, id) => op === 'update' && id > 100;
    const rows = Array.from({ length: 15 }, (_, i) => pending(101 + i));
    await h.reconciler.waitUntilReconciled(h.insert(...rows));
    const hl = h.reconciler.health;
    assert.is(hl.level, 'degraded');
    assert.is(hl.errorCount, 15);
    assert.is(hl.errors.length, 10);
    assert.is(hl.omittedErrors, 5);
    assert.is(hl.objects, 17);
    assert.is(hl.errors[0], 'update "101": update 101 failed');
    assert.match(hl.message, /^Degraded: 15 error\(s\): update "101": update 101 failed; update "102"/);
    assert.match(hl.message, /; 5 further error\(s\) omitted$/);
  } finally {
    await h.reconciler.stop();
  }
});

health('changes are pushed to health$ and onHealth subscribers, once per change', async () => {
  const h = startItems();
  const seen: string[] = [];
  const viaObservable: Health[] = [];
  const sub = h.reconciler.health$.subscribe((x) => viaObservable.push(x));
  const off = h.reconciler.onHealth((x) => seen.push(x.level));
  try {
    h.target.fail = (op) => op === 'update';
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    await h.clock.advance(200); // a failed retry: same health, nothing new pushed
    h.target.fail = () => false;
    await h.clock.advance(400);
    off();
    await h.reconciler.waitUntilReconciled(h.insert(pending(2)));
    assert.equal(seen, ['ok', 'degraded', 'ok']);
  } finally {
    await h.reconciler.stop();
    sub.unsubscribe();
  }
  assert.equal(
    viaObservable.map((x) => x.message),
    ['OK, 0 object(s)', 'Degraded: 1 error(s): update "1": update 1 failed', 'OK, 1 object(s)', 'OK, 2 object(s)', 'Stopped'],
  );
});

const metrics = suite('metrics');

metrics('operation, error, gauge and prune metrics carry the reconciler name', async () => {
  const registry = new Registry();
  const h = startItems({ name: 'lb-services', registry, pruneIntervalMs: 60_000 });
  try {
    h.target.fail = (op, id) => (op === 'update' && id === 3) || op === 'prune';
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2), pending(3)));
    await settle();
    await h.reconciler.waitUntilReconciled(h.remove(1));
    const text = await registry.metrics();
    const l = 'reconciler="lb-services"';
    assert.is(sample(text, 'flagella_reconciler_operation_duration_seconds_count', `${l},op="update"`), 3);
    assert.is(sample(text, 'flagella_reconciler_operation_duration_seconds_count', `${l},op="delete"`), 1);
    assert.is(sample(text, 'flagella_reconciler_errors_total', `${l},op="update"`), 1);
    assert.is(sample(text, 'flagella_reconciler_errors_total', `${l},op="delete"`), 0);
    assert.is(sample(text, 'flagella_reconciler_objects_errored', l), 1);
    assert.is(sample(text, 'flagella_reconciler_objects_pending', l), 0);
    assert.is(sample(text, 'flagella_reconciler_errors_current', l), 2, 'the failing object and the failed prune');
    assert.is(sample(text, 'flagella_reconciler_prune_runs_total', l), 1);
    assert.is(sample(text, 'flagella_reconciler_prune_errors_total', l), 1);
    assert.is(sample(text, 'flagella_reconciler_prune_errors_current', l), 1);
    assert.is(sample(text, 'flagella_reconciler_prune_duration_seconds_count', l), 1);
    assert.ok(sample(text, 'flagella_reconciler_rounds_total', l)! >= 2);
    // Recovery shows in the gauges.
    h.target.fail = () => false;
    h.reconciler.triggerPrune();
    await h.clock.advance(200);
    const after = await registry.metrics();
    assert.is(sample(after, 'flagella_reconciler_errors_current', l), 0);
    assert.is(sample(after, 'flagella_reconciler_prune_errors_current', l), 0);
    assert.is(sample(after, 'flagella_reconciler_prune_runs_total', l), 2);
  } finally {
    await h.reconciler.stop();
  }
});

metrics('objects_pending counts the objects of the round in flight', async () => {
  const registry = new Registry();
  const h = startItems({ name: 'slow', registry });
  let release: (() => void) | undefined;
  try {
    const original = h.target.update.bind(h.target);
    h.target.update = (txn: ReadTxn, rev: number, obj: Item) =>
      release !== undefined
        ? original(txn, rev, obj)
        : new Promise<void>((resolve) => (release = resolve)).then(() => original(txn, rev, obj));
    const rev = h.insert(pending(1), pending(2), pending(3));
    for (let i = 0; i < 20 && release === undefined; i++) await settle(1);
    assert.is(sample(await registry.metrics(), 'flagella_reconciler_objects_pending', 'reconciler="slow"'), 3);
    release!();
    await h.reconciler.waitUntilReconciled(rev);
    assert.is(sample(await registry.metrics(), 'flagella_reconciler_objects_pending', 'reconciler="slow"'), 0);
  } finally {
    release?.();
    await h.reconciler.stop();
  }
});

metrics('batch operations are timed per batch; a name is unique per registry until stopped', async () => {
  const registry = new Registry();
  const h = startItems({ name: 'maps', registry }, { batch: true });
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2)));
    const text = await registry.metrics();
    assert.is(sample(text, 'flagella_reconciler_operation_duration_seconds_count', 'reconciler="maps",op="update_batch"'), 1);
    assert.throws(() => startItems({ name: 'maps', registry }), (e: unknown) => e instanceof ReconcilerConfigError);
  } finally {
    await h.reconciler.stop();
  }
  const again = startItems({ name: 'maps', registry });
  await again.reconciler.stop();
});

health.run();
metrics.run();
