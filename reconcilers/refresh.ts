// Periodic refresh: done rows whose status is older than the refresh
// interval are re-marked refreshing (at a limited rate), so the engine runs
// update on them again and repairs drift in the target (a map entry someone
// deleted by hand, a file edited on disk).
import { ObjectNotFoundError, RevisionNotEqualError, TableLockedError } from '../statedb/index.js';
import type { ResolvedConfig } from './config.js';
import { isShared, recordStatusWrite } from './derivation.js';
import { TokenBucket } from './rate-limiter.js';
import { errorMessage, Status } from './status.js';

export interface RefreshContext {
  sleep(ms: number): Promise<void>;
  isRunning(): boolean;
  warn(fields: object, message: string): void;
}

export class Refresher<T> {
  private readonly limiter: TokenBucket;

  constructor(
    private readonly cfg: ResolvedConfig<T>,
    private readonly ctx: RefreshContext,
  ) {
    this.limiter = new TokenBucket(cfg.clock, cfg.refreshRate);
  }

  /** Runs passes until the reconciler stops: the first at once, then when the oldest done row comes due. */
  async run(): Promise<void> {
    while (this.ctx.isRunning()) {
      let waitMs: number;
      try {
        waitMs = await this.pass();
      } catch (e) {
        this.ctx.warn({ reconciler: this.cfg.name, err: errorMessage(e) }, 'reconciler: refresh pass failed');
        waitMs = this.cfg.refreshIntervalMs;
      }
      if (waitMs > 0) await this.ctx.sleep(waitMs);
    }
  }

  /**
   * Walks rows oldest revision first and marks due done rows refreshing.
   * Stops at the first done row refreshed less than an interval ago and
   * returns the time until it is due (pending and error rows are skipped:
   * they are being reconciled or retried anyway).
   */
  private async pass(): Promise<number> {
    const { db, table, status, clock, refreshIntervalMs } = this.cfg;
    const txn = db.readTxn();
    for (const { object, revision } of table.lowerBound(txn, table.byRevision(0))) {
      if (!this.ctx.isRunning()) return 0;
      const st = status.get(object);
      if (st.kind !== 'done') continue;
      const age = clock.now() - st.updatedAt;
      if (age < refreshIntervalMs) return refreshIntervalMs - age;
      for (let wait = this.limiter.take(); wait > 0; wait = this.limiter.take()) {
        await this.ctx.sleep(wait);
        if (!this.ctx.isRunning()) return 0;
      }
      this.markRefreshing(object, revision);
    }
    return refreshIntervalMs;
  }

  private markRefreshing(object: T, revision: number): void {
    const { db, table, status, clock } = this.cfg;
    try {
      db.write(
        [table],
        (txn) => {
          const row = status.set(object, Status.refreshing(clock));
          table.compareAndSwap(txn, revision, row);
          if (isShared(table)) recordStatusWrite(row, object);
        },
        { holder: `reconciler "${this.cfg.name}" refresh` },
      );
    } catch (e) {
      // Changed or deleted meanwhile (it is reconciled anyway), or locked:
      // the next pass finds it again.
      if (e instanceof RevisionNotEqualError || e instanceof ObjectNotFoundError || e instanceof TableLockedError) return;
      this.ctx.warn({ reconciler: this.cfg.name, err: errorMessage(e) }, 'reconciler: marking a row refreshing failed');
    }
  }
}
