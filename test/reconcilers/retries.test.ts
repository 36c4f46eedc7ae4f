// Acceptance check 18 (reference §14): failures, retries with exact backoff
// under the test clock, delete retries, and stale results.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadTxn } from '../../statedb/index.js';
import { backoffDelay, seededRandom, settle } from '../../reconcilers/index.js';
import type { Item } from './fixture.js';
import { done, pending, startItems } from './fixture.js';

const failures = suite('failures and retries');

failures('a failing update marks the row error with the message and degrades health', async () => {
  const h = startItems();
  try {
    h.target.fail = (op, id) => op === 'update' && id === 1;
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    const st = h.get(1)!.status;
    assert.is(st.kind, 'error');
    assert.is(st.error, 'update 1 failed');
    assert.is(h.reconciler.health.level, 'degraded');
    assert.match(h.reconciler.health.message, /^Degraded: 1 error\(s\): update "1": update 1 failed/);
  } finally {
    await h.reconciler.stop();
  }
});

failures('retries follow min * 2^n capped at max (min 100 ms, max 1 s, no jitter)', async () => {
  const h = startItems({ retry: { minMs: 100, maxMs: 1000, jitter: 0 } });
  try {
    h.target.fail = (op) => op === 'update';
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    assert.equal(h.target.take(), ['update(1) fail']);
    // 200, 400, 800, then capped at 1000, 1000.
    for (const delay of [200, 400, 800, 1000, 1000]) {
      await h.clock.advance(delay - 1);
      assert.equal(h.target.take(), [], `nothing before ${delay} ms`);
      await h.clock.advance(1);
      assert.equal(h.target.take(), ['update(1) fail'], `a retry at ${delay} ms`);
    }
    // Recovery: the next retry succeeds, the row is done and health is OK again.
    h.target.fail = () => false;
    await h.clock.advance(1000);
    assert.equal(h.target.take(), ['update(1)']);
    assert.is(h.get(1)!.status.kind, 'done');
    assert.is(h.reconciler.health.message, 'OK, 1 object(s)');
    assert.is(h.reconciler.progress.retryLowWatermark, 0);
    await h.clock.advance(10_000);
    assert.equal(h.target.take(), [], 'no retry after success');
  } finally {
    await h.reconciler.stop();
  }
});

failures('the default schedule: 200 ms, 400 ms, ... 51.2 s, then 60 s', () => {
  const retry = { minMs: 100, maxMs: 60_000, jitter: 0 };
  const delays = Array.from({ length: 11 }, (_, i) => backoffDelay(i + 1, retry, Math.random));
  assert.equal(delays, [200, 400, 800, 1600, 3200, 6400, 12_800, 25_600, 51_200, 60_000, 60_000]);
  assert.is(backoffDelay(5000, retry, Math.random), 60_000, 'no overflow for huge attempt counts');
});

failures('a new pending version cancels the queued retry and is reconciled instead', async () => {
  const h = startItems();
  try {
    h.target.fail = (op, id) => op === 'update' && id === 1;
    await h.reconciler.waitUntilReconciled(h.insert(pending(1, 'bad')));
    h.target.take();
    h.target.fail = () => false;
    await h.reconciler.waitUntilReconciled(h.insert(pending(1, 'good')));
    assert.equal(h.target.take(), ['update(1)']);
    assert.is(h.target.state.get(1), 'good');
    await h.clock.advance(60_000);
    assert.equal(h.target.take(), [], 'the old retry never runs');
    assert.is(h.get(1)!.status.kind, 'done');
  } finally {
    await h.reconciler.stop();
  }
});

const deletes = suite('delete retries');

deletes('a failed delete is retried until it succeeds', async () => {
  const h = startItems();
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    h.target.take();
    let failuresLeft = 3;
    h.target.fail = (op) => op === 'delete' && failuresLeft-- > 0;
    await h.reconciler.waitUntilReconciled(h.remove(1));
    assert.equal(h.target.take(), ['delete(1) fail']);
    assert.is(h.reconciler.health.level, 'degraded');
    assert.match(h.reconciler.health.message, /delete "1": delete 1 failed/);
    for (const delay of [200, 400, 800]) await h.clock.advance(delay);
    assert.equal(h.target.take(), ['delete(1) fail', 'delete(1) fail', 'delete(1)']);
    assert.is(h.target.state.has(1), false);
    assert.is(h.reconciler.health.level, 'ok');
    await h.clock.advance(60_000);
    assert.equal(h.target.take(), []);
  } finally {
    await h.reconciler.stop();
  }
});

deletes('re-inserting the row as pending drops the delete retry and runs update', async () => {
  const h = startItems();
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    h.target.fail = (op) => op === 'delete';
    await h.reconciler.waitUntilReconciled(h.remove(1));
    h.target.take();
    h.target.fail = () => false;
    await h.reconciler.waitUntilReconciled(h.insert(pending(1, 'again')));
    await h.clock.advance(60_000);
    assert.equal(h.target.take(), ['update(1)'], 'no stale delete');
    assert.is(h.target.state.get(1), 'again');
    assert.is(h.get(1)!.status.kind, 'done');
  } finally {
    await h.reconciler.stop();
  }
});

deletes('re-inserting the row with a done status also drops the delete retry (fixes the Go caveat)', async () => {
  const h = startItems();
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    h.target.fail = (op) => op === 'delete';
    await h.reconciler.waitUntilReconciled(h.remove(1));
    h.target.take();
    h.target.fail = () => false;
    await h.reconciler.waitUntilReconciled(h.insert(done(1, 'restored')));
    await h.clock.advance(60_000);
    assert.equal(h.target.take(), ['update(1)'], 'update runs, the stale delete never does');
    assert.is(h.target.state.get(1), 'restored');
  } finally {
    await h.reconciler.stop();
  }
});

deletes('deleting something the target never had is a success', async () => {
  const h = startItems();
  try {
    // Created and deleted between two rounds: only the delete is seen.
    h.write((txn) => h.table.insert(txn, pending(7)));
    const rev = h.remove(7);
    await h.reconciler.waitUntilReconciled(rev);
    assert.equal(h.target.take(), ['delete(7)']);
    assert.is(h.reconciler.health.level, 'ok');
  } finally {
    await h.reconciler.stop();
  }
});

const stale = suite('stale results');

stale('a result for a row changed while update was in flight is dropped; the new version is reconciled', async () => {
  const h = startItems();
  try {
    const seen: string[] = [];
    let release: (() => void) | undefined;
    const original = h.target.update.bind(h.target);
    h.target.update = (txn: ReadTxn, rev: number, obj: Item) => {
      seen.push(obj.value);
      if (obj.value !== 'first') return original(txn, rev, obj);
      return new Promise<void>((resolve) => (release = resolve)).then(() => original(txn, rev, obj));
    };
    h.insert(pending(1, 'first'));
    for (let i = 0; i < 20 && release === undefined; i++) await settle(1);
    assert.ok(release, 'update of the first version is in flight');
    const rev = h.insert(pending(1, 'second'));
    release();
    await h.reconciler.waitUntilReconciled(rev);
    await h.reconciler.waitUntilReconciled(h.table.revision(h.db.readTxn()));
    assert.equal(seen, ['first', 'second']);
    const row = h.get(1)!;
    assert.is(row.value, 'second', 'the stale write-back did not overwrite the new version');
    assert.is(row.status.kind, 'done');
    assert.is(h.target.state.get(1), 'second');
  } finally {
    await h.reconciler.stop();
  }
});

const jitter = suite('jitter');

jitter('delays stay within [base, base * (1 + jitter)) and are reproducible with a seed', () => {
  const retry = { minMs: 100, maxMs: 60_000, jitter: 0.5 };
  const random = seededRandom(42);
  const again = seededRandom(42);
  let spread = 0;
  for (let n = 1; n <= 12; n++) {
    const base = Math.min(60_000, 100 * 2 ** n);
    for (let i = 0; i < 200; i++) {
      const d = backoffDelay(n, retry, random);
      assert.ok(d >= base && d < base * 1.5, `delay ${d} for n=${n} outside [${base}, ${base * 1.5})`);
      assert.is(backoffDelay(n, retry, again), d);
      spread = Math.max(spread, d / base - 1);
    }
  }
  assert.ok(spread > 0.4, 'jitter actually spreads delays');
});

jitter('the engine schedules retries with jitter from its random source', async () => {
  const h = startItems({ retry: { minMs: 100, maxMs: 60_000, jitter: 0.5 }, random: () => 0.5 });
  try {
    h.target.fail = (op) => op === 'update';
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    h.target.take();
    await h.clock.advance(249); // 200 * (1 + 0.5 * 0.5) = 250
    assert.equal(h.target.take(), []);
    await h.clock.advance(1);
    assert.equal(h.target.take(), ['update(1) fail']);
  } finally {
    await h.reconciler.stop();
  }
});

failures.run();
deletes.run();
stale.run();
jitter.run();
