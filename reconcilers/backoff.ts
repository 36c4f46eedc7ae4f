// Retry delays. The n-th consecutive failure of an object (n >= 1) waits
//
//   delay(n) = min(maxMs, minMs * 2^n) * (1 + jitter * r),   r = random() in [0, 1)
//
// so with the defaults (100 ms, 1 min, jitter 0.2) the first retry comes
// 200-240 ms after the failure, then 400-480 ms, ... up to 60-72 s. Jitter
// only ever lengthens a delay: the exact exponential schedule is the lower
// bound (jitter 0 gives it exactly), and the spread keeps many objects that
// failed together (a target outage) from retrying in lockstep. Computed in
// floating point, so large n cannot overflow.
import type { RetryConfig } from './config.js';

export function backoffDelay(failures: number, retry: Required<RetryConfig>, random: () => number): number {
  const base = Math.min(retry.maxMs, retry.minMs * 2 ** failures);
  if (retry.jitter === 0) return base;
  const r = random();
  return base * (1 + retry.jitter * (r >= 0 && r < 1 ? r : 0));
}
