// Acceptance check 19 (reference §14): pruning waits for the table to be
// initialized, then runs with the full desired set, periodically and on demand.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { settle } from '../../reconcilers/index.js';
import { pending, startItems } from './fixture.js';

const HOUR = 60 * 60_000;
const gate = suite('pruning gate');

gate('prune never runs before the table is initialized, even when triggered', async () => {
  const h = startItems({ pruneIntervalMs: HOUR }, { initializer: 'source' });
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2)));
    h.reconciler.triggerPrune();
    await settle();
    await h.clock.advance(2 * HOUR);
    assert.equal(h.target.take(), ['update(1)', 'update(2)'], 'updates only, no prune');
    h.markInitialized();
    await settle();
    assert.equal(h.target.take(), ['prune(n=2)'], 'runs once right after initialization');
    await settle();
    assert.equal(h.target.take(), [], 'the pending trigger was folded into that run');
  } finally {
    await h.reconciler.stop();
  }
});

gate('an empty table is pruned at initialization too (n = 0), removing stale target state', async () => {
  const h = startItems({ pruneIntervalMs: HOUR }, { initializer: 'source' });
  try {
    h.target.state.set(99, 'left over from a previous run');
    await settle();
    assert.equal(h.target.take(), []);
    h.markInitialized();
    await settle();
    assert.equal(h.target.take(), ['prune(n=0)']);
    assert.is(h.target.state.size, 0);
  } finally {
    await h.reconciler.stop();
  }
});

gate('prune runs again every interval and on triggerPrune()', async () => {
  const h = startItems({ pruneIntervalMs: HOUR });
  try {
    await settle();
    assert.equal(h.target.take(), ['prune(n=0)'], 'no initializer: initialized from the start');
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    h.target.take();
    await h.clock.advance(HOUR - 1);
    assert.equal(h.target.take(), []);
    await h.clock.advance(1);
    assert.equal(h.target.take(), ['prune(n=1)']);
    h.reconciler.triggerPrune();
    await settle();
    assert.equal(h.target.take(), ['prune(n=1)']);
  } finally {
    await h.reconciler.stop();
  }
});

gate('a failing prune degrades health and is not retried before the next trigger', async () => {
  const h = startItems({ pruneIntervalMs: HOUR });
  try {
    h.target.fail = (op) => op === 'prune';
    await settle();
    assert.equal(h.target.take(), ['prune(n=0) fail']);
    assert.is(h.reconciler.health.level, 'degraded');
    assert.match(h.reconciler.health.message, /prune: prune failed/);
    await h.clock.advance(HOUR - 1);
    assert.equal(h.target.take(), [], 'no retry with backoff');
    h.target.fail = () => false;
    h.reconciler.triggerPrune();
    await settle();
    assert.equal(h.target.take(), ['prune(n=0)']);
    assert.is(h.reconciler.health.level, 'ok');
  } finally {
    await h.reconciler.stop();
  }
});

gate('with pruning disabled only an explicit trigger after initialization prunes', async () => {
  const h = startItems({ pruneIntervalMs: 0 }, { initializer: 'source' });
  try {
    h.reconciler.triggerPrune();
    await h.clock.advance(3 * HOUR);
    assert.equal(h.target.take(), []);
    h.markInitialized();
    await settle();
    assert.equal(h.target.take(), ['prune(n=0)'], 'the earlier trigger runs once initialized');
    await h.clock.advance(3 * HOUR);
    assert.equal(h.target.take(), [], 'no periodic prune');
    h.reconciler.triggerPrune();
    await settle();
    assert.equal(h.target.take(), ['prune(n=0)']);
  } finally {
    await h.reconciler.stop();
  }
});

gate('an asynchronous prune gets the full desired set', async () => {
  const h = startItems({ pruneIntervalMs: HOUR }, { initializer: 'source' });
  try {
    h.target.async = true;
    h.target.state.set(5, 'stale');
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2)));
    h.markInitialized();
    await settle(5);
    assert.equal(h.target.take(), ['update(1)', 'update(2)', 'prune(n=2)']);
    assert.equal([...h.target.state.keys()].sort(), [1, 2]);
  } finally {
    await h.reconciler.stop();
  }
});

gate.run();
