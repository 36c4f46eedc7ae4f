// A token bucket on the reconciler's clock.
import type { Clock } from './clock.js';
import type { Rate } from './config.js';

export class TokenBucket {
  private tokens: number;
  private last: number;
  private readonly perMs: number;
  private readonly burst: number;

  constructor(
    private readonly clock: Clock,
    rate: Required<Rate>,
  ) {
    this.perMs = rate.perSecond / 1000;
    this.burst = rate.burst;
    this.tokens = rate.burst;
    this.last = clock.now();
  }

  /** Takes a token and returns 0 when one is available; otherwise returns the ms until one will be (taking nothing). */
  take(): number {
    if (this.perMs === Infinity) return 0;
    const now = this.clock.now();
    if (now > this.last) {
      this.tokens = Math.min(this.burst, this.tokens + (now - this.last) * this.perMs);
      this.last = now;
    }
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return (1 - this.tokens) / this.perMs;
  }
}
