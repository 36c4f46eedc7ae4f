// Acceptance check 20 (reference §14): progress, and several reconcilers on
// one table with a StatusSet.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadTxn } from '../../statedb/index.js';
import { WaitAbortedError } from '../../statedb/index.js';
import { ReconcilerStoppedError, settle, StatusSet } from '../../reconcilers/index.js';
import type { MultiItem } from './fixture.js';
import { pending, startItems, startMulti } from './fixture.js';

const progress = suite('progress');

progress('waitUntilReconciled resolves once every change up to the revision was attempted', async () => {
  const h = startItems();
  try {
    assert.equal(await h.reconciler.waitUntilReconciled(0), { revision: 0, retryLowWatermark: 0 });
    const rev = h.insert(pending(1), pending(2));
    const p = await h.reconciler.waitUntilReconciled(rev);
    assert.ok(p.revision >= rev);
    assert.is(p.retryLowWatermark, 0);
    assert.equal(h.target.take(), ['update(1)', 'update(2)']);
  } finally {
    await h.reconciler.stop();
  }
});

progress('retryLowWatermark is the failing object’s original revision while it waits for a retry', async () => {
  const h = startItems();
  try {
    h.target.fail = (op, id) => op === 'update' && id === 2;
    const r1 = h.insert(pending(1));
    const r2 = h.insert(pending(2));
    const r3 = h.insert(pending(3));
    const p = await h.reconciler.waitUntilReconciled(r3);
    assert.is(p.retryLowWatermark, r2);
    assert.ok(r1 < r2);
    // Still failing after a retry: the watermark keeps the original revision.
    await h.clock.advance(200);
    assert.is(h.reconciler.progress.retryLowWatermark, r2);
    h.target.fail = () => false;
    await h.clock.advance(400);
    assert.is(h.reconciler.progress.retryLowWatermark, 0);
  } finally {
    await h.reconciler.stop();
  }
});

progress('waits end with ReconcilerStoppedError on stop, and with WaitAbortedError on abort', async () => {
  const h = startItems();
  const ac = new AbortController();
  const aborted = h.reconciler.waitUntilReconciled(1_000_000, { signal: ac.signal });
  ac.abort();
  await aborted.then(
    () => assert.unreachable('resolved'),
    (e: unknown) => assert.instance(e, WaitAbortedError),
  );
  const waiting = h.reconciler.waitUntilReconciled(1_000_000);
  await h.reconciler.stop();
  await waiting.then(
    () => assert.unreachable('resolved'),
    (e: unknown) => assert.instance(e, ReconcilerStoppedError),
  );
});

const multi = suite('several reconcilers');

const row = (id: number, value = `v${id}`): MultiItem => ({ id, value, statuses: StatusSet.pending() });

multi('each reconciler updates once and ends done; neither reacts to the other’s status writes', async () => {
  const h = startMulti();
  try {
    const rev = h.insert(row(1), row(2));
    await h.left.reconciler.waitUntilReconciled(rev);
    await h.right.reconciler.waitUntilReconciled(rev);
    for (let i = 0; i < 5; i++) {
      const latest = h.table.revision(h.db.readTxn());
      await h.left.reconciler.waitUntilReconciled(latest);
      await h.right.reconciler.waitUntilReconciled(latest);
      await settle();
    }
    assert.equal(h.left.target.take(), ['update(1)', 'update(2)']);
    assert.equal(h.right.target.take(), ['update(1)', 'update(2)']);
    const statuses = h.get(1)!.statuses;
    assert.is(statuses.get('left').kind, 'done');
    assert.is(statuses.get('right').kind, 'done');
  } finally {
    await h.left.reconciler.stop();
    await h.right.reconciler.stop();
  }
});

multi('a failing reconciler keeps retrying without disturbing the healthy one', async () => {
  const h = startMulti();
  try {
    h.right.target.fail = (op) => op === 'update';
    const rev = h.insert(row(1));
    await h.left.reconciler.waitUntilReconciled(rev);
    await h.right.reconciler.waitUntilReconciled(rev);
    for (const delay of [200, 400, 800]) await h.clock.advance(delay);
    await settle();
    assert.equal(h.left.target.take(), ['update(1)'], 'the healthy one updated exactly once');
    assert.equal(h.right.target.take(), ['update(1) fail', 'update(1) fail', 'update(1) fail', 'update(1) fail']);
    const statuses = h.get(1)!.statuses;
    assert.is(statuses.get('left').kind, 'done');
    assert.is(statuses.get('right').kind, 'error');
    assert.is(h.left.reconciler.health.level, 'ok');
    assert.is(h.right.reconciler.health.level, 'degraded');
    assert.match(statuses.format(h.clock.now()), /^Errored: right \(update 1 failed\), Done: left \(/);
  } finally {
    await h.left.reconciler.stop();
    await h.right.reconciler.stop();
  }
});

multi('a result whose row only got another reconciler’s status is written back (no second update)', async () => {
  const h = startMulti();
  let release: (() => void) | undefined;
  try {
    const original = h.right.target.update.bind(h.right.target);
    h.right.target.update = (txn: ReadTxn, rev: number, obj: MultiItem) =>
      release !== undefined
        ? original(txn, rev, obj)
        : new Promise<void>((resolve) => (release = resolve)).then(() => original(txn, rev, obj));
    // Asynchronous on the left too, so both read the first version before either writes back.
    h.left.target.async = true;
    h.insert(row(1));
    for (let i = 0; i < 20 && release === undefined; i++) await settle(1);
    for (let i = 0; i < 20 && h.get(1)!.statuses.get('left').kind !== 'done'; i++) await settle(1);
    // left has written "done" meanwhile: a new revision of the row.
    assert.is(h.get(1)!.statuses.get('left').kind, 'done');
    assert.ok(release, 'right is updating the first version');
    release();
    await h.right.reconciler.waitUntilReconciled(h.table.revision(h.db.readTxn()));
    await settle();
    await h.right.reconciler.waitUntilReconciled(h.table.revision(h.db.readTxn()));
    assert.equal(h.right.target.take(), ['update(1)'], 'no second update');
    assert.is(h.get(1)!.statuses.get('right').kind, 'done');
    assert.is(h.get(1)!.statuses.get('left').kind, 'done');
  } finally {
    release?.();
    await h.left.reconciler.stop();
    await h.right.reconciler.stop();
  }
});

multi('a row a writer changed while keeping the pending status is reconciled again (stricter than the id check)', async () => {
  const h = startMulti();
  let release: (() => void) | undefined;
  try {
    const seen: string[] = [];
    const original = h.right.target.update.bind(h.right.target);
    h.right.target.update = (txn: ReadTxn, rev: number, obj: MultiItem) => {
      seen.push(obj.value);
      if (obj.value !== 'first') return original(txn, rev, obj);
      return new Promise<void>((resolve) => (release = resolve)).then(() => original(txn, rev, obj));
    };
    h.insert(row(1, 'first'));
    for (let i = 0; i < 20 && release === undefined; i++) await settle(1);
    // A careless writer changes the value but keeps the StatusSet (same pending id for right).
    const current = h.get(1)!;
    h.insert({ ...current, value: 'changed' });
    release!();
    for (let i = 0; i < 5; i++) {
      await h.right.reconciler.waitUntilReconciled(h.table.revision(h.db.readTxn()));
      await settle();
    }
    assert.equal(seen, ['first', 'changed']);
    assert.is(h.right.target.state.get(1), 'changed');
    assert.is(h.get(1)!.statuses.get('right').kind, 'done');
  } finally {
    release?.();
    await h.left.reconciler.stop();
    await h.right.reconciler.stop();
  }
});

progress.run();
multi.run();
