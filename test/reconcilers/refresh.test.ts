// Refresh: done rows older than the interval are re-marked refreshing at a
// limited rate, and update repairs drift in the target.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Status } from '../../reconcilers/index.js';
import { pending, startItems } from './fixture.js';

const refresh = suite('refresh');
const SECOND = 1000;

refresh('a done row older than the interval is updated again, repairing drift', async () => {
  const h = startItems({ refreshIntervalMs: 10 * SECOND });
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    h.target.take();
    h.target.state.delete(1); // drift: someone removed it from the target behind our back
    await h.clock.advance(10 * SECOND - 1);
    assert.equal(h.target.take(), []);
    await h.clock.advance(1);
    assert.equal(h.target.take(), ['update(1)']);
    assert.is(h.target.state.get(1), 'v1');
    const row = h.get(1)!;
    assert.is(row.status.kind, 'done');
    assert.is(row.status.updatedAt, h.clock.now());
    // And again one interval later.
    await h.clock.advance(10 * SECOND);
    assert.equal(h.target.take(), ['update(1)']);
  } finally {
    await h.reconciler.stop();
  }
});

refresh('rows are re-marked at the refresh rate, oldest first', async () => {
  const h = startItems({ refreshIntervalMs: 10 * SECOND, refreshRate: { perSecond: 1, burst: 1 } });
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    await h.clock.advance(SECOND);
    await h.reconciler.waitUntilReconciled(h.insert(pending(2)));
    await h.clock.advance(SECOND);
    await h.reconciler.waitUntilReconciled(h.insert(pending(3)));
    h.target.take();
    await h.clock.advance(8 * SECOND); // t = 10 s: row 1 is due
    assert.equal(h.target.take(), ['update(1)']);
    await h.clock.advance(SECOND); // row 2 due at 11 s, one token per second
    assert.equal(h.target.take(), ['update(2)']);
    await h.clock.advance(SECOND);
    assert.equal(h.target.take(), ['update(3)']);
  } finally {
    await h.reconciler.stop();
  }
});

refresh('a burst of due rows is spread at the refresh rate', async () => {
  const h = startItems({ refreshIntervalMs: 10 * SECOND, refreshRate: { perSecond: 2, burst: 1 } });
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2), pending(3), pending(4)));
    h.target.take();
    await h.clock.advance(10 * SECOND);
    assert.equal(h.target.take().length, 1, 'one token at once');
    await h.clock.advance(SECOND);
    assert.equal(h.target.take().length, 2, 'then two per second');
    await h.clock.advance(SECOND);
    assert.equal(h.target.take().length, 1);
  } finally {
    await h.reconciler.stop();
  }
});

refresh('error rows are left to their retries; a failing refresh is retried with backoff', async () => {
  const h = startItems({ refreshIntervalMs: 10 * SECOND });
  try {
    h.target.fail = (op, id) => op === 'update' && id === 2;
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2)));
    assert.is(h.get(2)!.status.kind, 'error');
    await h.clock.advance(10 * SECOND - 1);
    h.target.fail = (op) => op === 'update';
    await h.clock.advance(1);
    // Row 2 failed at 0 and was retried by backoff at 0.2, 0.6, 1.4, 3.0 and 6.2 s;
    // the refresh at 10 s marks only the done row 1 (which now fails).
    const log = h.target.take();
    assert.is(log.filter((l) => l === 'update(2) fail').length, 6, 'no refresh of the error row');
    assert.equal(log.slice(-1), ['update(1) fail']);
    assert.is(h.get(1)!.status.kind, 'error');
    h.target.fail = () => false;
    await h.clock.advance(200);
    assert.equal(h.target.take(), ['update(1)'], 'the failed refresh is retried after 200 ms');
    assert.is(h.get(1)!.status.kind, 'done');
  } finally {
    await h.reconciler.stop();
  }
});

refresh('a row whose status is refreshing when inserted is reconciled', async () => {
  const h = startItems();
  try {
    const rev = h.insert({ id: 1, value: 'v1', status: Status.refreshing(h.clock) });
    await h.reconciler.waitUntilReconciled(rev);
    assert.equal(h.target.take(), ['update(1)']);
  } finally {
    await h.reconciler.stop();
  }
});

refresh.run();
