// Exponential backoff with jitter, shared by informer restarts and sink
// retries. Jitter spreads the restarts of several informers (and of many
// agents after an API server outage) so they do not retry in lock step.

export interface BackoffOptions {
  /** First delay, in ms. Default 500. */
  readonly initialMs?: number;
  /** Largest delay, in ms, before jitter. Default 30 000. */
  readonly maxMs?: number;
  /** Growth per attempt. Default 2. */
  readonly factor?: number;
  /** Each delay is multiplied by a random factor in [1 - jitter, 1 + jitter]. Default 0.2. */
  readonly jitter?: number;
  /** Source of randomness in [0, 1); injectable for tests. */
  readonly random?: () => number;
}

/** Thrown when backoff options are out of range. */
export class BackoffOptionsError extends Error {
  override readonly name = 'BackoffOptionsError';
}

export class Backoff {
  private readonly initialMs: number;
  private readonly maxMs: number;
  private readonly factor: number;
  private readonly jitter: number;
  private readonly random: () => number;
  private attempt = 0;

  constructor(opts: BackoffOptions = {}) {
    this.initialMs = opts.initialMs ?? 500;
    this.maxMs = opts.maxMs ?? 30_000;
    this.factor = opts.factor ?? 2;
    this.jitter = opts.jitter ?? 0.2;
    this.random = opts.random ?? Math.random;
    if (!(this.initialMs > 0) || !(this.maxMs >= this.initialMs)) {
      throw new BackoffOptionsError(`backoff: need 0 < initialMs <= maxMs (got ${this.initialMs}, ${this.maxMs})`);
    }
    if (!(this.factor >= 1)) throw new BackoffOptionsError(`backoff: factor must be >= 1 (got ${this.factor})`);
    if (!(this.jitter >= 0 && this.jitter < 1)) {
      throw new BackoffOptionsError(`backoff: jitter must be in [0, 1) (got ${this.jitter})`);
    }
  }

  /** Failures since the last reset. */
  get attempts(): number {
    return this.attempt;
  }

  /** The delay before the next retry; each call counts one more failure. */
  next(): number {
    const base = Math.min(this.maxMs, this.initialMs * this.factor ** this.attempt);
    this.attempt++;
    const spread = 1 + this.jitter * (2 * this.random() - 1);
    return Math.max(1, Math.round(base * spread));
  }

  /** Called after a success: the next failure starts from initialMs again. */
  reset(): void {
    this.attempt = 0;
  }
}
