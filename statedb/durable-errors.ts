// Errors of the durable layer. Each names the store file and, where one is
// involved, the table, so an operator knows what to fix or remove.
import { StateDBError } from './errors.js';

/** Base class of every durable-store error. */
export class DurableStoreError extends StateDBError {
  constructor(
    /** The store file. */
    readonly path: string,
    /** The table involved, if any. */
    readonly table: string | undefined,
    message: string,
    options?: ErrorOptions,
  ) {
    super(`store ${path}${table === undefined ? '' : `, table "${table}"`}: ${message}`, options);
  }
}

/** The file is not an LMDB store, is truncated, or cannot be opened. */
export class StoreUnreadableError extends DurableStoreError {}

/** The store was written by another store format, or a table's version or primary index changed. */
export class StoreIncompatibleError extends DurableStoreError {}

/** A stored row could not be decoded (bad bytes, or the codec threw). */
export class StoreDecodeError extends DurableStoreError {}

/** Writing a commit failed; the commit was aborted and nothing of it reached memory or disk. */
export class StoreWriteError extends DurableStoreError {}

/** The store cannot do this now: opened twice, closed, or a durable table registered after opening. */
export class StoreStateError extends DurableStoreError {}

/** Another open store (this process or another) holds the store file: one writer per store. */
export class StoreLockedError extends DurableStoreError {
  constructor(
    path: string,
    /** The holder's pid as it wrote it, when readable (in its own PID namespace). */
    readonly holderPid: number | undefined,
  ) {
    super(path, undefined, `in use by another open store${holderPid === undefined ? '' : ` (pid ${holderPid})`}; one process may open a store at a time`);
  }
}
