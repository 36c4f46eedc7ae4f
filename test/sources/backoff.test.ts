import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { Backoff, BackoffOptionsError } from '../../agent/index.js';

test('delays double from initialMs and stop at maxMs', () => {
  const b = new Backoff({ initialMs: 100, maxMs: 1000, jitter: 0 });
  assert.equal([1, 2, 3, 4, 5, 6].map(() => b.next()), [100, 200, 400, 800, 1000, 1000]);
  assert.is(b.attempts, 6);
});

test('reset starts over from initialMs', () => {
  const b = new Backoff({ initialMs: 50, maxMs: 5000, jitter: 0 });
  b.next();
  b.next();
  b.reset();
  assert.is(b.next(), 50);
});

test('jitter stays within ±jitter of the base delay, both ends reachable', () => {
  const low = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0 });
  const high = new Backoff({ initialMs: 1000, jitter: 0.2, random: () => 0.999999 });
  assert.is(low.next(), 800);
  assert.is(high.next(), 1200);
  const r = new Backoff({ initialMs: 1000, maxMs: 1000, jitter: 0.5 });
  for (let i = 0; i < 200; i++) {
    const d = r.next();
    assert.ok(d >= 500 && d <= 1500, `delay ${d}`);
  }
});

test('bad options are refused with a typed error', () => {
  assert.throws(() => new Backoff({ initialMs: 0 }), (e: unknown) => e instanceof BackoffOptionsError);
  assert.throws(() => new Backoff({ initialMs: 10, maxMs: 5 }), /initialMs <= maxMs/);
  assert.throws(() => new Backoff({ jitter: 1 }), /jitter/);
  assert.throws(() => new Backoff({ factor: 0.5 }), /factor/);
});

test.run();
