// Transactions. A ReadTxn is one committed root: an immutable array of
// table states, shared by every reader until the next commit replaces it
// (db.readTxn() returns it without allocating). A WriteTxn locks tables,
// works on drafts of them, reads its own writes, and commits atomically.
import type { DeleteRecord, StoredEntry } from './entry.js';
import type { CommitEvent } from './hooks.js';
import { TableNotLockedError, TransactionClosedError } from './errors.js';
import type { TableState } from './table-state.js';
import { Watch } from './watch.js';

/** What transactions need from a table (implemented by Table). */
export interface TxnTable {
  readonly name: string;
  readonly pos: number;
  lockedBy: WriteTxn | null;
}

/** What transactions need from the DB (implemented by DB). */
export interface TxnOwner {
  prepareCommit(txn: WriteTxn): void;
  commitTxn(txn: WriteTxn): ReadTxn;
  abortTxn(txn: WriteTxn): void;
}

/** A consistent, immutable view of every table as of one commit. */
export class ReadTxn {
  constructor(
    /** @internal Table states by table position. */
    readonly states: readonly TableState<unknown>[],
    /** @internal */
    readonly db: TxnOwner,
  ) {}
}

/** One locked table inside a write transaction. @internal */
export class TableTxn<T> {
  /** Every upsert and delete, in revision order. */
  readonly log: (StoredEntry<T> | DeleteRecord<T>)[] = [];
  /** The deletes in `log`, in order. */
  readonly deletes: DeleteRecord<T>[] = [];
  /** The entries this transaction stamped as superseded: abort clears their stamps. */
  readonly superseded: StoredEntry<T>[] = [];
  /** Closed when the transaction ends: handed out for watches on data this transaction changed. */
  endWatch: Watch | null = null;
  initChanged = false;
  restored = false;

  constructor(
    readonly table: TxnTable,
    /** The committed state the transaction started from (the latest one: the table is locked). */
    readonly base: TableState<T>,
    readonly draft: TableState<T>,
  ) {}

  get modified(): boolean {
    return this.log.length > 0 || this.initChanged;
  }

  txnEndWatch(): Watch {
    return (this.endWatch ??= new Watch());
  }
}

export type TxnStatus = 'open' | 'committed' | 'aborted';

/**
 * A write transaction over the tables it locked. It is also a read
 * transaction: queries on it see its uncommitted writes. Synchronous: it
 * never waits. Use `using txn = db.writeTxn(...)` (dispose aborts unless
 * committed) or `db.write(tables, fn)`.
 */
export class WriteTxn implements Disposable {
  /** @internal Table states by position, drafts for the locked tables. */
  readonly states: TableState<unknown>[];
  /** @internal The locked tables' transactions, by table position. */
  readonly tableTxns: Map<number, TableTxn<unknown>> = new Map();
  /** @internal The event prepare-commit hooks saw, reused by the commit hooks. */
  preparedEvent: CommitEvent | undefined = undefined;
  private state: TxnStatus = 'open';

  constructor(
    /** @internal */
    readonly db: TxnOwner,
    root: ReadTxn,
    tables: readonly (TxnTable & { stateOf(txn: ReadTxn): TableState<unknown> })[],
    /** Who holds the locks, for "table is locked" errors. */
    readonly holder: string,
    /** performance.now() at open, when metrics are on. */
    readonly openedAt: number,
  ) {
    this.states = root.states.slice();
    for (const t of tables) {
      if (this.tableTxns.has(t.pos)) continue;
      const base = t.stateOf(root);
      const draft = base.draft();
      while (this.states.length <= t.pos) this.states.push(undefined as unknown as TableState<unknown>);
      this.states[t.pos] = draft;
      this.tableTxns.set(t.pos, new TableTxn<unknown>(t, base, draft));
      t.lockedBy = this;
    }
  }

  /** "open", "committed" or "aborted". */
  get status(): TxnStatus {
    return this.state;
  }

  /** The names of the locked tables. */
  get tableNames(): string[] {
    return [...this.tableTxns.values()].map((tt) => tt.table.name);
  }

  /**
   * Makes every write visible at once to new read transactions, then closes
   * the watches of what changed and runs commit hooks. Returns the read
   * transaction of the new state. A second commit is a no-op returning
   * undefined; commit after abort throws TransactionClosedError. A throwing
   * prepare-commit hook (e.g. a failed durable write) aborts the
   * transaction instead and its error propagates: nothing became visible. In
   * validation mode a broken invariant throws ValidationError (the commit
   * is visible by then).
   */
  commit(): ReadTxn | undefined {
    if (this.state === 'committed') return undefined;
    if (this.state === 'aborted') throw new TransactionClosedError(undefined, 'aborted');
    try {
      this.db.prepareCommit(this);
    } catch (e) {
      this.abort();
      throw e;
    }
    this.state = 'committed';
    return this.db.commitTxn(this);
  }

  /** Discards every write and releases the locks. Idempotent; a no-op after commit. No watch closes. */
  abort(): void {
    if (this.state !== 'open') return;
    this.state = 'aborted';
    this.db.abortTxn(this);
  }

  [Symbol.dispose](): void {
    this.abort();
  }

  /** @internal The locked table's transaction; throws when closed or not locked. */
  tableTxn<T>(table: TxnTable): TableTxn<T> {
    if (this.state !== 'open') throw new TransactionClosedError(table.name, this.state);
    const tt = this.tableTxns.get(table.pos);
    if (tt === undefined || tt.table !== table) throw new TableNotLockedError(table.name);
    return tt as TableTxn<T>;
  }
}

/** Any transaction a query can read from. */
export type Txn = ReadTxn | WriteTxn;
