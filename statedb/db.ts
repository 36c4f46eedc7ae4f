// The database: the registry of tables and the current root. Readers take
// the root (one field read, no allocation); write transactions lock tables
// and, at commit, swap in a new root holding their drafts, then close the
// watches of what changed.
import type { Entry } from './entry.js';
import {
  DuplicateIndexError,
  DuplicateTableError,
  InvalidSchemaError,
  InvalidTableNameError,
  PrimaryIndexNotUniqueError,
  StateDBError,
  TableLockedError,
  UnsupportedIndexOperationError,
  ValidationError,
} from './errors.js';
import { deepFreezeWanted } from './freeze.js';
import type {
  CommitEvent,
  CommitHook,
  CommittedTable,
  NewTableHook,
  PrepareCommitHook,
  StateDBMetrics,
} from './hooks.js';
import { noopMetrics } from './hooks.js';
import type { SecondaryDefs, TableDB, TableDef } from './table.js';
import { Table } from './table.js';
import { LatestIndex } from './latest-index.js';
import type { TableState } from './table-state.js';
import { ReadTxn, WriteTxn } from './txn.js';
import type { TableTxn } from './txn.js';
import { validateTable } from './validate.js';

const TABLE_NAME = /^[a-z][a-z0-9_-]{0,30}$/;

export interface DBOptions {
  /** Check every index invariant after every commit (default: FLAGELLA_STATEDB_VALIDATE=1). */
  readonly validate?: boolean;
  /** Metrics sink (default: no-op). */
  readonly metrics?: StateDBMetrics;
}

/** Options of one write transaction. */
export interface WriteTxnOptions {
  /** Who holds the locks, shown in "table is locked" errors (default: "write transaction #N"). */
  readonly holder?: string;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTable = Table<any, any, any>;

export class DB implements TableDB {
  /** True when every commit is validated (slow: O(table size) per commit). */
  readonly validate: boolean;
  /** @internal */ readonly deepFreeze: boolean;
  private readonly metrics: StateDBMetrics;
  private root: ReadTxn;
  private readonly tableList: AnyTable[] = [];
  private readonly byName = new Map<string, AnyTable>();
  private hooks: CommitHook[] = [];
  private prepareHooks: PrepareCommitHook[] = [];
  private newTableHooks: NewTableHook[] = [];
  private txnCount = 0;

  constructor(opts: DBOptions = {}) {
    this.validate = opts.validate ?? process.env.FLAGELLA_STATEDB_VALIDATE === '1';
    this.deepFreeze = deepFreezeWanted(this.validate);
    this.metrics = opts.metrics ?? noopMetrics;
    this.root = new ReadTxn([], this);
  }

  /**
   * Creates and registers a table. Throws InvalidTableNameError,
   * DuplicateTableError, PrimaryIndexNotUniqueError (also for a multi-key
   * primary), UnsupportedIndexOperationError (LPM primary) or
   * DuplicateIndexError. Index names are checked when the index is defined.
   */
  newTable<T, PK, S extends SecondaryDefs<T> = Record<never, never>>(def: TableDef<T, PK, S>): Table<T, PK, S> {
    if (typeof def.name !== 'string' || !TABLE_NAME.test(def.name)) {
      throw new InvalidTableNameError(
        `invalid table name ${JSON.stringify(def.name)}: must match ${TABLE_NAME.source} (lowercase letter first, at most 31 characters)`,
      );
    }
    if (this.byName.has(def.name)) throw new DuplicateTableError(def.name);
    if (def.primary.kind === 'lpm') {
      throw new UnsupportedIndexOperationError(`table "${def.name}": an LPM index cannot be the primary index`);
    }
    if (!def.primary.unique || def.primary.multi) {
      throw new PrimaryIndexNotUniqueError(
        `table "${def.name}": primary index "${def.primary.name}" must be a unique single-key index`,
      );
    }
    if (def.version !== undefined && (!Number.isSafeInteger(def.version) || def.version < 1)) {
      throw new InvalidSchemaError(`table "${def.name}": version must be a positive integer, got ${String(def.version)}`);
    }
    const names = new Set([def.primary.name]);
    for (const idx of Object.values(def.secondary ?? {})) {
      if (names.has(idx.name)) throw new DuplicateIndexError(`table "${def.name}": duplicate index name "${idx.name}"`);
      names.add(idx.name);
    }
    for (const hook of this.newTableHooks) hook({ name: def.name, durable: def.durable === true });
    const table = new Table<T, PK, S>(this, def, this.tableList.length);
    this.tableList.push(table);
    this.byName.set(def.name, table);
    this.root = new ReadTxn([...this.root.states, table.initial], this);
    return table;
  }

  /** The current committed state of every table. Costs one field read; allocates nothing. */
  readTxn(): ReadTxn {
    return this.root;
  }

  /**
   * Opens a write transaction locking `tables` (duplicates are fine). Throws
   * TableLockedError (naming the table and the holder) when another open
   * write transaction holds one of them; nothing is locked then.
   */
  writeTxn(tables: AnyTable | readonly AnyTable[], opts: WriteTxnOptions = {}): WriteTxn {
    const list = Array.isArray(tables) ? (tables as readonly AnyTable[]) : [tables as AnyTable];
    for (const t of list) {
      if (this.tableList[t.pos] !== t) throw new UnsupportedIndexOperationError(`table "${t.name}" is not in this DB`);
      if (t.lockedBy !== null) throw new TableLockedError(t.name, t.lockedBy.holder);
    }
    const id = ++this.txnCount;
    const openedAt = this.metrics === noopMetrics ? 0 : performance.now();
    return new WriteTxn(this, this.root, list, opts.holder ?? `write transaction #${id}`, openedAt);
  }

  /**
   * Runs fn in a write transaction over `tables` and commits; if fn throws,
   * aborts and rethrows. Returns fn's result. fn must be synchronous: a
   * returned promise aborts the transaction and throws StateDBError.
   */
  write<R>(tables: AnyTable | readonly AnyTable[], fn: (txn: WriteTxn) => R, opts?: WriteTxnOptions): R {
    const txn = this.writeTxn(tables, opts);
    try {
      const result = fn(txn);
      if (result instanceof Promise) {
        throw new StateDBError('db.write: the callback returned a promise; write transactions are synchronous');
      }
      txn.commit();
      return result;
    } finally {
      txn.abort();
    }
  }

  /** Every table, in creation order. */
  tables(): readonly AnyTable[] {
    return this.tableList;
  }

  /** The table with this name, or undefined. */
  table(name: string): AnyTable | undefined {
    return this.byName.get(name);
  }

  /** Adds a commit hook (see CommitHook); returns a function removing it. */
  onCommit(hook: CommitHook): () => void {
    this.hooks = [...this.hooks, hook];
    return () => {
      this.hooks = this.hooks.filter((h) => h !== hook);
    };
  }

  /**
   * Adds a hook run inside every commit that changed something, before the
   * commit becomes visible (see PrepareCommitHook: throwing aborts the
   * commit). Returns a function removing it. Costs nothing when none is registered.
   */
  onPrepareCommit(hook: PrepareCommitHook): () => void {
    this.prepareHooks = [...this.prepareHooks, hook];
    return () => {
      this.prepareHooks = this.prepareHooks.filter((h) => h !== hook);
    };
  }

  /** Adds a hook run by newTable before registering a table (throwing refuses it); returns a function removing it. */
  onNewTable(hook: NewTableHook): () => void {
    this.newTableHooks = [...this.newTableHooks, hook];
    return () => {
      this.newTableHooks = this.newTableHooks.filter((h) => h !== hook);
    };
  }

  /** @internal */
  latestStates(): readonly TableState<unknown>[] {
    return this.root.states;
  }

  /**
   * @internal Called by WriteTxn.commit before commitTxn: runs the prepare
   * hooks; a throw makes the caller abort the transaction.
   */
  prepareCommit(txn: WriteTxn): void {
    if (this.prepareHooks.length === 0) return;
    const changed = changedTables(txn);
    if (changed.length === 0) return;
    const event = commitEvent(changed);
    txn.preparedEvent = event;
    for (const hook of this.prepareHooks) hook(event);
  }

  /** @internal Called by WriteTxn.commit. */
  commitTxn(txn: WriteTxn): ReadTxn {
    const changed = changedTables(txn);
    if (changed.length === 0) {
      this.release(txn);
      return this.root;
    }
    const states = this.root.states.slice();
    const initDone = [];
    for (const tt of changed) {
      const d = tt.draft;
      const b = tt.base;
      d.seal();
      if (d.revisions.wantsCompaction) {
        d.revisions = d.revisions.compacted();
        d.revisionsLength = d.revisions.entries.length;
      }
      // The hash index of the latest state moves to the new state; the base
      // (now an old snapshot) answers gets from its tree from here on. A
      // new index fills itself from the revision log on first use.
      const latest = b.latest ?? new LatestIndex();
      b.latest = null;
      d.latest = latest;
      latest.committed(d, tt.deletes);
      if (d.init !== null && d.init.pending.length === 0) {
        initDone.push(d.init.watch);
        d.init = null;
      }
      states[tt.table.pos] = d;
    }
    this.root = new ReadTxn(states, this);
    // Visible from here on: now close watches, then release the locks.
    for (const tt of changed) (tt.table as AnyTable).afterCommit(tt);
    for (const w of initDone) w.close();
    this.release(txn);
    this.afterCommit(txn, changed);
    return this.root;
  }

  /** @internal Called by WriteTxn.abort. */
  abortTxn(txn: WriteTxn): void {
    for (const tt of txn.tableTxns.values()) {
      // The revision log is shared with committed snapshots: take back this
      // transaction's appends and stamps (none of them could see either).
      const log = tt.base.revisions;
      log.entries.length = tt.base.revisionsLength;
      for (const e of tt.superseded) e.supersededAt = 0;
      log.dead -= tt.superseded.length;
      // Reads through the aborted transaction see what it started from.
      txn.states[tt.table.pos] = tt.base;
      tt.endWatch?.close();
    }
    this.release(txn);
  }

  private release(txn: WriteTxn): void {
    for (const tt of txn.tableTxns.values()) {
      if (tt.table.lockedBy === txn) tt.table.lockedBy = null;
    }
  }

  private afterCommit(txn: WriteTxn, changed: TableTxn<unknown>[]): void {
    if (this.validate) {
      const problems: string[] = [];
      for (const tt of changed) problems.push(...validateTable(tt.table as AnyTable, tt.draft));
      if (problems.length > 0) {
        throw new ValidationError(`statedb validation failed after commit:\n  ${problems.slice(0, 20).join('\n  ')}`);
      }
    }
    if (this.metrics !== noopMetrics) {
      this.metrics.writeTxnCommitted(txn.tableNames, performance.now() - txn.openedAt);
      for (const tt of changed) {
        const t = tt.table as AnyTable;
        this.metrics.tableFigures({
          table: t.name,
          objects: tt.draft.primary.size,
          revision: tt.draft.revision,
          graveyard: t.graveyardSize,
          deleteTrackers: t.deleteTrackers,
        });
      }
    }
    if (this.hooks.length > 0) this.runHooks(txn.preparedEvent ?? commitEvent(changed));
  }

  private runHooks(event: CommitEvent): void {
    const errors: unknown[] = [];
    for (const hook of this.hooks) {
      try {
        hook(event);
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length === 1) throw errors[0];
    if (errors.length > 1) throw new AggregateError(errors, 'commit hooks failed');
  }
}

function changedTables(txn: WriteTxn): TableTxn<unknown>[] {
  const changed: TableTxn<unknown>[] = [];
  for (const tt of txn.tableTxns.values()) if (tt.modified) changed.push(tt);
  return changed;
}

/** Each changed table's net changes, computed when a hook first asks for them. */
function commitEvent(changed: readonly TableTxn<unknown>[]): CommitEvent {
  return { tables: changed.map((tt) => new CommittedTableView(tt)) };
}

class CommittedTableView implements CommittedTable {
  readonly table: AnyTable;
  readonly revision: number;
  readonly restored: boolean;
  private net: { upserted: Entry<unknown>[]; deleted: Entry<unknown>[] } | undefined;

  constructor(private readonly tt: TableTxn<unknown>) {
    this.table = tt.table as AnyTable;
    this.revision = tt.draft.revision;
    this.restored = tt.restored;
  }

  get upserted(): readonly Entry<unknown>[] {
    return (this.net ??= this.computeNet()).upserted;
  }

  get deleted(): readonly Entry<unknown>[] {
    return (this.net ??= this.computeNet()).deleted;
  }

  // The final state of every row the commit touched, in revision order.
  private computeNet(): { upserted: Entry<unknown>[]; deleted: Entry<unknown>[] } {
    const finals = new Map<string, Entry<unknown> & { deleted: boolean; key: string }>();
    for (const r of this.tt.log) finals.set(r.key, r);
    const upserted: Entry<unknown>[] = [];
    const deleted: Entry<unknown>[] = [];
    for (const r of finals.values()) (r.deleted ? deleted : upserted).push(r);
    upserted.sort((a, b) => a.revision - b.revision);
    deleted.sort((a, b) => a.revision - b.revision);
    return { upserted, deleted };
  }
}

