// Reconciliation progress: how far the change stream has been processed,
// and which failed revision is still waiting for a retry.
import type { Watch } from '../statedb/index.js';
import { waitAny, Watch as WatchClass } from '../statedb/index.js';
import { ReconcilerStoppedError } from './errors.js';

export interface Progress {
  /** Every change up to this table revision has been attempted. */
  readonly revision: number;
  /** The smallest original revision of an object waiting for a retry; 0 when nothing is failing. */
  readonly retryLowWatermark: number;
}

export class ProgressTracker {
  private current: Progress = { revision: 0, retryLowWatermark: 0 };
  private watch: Watch = new WatchClass();
  private stoppedWith: Error | undefined;

  get value(): Progress {
    return this.current;
  }

  /** Raises the revision (never lowers it) and sets the low watermark; wakes waiters on any change. */
  update(revision: number, retryLowWatermark: number): void {
    const rev = Math.max(revision, this.current.revision);
    if (rev === this.current.revision && retryLowWatermark === this.current.retryLowWatermark) return;
    this.current = { revision: rev, retryLowWatermark };
    const w = this.watch;
    this.watch = new WatchClass();
    w.close();
  }

  /** Fails every current and future wait with err. */
  stop(err: Error): void {
    this.stoppedWith = err;
    const w = this.watch;
    this.watch = new WatchClass();
    w.close();
  }

  /**
   * Resolves once every change up to `revision` has been attempted (0
   * resolves at once). The process stays alive while a wait is pending. Rejects with ReconcilerStoppedError when the
   * reconciler stops first, or with the signal's WaitAbortedError.
   */
  async waitFor(revision: number, signal?: AbortSignal): Promise<Progress> {
    if (this.current.revision >= revision) return this.current;
    this.holdProcess(1);
    try {
      for (;;) {
        if (this.current.revision >= revision) return this.current;
        if (this.stoppedWith !== undefined) throw new ReconcilerStoppedError(this.stoppedWith.message);
        await waitAny([this.watch], signal);
      }
    } finally {
      this.holdProcess(-1);
    }
  }

  // The engine's timers never keep the process alive, so a program whose
  // last work is awaiting reconciliation (the engine sleeping on a rate
  // limit or a retry backoff meanwhile) would exit with the await unsettled.
  // A waiter holds the process until its wait ends.
  private waiters = 0;
  private keepAlive: ReturnType<typeof setInterval> | undefined;

  private holdProcess(delta: number): void {
    this.waiters += delta;
    if (this.waiters > 0 && this.keepAlive === undefined) {
      this.keepAlive = setInterval(() => {}, 2 ** 30);
    } else if (this.waiters === 0 && this.keepAlive !== undefined) {
      clearInterval(this.keepAlive);
      this.keepAlive = undefined;
    }
  }
}
