// What a target implements: the operations the engine calls to make the
// target match the table. Each may return a value or a promise; the engine
// awaits only real thenables, so synchronous targets pay nothing for
// promises.
import type { ReadTxn } from '../statedb/index.js';

/** A value, or a promise of it. */
export type MaybePromise<T> = T | PromiseLike<T>;

/**
 * The single-object operations. Calls for one reconciler never overlap: the
 * engine awaits each before making the next.
 */
export interface Operations<T> {
  /**
   * Makes the target hold obj (create or replace). Must be idempotent: it is
   * called again for retries, refreshes and repeated versions. `txn` is the
   * snapshot the change was read from (for lookups in other tables);
   * `revision` is obj's table revision. obj is the stored, frozen row: do
   * not mutate it. Throwing (or rejecting) marks the row's status error and
   * schedules a retry with backoff.
   */
  update(txn: ReadTxn, revision: number, obj: T): MaybePromise<void>;

  /**
   * Removes obj's target state; obj is the last version of the deleted row
   * and `revision` the delete's revision. Must be idempotent, and deleting
   * something already missing from the target must succeed (return
   * normally): a thrown error is retried with backoff until it succeeds or
   * the row is inserted again.
   */
  delete(txn: ReadTxn, revision: number, obj: T): MaybePromise<void>;

  /**
   * Full reconciliation: removes from the target everything that is not in
   * `desiredObjects` (the whole table as of `txn`, iterable once, lazily).
   * Runs first when the table becomes initialized, then periodically and on
   * triggerPrune(). A throw degrades health until the next successful prune;
   * it is not retried before the next interval or trigger. Implementations
   * that walk the target must collect the keys to remove before removing
   * them.
   */
  prune(txn: ReadTxn, desiredObjects: Iterable<T>): MaybePromise<void>;
}

/**
 * One object of a batch. The operation sets `error` on entries that failed
 * (leave it undefined for success); the engine reads it after the call.
 */
export interface BatchEntry<T> {
  readonly object: T;
  readonly revision: number;
  error: unknown;
}

/**
 * Batched forms of update and delete, used instead of Operations.update and
 * delete for incremental changes (retries still use the single operations),
 * so a target can use bulk calls such as BPF map batch syscalls. Within a
 * round the delete batch runs before the update batch (to make room). The
 * same contracts as the single operations hold per entry. A batch call that
 * throws fails every entry of the batch with that error.
 */
export interface BatchOperations<T> {
  updateBatch(txn: ReadTxn, entries: readonly BatchEntry<T>[]): MaybePromise<void>;
  deleteBatch(txn: ReadTxn, entries: readonly BatchEntry<T>[]): MaybePromise<void>;
}

/** True for promises and any object or function with a callable `then`. */
export function isThenable(value: unknown): value is PromiseLike<unknown> {
  return (
    value !== null &&
    (typeof value === 'object' || typeof value === 'function') &&
    typeof (value as { then?: unknown }).then === 'function'
  );
}

/**
 * Calls an operation that may be synchronous or return a promise and reports
 * its outcome to `finish` exactly once: at once for a synchronous operation
 * (no promise is created), after it settles otherwise. Returns the promise to
 * wait on, or undefined when the operation was synchronous.
 */
export function callOperation(
  call: () => unknown,
  finish: (error: unknown, failed: boolean) => void,
): Promise<void> | undefined {
  let result: unknown;
  try {
    result = call();
  } catch (e) {
    finish(e, true);
    return undefined;
  }
  if (isThenable(result)) {
    return Promise.resolve(result).then(
      () => finish(undefined, false),
      (e: unknown) => finish(e, true),
    );
  }
  finish(undefined, false);
  return undefined;
}
