// Service and backend IDs: first ID 1, monotonic (a released ID is not
// handed out again until the counter wraps), wrap-around skipping IDs in
// use, restored reservations, exhaustion.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { IDAllocator, IDExhaustedError } from '../../datapath/index.js';

test('IDs start at 1, stay with their key, and are not reused after release', () => {
  const a = new IDAllocator('test', 1, 100);
  assert.is(a.acquire('a'), 1);
  assert.is(a.acquire('b'), 2);
  assert.is(a.acquire('a'), 1, 'idempotent per key');
  a.release('a');
  assert.is(a.get('a'), undefined);
  assert.is(a.acquire('c'), 3, 'released 1 is not handed out again');
  assert.is(a.acquire('a'), 4, 'nor to the same key');
  assert.is(a.keyOf(4), 'a');
  assert.is(a.size, 3);
});

test('after the maximum the counter wraps and skips IDs in use', () => {
  const a = new IDAllocator('test', 1, 5); // IDs 1..4
  for (const k of ['a', 'b', 'c', 'd']) a.acquire(k);
  a.release('b');
  assert.is(a.acquire('e'), 2, 'wrapped to the only free ID');
  assert.throws(() => a.acquire('f'), (e: unknown) => e instanceof IDExhaustedError && /every ID in 1\.\.4 is in use/.test(e.message));
  a.release('a');
  a.release('c');
  assert.is(a.acquire('f'), 3, 'the scan continues from the last ID handed out');
  assert.is(a.acquire('g'), 1);
});

test('restored IDs are reserved for their keys, the counter moves past them, unclaimed ones are forgotten', () => {
  const a = new IDAllocator('test', 1, 100);
  assert.ok(a.restore('x', 7));
  assert.ok(a.restore('y', 3));
  assert.not.ok(a.restore('z', 7), 'an ID restored twice is refused');
  assert.not.ok(a.restore('w', 0), 'out of range');
  assert.is(a.get('x'), undefined, 'not claimed yet');
  assert.not.ok(a.isClaimed(7));
  assert.is(a.acquire('new'), 8, 'new IDs follow the highest restored one');
  assert.is(a.acquire('x'), 7, 'a restored key gets its ID back');
  assert.ok(a.isClaimed(7));
  assert.equal(a.forgetRestored(), [3]);
  assert.is(a.keyOf(3), undefined);
  assert.is(a.acquire('y'), 9, 'a forgotten reservation is gone for good');
});

test.run();
