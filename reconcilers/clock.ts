// Time for the engine: every timestamp and every timer goes through a Clock,
// so tests can drive backoff, intervals, rate limits and status timestamps
// with TestClock.advance instead of sleeping.

/** A scheduled callback; cancel() is idempotent and harmless after it fired. */
export interface ClockTimer {
  cancel(): void;
}

export interface TimerOptions {
  readonly keepAlive?: boolean;
}

/** The source of time for a reconciler. */
export interface Clock {
  /** Milliseconds since the Unix epoch (fractions allowed). Used for timestamps and timers alike. */
  now(): number;
  /**
   * Calls fn once after `ms` milliseconds (0 or less: on the next turn).
   * The timer does not keep the process alive, unless `keepAlive` is set:
   * the engine sets it only for short waits in the middle of work it has
   * started (a round waiting for its rate-limit token, a status write-back
   * waiting for a locked table), never for idle timers (retry backoff,
   * prune and refresh intervals).
   */
  setTimer(ms: number, fn: () => void, opts?: TimerOptions): ClockTimer;
}

/**
 * Real time. now() is monotonic within the process (performance.now() anchored
 * at the process start), so backoff and intervals are not disturbed when
 * the wall clock is stepped; it still reads as epoch milliseconds.
 */
export class SystemClock implements Clock {
  now(): number {
    return performance.timeOrigin + performance.now();
  }

  setTimer(ms: number, fn: () => void, opts: TimerOptions = {}): ClockTimer {
    const handle = setTimeout(fn, Math.max(0, ms));
    if (opts.keepAlive !== true) handle.unref();
    return { cancel: () => clearTimeout(handle) };
  }
}

/** The process-wide system clock (the default of every reconciler and status constructor). */
export const systemClock: Clock = new SystemClock();

interface PendingTimer {
  readonly at: number;
  readonly seq: number;
  readonly fn: () => void;
  cancelled: boolean;
}

/**
 * A clock that moves only when told. Timers fire in due order during
 * advance(), and between firings advance() lets promises and I/O callbacks
 * run (one macrotask turn), so an engine waiting on a timer reacts before
 * time moves on.
 */
export class TestClock implements Clock {
  private current: number;
  private seq = 0;
  private timers: PendingTimer[] = [];

  /** Starts at `start` epoch milliseconds (default 2025-01-01T00:00:00Z). */
  constructor(start = Date.UTC(2025, 0, 1)) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  setTimer(ms: number, fn: () => void): ClockTimer {
    const timer: PendingTimer = { at: this.current + Math.max(0, ms), seq: this.seq++, fn, cancelled: false };
    this.timers.push(timer);
    return {
      cancel: () => {
        timer.cancelled = true;
      },
    };
  }

  /** Timers not yet fired or cancelled. */
  get pendingTimers(): number {
    return this.timers.filter((t) => !t.cancelled).length;
  }

  /** When the earliest pending timer is due, or undefined. */
  get nextTimerAt(): number | undefined {
    return this.earliest()?.at;
  }

  /**
   * Moves time forward by ms, firing due timers in order (each at its own
   * time) and letting the program react after each. Resolves once time has
   * reached now + ms and the program has settled.
   */
  async advance(ms: number): Promise<void> {
    if (!(ms >= 0)) throw new RangeError(`TestClock.advance: ms must be >= 0, got ${ms}`);
    const target = this.current + ms;
    await settle();
    for (;;) {
      const next = this.earliest();
      if (next === undefined || next.at > target) break;
      this.current = Math.max(this.current, next.at);
      next.cancelled = true;
      this.timers = this.timers.filter((t) => !t.cancelled);
      next.fn();
      await settle();
    }
    this.current = target;
    await settle();
  }

  private earliest(): PendingTimer | undefined {
    let best: PendingTimer | undefined;
    for (const t of this.timers) {
      if (t.cancelled) continue;
      if (best === undefined || t.at < best.at || (t.at === best.at && t.seq < best.seq)) best = t;
    }
    return best;
  }
}

/** Lets pending promise reactions and one round of macrotasks run. */
export async function settle(turns = 3): Promise<void> {
  for (let i = 0; i < turns; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
