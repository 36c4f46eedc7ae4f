// One incremental round: take changes from the change stream, run the
// operations (single or batch), write the statuses back with
// compare-and-swap, then run the retries that are due. Everything here is
// synchronous unless an operation returns a thenable (or the table is
// locked by someone else during write-back), so synchronous targets pay for
// no promise per object.
import type { Change, ReadTxn, WriteTxn } from '../statedb/index.js';
import { ObjectNotFoundError, RevisionNotEqualError, TableLockedError } from '../statedb/index.js';
import { backoffDelay } from './backoff.js';
import type { ResolvedConfig } from './config.js';
import { derivesFrom, isShared, recordStatusWrite } from './derivation.js';
import { ReconcilerError } from './errors.js';
import type { OperationName, ReconcilerMetrics } from './metrics.js';
import type { BatchEntry } from './operations.js';
import { callOperation, isThenable } from './operations.js';
import type { RetryQueue } from './retry-queue.js';
import { errorMessage, Status } from './status.js';

/** One object in a round; doubles as the BatchEntry handed to batch operations. */
export interface WorkItem<T> extends BatchEntry<T> {
  /** Revision passed to the operation: the row's revision, or the delete's. */
  readonly revision: number;
  /** The revision the stored row must still have for the status write-back. */
  readonly casRevision: number;
  readonly deleted: boolean;
  /** Primary key, when already known (computed lazily otherwise). */
  readonly key: string | undefined;
  /** Consecutive failures before this attempt. */
  readonly failures: number;
  readonly originalRevision: number;
}

/** What a round needs from its reconciler. */
export interface RoundContext<T> {
  readonly cfg: ResolvedConfig<T>;
  readonly retries: RetryQueue<T>;
  readonly metrics: ReconcilerMetrics;
  /** Resolves after ms on the reconciler's clock (early when it stops); keepAlive holds the process open meanwhile. */
  sleep(ms: number, keepAlive?: boolean): Promise<void>;
  isRunning(): boolean;
  warn(fields: object, message: string): void;
}

/** The changes taken in a round. */
export interface Collected<T> {
  readonly items: WorkItem<T>[];
  /** Revision of the last change taken, or -1. */
  readonly lastRevision: number;
  /** False when the round stopped early (more changes may be waiting). */
  readonly complete: boolean;
}

// Changes the engine skips (its own write-backs, rows not pending) count
// toward a separate, larger limit, so a round stays bounded without
// spending its object budget on them.
const SKIP_FACTOR = 16;

// Retries get at least this fraction of a round even when changes fill it,
// so a steady stream of changes cannot starve them.
const RETRY_SHARE = 0.1;

function item<T>(
  object: T,
  revision: number,
  casRevision: number,
  deleted: boolean,
  key: string | undefined,
  failures: number,
  originalRevision: number,
): WorkItem<T> {
  return { object, revision, casRevision, deleted, key, failures, originalRevision, error: undefined };
}

/** A thrown value normalised so that "failed" is always `error !== undefined`. */
function failure(e: unknown): unknown {
  return e === undefined ? new ReconcilerError('operation failed with undefined') : e;
}

export class Round<T> {
  /**
   * The table revisions before and after the last status commit: when
   * nothing else was committed in between, the changes in that range are
   * only the engine's own write-backs.
   */
  lastCommit: { readonly base: number; readonly committed: number } | undefined;
  private readonly cfg: ResolvedConfig<T>;
  private readonly holder: string;

  constructor(private readonly ctx: RoundContext<T>) {
    this.cfg = ctx.cfg;
    this.holder = `reconciler "${ctx.cfg.name}"`;
  }

  /** Takes up to roundSize objects to reconcile from `changes`, clearing the retries they supersede. */
  collect(changes: Iterable<Change<T>>): Collected<T> {
    const { retries } = this.ctx;
    const { table, status, roundSize } = this.cfg;
    const items: WorkItem<T>[] = [];
    const skipLimit = roundSize * SKIP_FACTOR;
    let skipped = 0;
    let lastRevision = -1;
    let complete = true;
    for (const ch of changes) {
      const obj = ch.object;
      const rev = ch.revision;
      lastRevision = rev;
      if (ch.deleted) {
        // A delete supersedes any retry; delete is called with the last version.
        let key: string | undefined;
        if (retries.size > 0) retries.clear((key = table.primaryKeyOf(obj)));
        items.push(item(obj, rev, rev, true, key, 0, rev));
      } else {
        let wanted: boolean;
        try {
          wanted = status.get(obj).wantsReconcile;
        } catch {
          // A status that cannot be read: reconcile, so the failure surfaces
          // in the status write-back (retried, shown in health) instead of
          // losing the rest of the round.
          wanted = true;
        }
        let key: string | undefined;
        if (retries.size > 0) {
          key = table.primaryKeyOf(obj);
          const queued = retries.get(key);
          // A new pending version supersedes a queued retry. A re-inserted row
          // supersedes a failed delete whatever its status (upstream would still
          // run the stale delete for a row inserted as done).
          if (queued !== undefined && (wanted || queued.deleted)) {
            retries.clear(key);
            wanted = true;
          }
        }
        if (wanted) items.push(item(obj, rev, rev, false, key, 0, rev));
        else if (++skipped >= skipLimit) {
          complete = false;
          break;
        }
      }
      if (items.length >= roundSize) {
        complete = false;
        break;
      }
    }
    return { items, lastRevision, complete };
  }

  /** Removes the retries due at `now` (at most budget(taken)) and returns them as work. */
  dueRetries(now: number, taken: number): WorkItem<T>[] {
    const budget = Math.max(this.cfg.roundSize - taken, Math.ceil(this.cfg.roundSize * RETRY_SHARE));
    const out: WorkItem<T>[] = [];
    while (out.length < budget) {
      const e = this.ctx.retries.popDue(now);
      if (e === undefined) break;
      const rev = e.deleted ? e.revision : e.originalRevision;
      out.push(item(e.object, rev, e.revision, e.deleted, e.key, e.failures, e.originalRevision));
    }
    return out;
  }

  /** Runs the operations for items: batch operations when configured and `batch`, else one by one. */
  operate(txn: ReadTxn, items: WorkItem<T>[], batch: boolean): Promise<void> | undefined {
    if (items.length === 0) return undefined;
    if (batch && this.cfg.batchOperations !== undefined) return this.runBatches(txn, items);
    return this.runSingle(txn, items, 0);
  }

  private runSingle(txn: ReadTxn, items: WorkItem<T>[], from: number): Promise<void> | undefined {
    const ops = this.cfg.operations;
    const metrics = this.ctx.metrics;
    const timed = metrics.timed;
    for (let i = from; i < items.length; i++) {
      const it = items[i]!;
      const op: OperationName = it.deleted ? 'delete' : 'update';
      const t0 = timed ? performance.now() : 0;
      let result: unknown;
      try {
        result = it.deleted ? ops.delete(txn, it.revision, it.object) : ops.update(txn, it.revision, it.object);
      } catch (e) {
        it.error = failure(e);
      }
      if (isThenable(result)) {
        return Promise.resolve(result)
          .then(
            () => {
              if (timed) metrics.operation(op, (performance.now() - t0) / 1000, 0);
            },
            (e: unknown) => {
              it.error = failure(e);
              if (timed) metrics.operation(op, (performance.now() - t0) / 1000, 1);
            },
          )
          .then(() => this.runSingle(txn, items, i + 1));
      }
      if (timed) metrics.operation(op, (performance.now() - t0) / 1000, it.error === undefined ? 0 : 1);
    }
    return undefined;
  }

  private runBatches(txn: ReadTxn, items: WorkItem<T>[]): Promise<void> | undefined {
    const deletes: WorkItem<T>[] = [];
    const updates: WorkItem<T>[] = [];
    for (const it of items) (it.deleted ? deletes : updates).push(it);
    // Deletes first, to make room in size-limited targets (BPF maps).
    const first = this.runBatch(txn, 'delete_batch', deletes);
    if (first !== undefined) return first.then(() => this.runBatch(txn, 'update_batch', updates));
    return this.runBatch(txn, 'update_batch', updates);
  }

  private runBatch(txn: ReadTxn, op: 'update_batch' | 'delete_batch', entries: WorkItem<T>[]): Promise<void> | undefined {
    if (entries.length === 0) return undefined;
    const ops = this.cfg.batchOperations!;
    const metrics = this.ctx.metrics;
    const t0 = metrics.timed ? performance.now() : 0;
    const finish = (thrown: unknown, threw: boolean) => {
      let failed = 0;
      for (const e of entries) {
        if (threw) e.error = failure(thrown);
        if (e.error !== undefined) failed++;
      }
      if (metrics.timed) metrics.operation(op, (performance.now() - t0) / 1000, failed);
    };
    return callOperation(() => op === 'delete_batch' ? ops.deleteBatch(txn, entries) : ops.updateBatch(txn, entries), finish);
  }

  /**
   * Writes the statuses of the update items back (done or error) in one
   * write transaction, and queues retries for the failures. A result whose
   * row changed meanwhile is dropped (the new version comes through the
   * change stream), unless the row changed only by other reconcilers'
   * status writes. When another holder has the table locked, waits and
   * tries again, so no result is lost.
   */
  writeBack(items: WorkItem<T>[], lockedWaitMs = 1): Promise<void> | undefined {
    if (items.length === 0) return undefined;
    const { db, table, clock } = this.cfg;
    let txn: WriteTxn;
    try {
      txn = db.writeTxn([table], { holder: this.holder });
    } catch (e) {
      if (!(e instanceof TableLockedError)) throw e;
      // Someone holds the table across an await. Wait (1, 2, 4 .. 100 ms) and
      // try again. Stopping meanwhile leaves the rows pending in the table:
      // a new reconciler reconciles them again (update is idempotent).
      return this.ctx.sleep(lockedWaitMs, true).then(() =>
        this.ctx.isRunning() ? this.writeBack(items, Math.min(lockedWaitMs * 2, 100)) : undefined,
      );
    }
    const now = clock.now();
    const base = table.revision(txn);
    try {
      const done = Status.make('done', now);
      const shared = isShared(table);
      for (const it of items) {
        if (it.deleted) {
          if (it.error !== undefined) this.queueRetry(it, it.revision, it.error, now);
        } else {
          this.writeStatus(txn, it, done, now, shared);
        }
      }
      txn.commit();
      this.lastCommit = { base, committed: table.revision(db.readTxn()) };
    } catch (e) {
      // The commit failed (a throwing commit hook, a validation error): retry
      // every update against the revision it had, so none is left pending.
      // A commit hook that threw after the commit: the statuses are stored.
      if (txn.status === 'committed') {
        this.ctx.warn({ reconciler: this.cfg.name, err: errorMessage(e) }, 'reconciler: a commit hook failed');
        return undefined;
      }
      txn.abort();
      const err = new ReconcilerError(`committing statuses failed: ${errorMessage(e)}`, { cause: e });
      this.ctx.warn({ reconciler: this.cfg.name, err: errorMessage(e) }, 'reconciler: status commit failed');
      for (const it of items) if (!it.deleted) this.queueRetry(it, it.casRevision, err, now);
    } finally {
      txn.abort();
    }
    return undefined;
  }

  private writeStatus(txn: WriteTxn, it: WorkItem<T>, done: Status, now: number, shared: boolean): void {
    const { table, status } = this.cfg;
    const next = it.error === undefined ? done : Status.make('error', now, errorMessage(it.error));
    try {
      const row = status.set(it.object, next);
      try {
        table.compareAndSwap(txn, it.casRevision, row);
        if (shared) recordStatusWrite(row, it.object);
      } catch (e) {
        if (!(e instanceof RevisionNotEqualError || e instanceof ObjectNotFoundError)) throw e;
        const current = e instanceof RevisionNotEqualError ? (e.current.object as T) : undefined;
        // Changed only by other reconcilers' status writes: write ours onto the current row.
        if (current === undefined || !shared || !derivesFrom(current, it.object)) return;
        const merged = status.set(current, next);
        table.insert(txn, merged);
        recordStatusWrite(merged, current);
      }
    } catch (e) {
      // The status could not be written (set() threw, or the new row broke a
      // table constraint). Retry the object so the failure stays visible in
      // health instead of leaving the row pending forever.
      const err = new ReconcilerError(`writing the status failed: ${errorMessage(e)}`, { cause: e });
      this.ctx.warn({ reconciler: this.cfg.name, err: errorMessage(e) }, 'reconciler: status write-back failed');
      this.queueRetry(it, it.casRevision, err, now);
      return;
    }
    if (it.error !== undefined) this.queueRetry(it, table.revision(txn), it.error, now);
  }

  private queueRetry(it: WorkItem<T>, revision: number, error: unknown, now: number): void {
    const { table, retry, random } = this.cfg;
    const failures = it.failures + 1;
    this.ctx.retries.put({
      key: it.key ?? table.primaryKeyOf(it.object),
      object: it.object,
      revision,
      originalRevision: it.originalRevision,
      deleted: it.deleted,
      failures,
      retryAt: now + backoffDelay(failures, retry, random),
      error,
    });
  }
}
