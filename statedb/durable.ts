// Durable tables: a DB's tables declared `durable: true` are kept in one
// LMDB file. Opening the store restores them (rows, row revisions, table
// revisions) in one write transaction before anything else reads them; from
// then on a prepare-commit hook writes each commit's changes of durable
// tables in one LMDB transaction *before* the commit becomes visible, so a
// failed write aborts the commit and memory is never ahead of disk. A
// process killed at any point restarts with a prefix of its commits.
import type { AnyTable, DB } from './db.js';
import type { Entry } from './entry.js';
import { StoreDecodeError, StoreIncompatibleError, StoreStateError } from './durable-errors.js';
import { LmdbStore } from './durable-store.js';
import type { StoredTableMeta, TableWrite } from './durable-store.js';
import type { CommitEvent } from './hooks.js';
import { describeKey } from './binary.js';

const stores = new WeakMap<DB, DurableStore>();

export interface OpenStoreOptions {
  /**
   * fsync every commit (default true): a commit is on disk once visible,
   * and the store survives an OS crash or power loss. false (lmdb noSync)
   * makes a commit ~100x cheaper and still survives a killed process
   * (the data is in the kernel's page cache), but an OS crash or power loss
   * can lose the latest commits or damage the store.
   */
  readonly sync?: boolean;
}

/** What openStore reports about what it restored. */
export interface RestoredTable {
  readonly table: string;
  readonly rows: number;
  readonly revision: number;
  /** True when the table was not in the store before (it starts empty). */
  readonly created: boolean;
}

/** A DB's open store. Close it (or `await using`) before exiting. */
export class DurableStore implements AsyncDisposable {
  private closing: Promise<void> | undefined;

  /** @internal Use openStore. */
  constructor(
    private readonly db: DB,
    private readonly lmdb: LmdbStore,
    /** What was restored, per durable table. */
    readonly restored: readonly RestoredTable[],
  ) {}

  /** The store file. */
  get path(): string {
    return this.lmdb.path;
  }

  /** True once close() was called. */
  get closed(): boolean {
    return this.closing !== undefined;
  }

  /**
   * Resolves once every commit written so far is flushed to the disk
   * (fsync). Commits are safe against a process crash as soon as they are
   * visible; await this when an OS crash must not lose them either.
   */
  async flushed(): Promise<void> {
    if (this.closing !== undefined) return this.closing;
    await this.lmdb.flushed();
  }

  /**
   * Flushes and closes the store. Idempotent (every call returns the same
   * promise). Afterwards commits touching durable tables throw
   * StoreStateError (they could not be kept), other tables work as before,
   * and lmdb no longer keeps the process alive.
   */
  close(): Promise<void> {
    this.closing ??= this.lmdb.flushed().finally(() => this.lmdb.close());
    return this.closing;
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  /** @internal The hooks stay after close: commits to durable tables must fail rather than go unrecorded. */
  attach(): void {
    this.db.onPrepareCommit((event) => this.writeCommit(event));
    this.db.onNewTable((t) => {
      if (t.durable) {
        throw new StoreStateError(
          this.path,
          t.name,
          'durable table registered after the store was opened: register every durable table before openStore',
        );
      }
    });
  }

  private writeCommit(event: CommitEvent): void {
    let writes: TableWrite[] | undefined;
    for (const ct of event.tables) {
      if (!ct.table.durable) continue;
      if (this.closing !== undefined) {
        throw new StoreStateError(this.path, ct.table.name, 'store is closed: the commit was aborted');
      }
      const table = this.db.table(ct.table.name)!;
      (writes ??= []).push({
        table: table.name,
        revision: ct.revision,
        meta: schemaOf(table),
        puts: ct.upserted.map((e) => ({
          key: (e as Entry<unknown> & { key: string }).key,
          revision: e.revision,
          stored: () => (table.codec === undefined ? e.object : table.codec.encode(e.object)),
        })),
        deletes: ct.deleted.map((e) => (e as Entry<unknown> & { key: string }).key),
      });
    }
    if (writes !== undefined) this.lmdb.writeCommit(writes);
  }
}

/**
 * Opens (or creates) the store file at `path` for every table of `db`
 * declared durable, and restores them, all before returning: call it after
 * registering the tables and before any reader or writer touches them.
 * Then every commit that changes durable tables is written first (see the
 * file comment). Tables in the store that are not durable in `db` are left
 * alone. One store per DB, and one open store per file (an exclusive lock,
 * released by close() or the process's death).
 *
 * Throws (and leaves the DB without a store, its tables empty):
 * StoreUnreadableError (not an LMDB file, truncated, cannot open),
 * StoreIncompatibleError (other store format; a table's version, primary
 * index or key type changed; a row whose key no longer matches its
 * primary index), StoreDecodeError (a row that cannot be decoded),
 * StoreStateError (the DB already has a store, or a durable table was
 * written before the store was opened), StoreLockedError (another open
 * store, in this process or another, holds the file). Each names the file
 * and the table.
 */
export function openStore(db: DB, path: string, opts: OpenStoreOptions = {}): DurableStore {
  const existing = stores.get(db);
  if (existing !== undefined) {
    throw new StoreStateError(path, undefined, `the DB already has a store (${existing.path}${existing.closed ? ', closed' : ''})`);
  }
  const durable = db.tables().filter((t) => t.durable);
  const lmdb = new LmdbStore(path, opts.sync ?? true);
  let restored: RestoredTable[];
  try {
    restored = restoreAll(db, lmdb, durable);
  } catch (e) {
    void lmdb.abandon();
    throw e;
  }
  const store = new DurableStore(db, lmdb, restored);
  store.attach();
  stores.set(db, store);
  return store;
}

/** The DB's store, if openStore was called on it. */
export function storeOf(db: DB): DurableStore | undefined {
  return stores.get(db);
}

function schemaOf(table: AnyTable): Omit<StoredTableMeta, 'revision'> {
  return { version: table.version, primaryIndex: table.primary.name, keyType: table.primary.keyType.name };
}

interface LoadedTable {
  readonly table: AnyTable;
  readonly rows: Entry<unknown>[];
  readonly revision: number;
  readonly created: boolean;
}

// Reads every durable table (in one LMDB transaction, so they are mutually
// consistent), then restores them all in one statedb write transaction.
function restoreAll(db: DB, lmdb: LmdbStore, durable: readonly AnyTable[]): RestoredTable[] {
  for (const t of durable) {
    if (t.revision(db.readTxn()) !== 0 || t.numObjects(db.readTxn()) !== 0) {
      throw new StoreStateError(lmdb.path, t.name, 'table was written before the store was opened; open the store first');
    }
  }
  const loaded = lmdb.transaction(() => {
    lmdb.checkFormat();
    return durable.map((t) => loadTable(lmdb, t));
  });
  if (loaded.length > 0) {
    db.write(
      durable,
      (txn) => {
        for (const l of loaded) if (l.revision > 0) l.table.restore(txn, l.rows, l.revision);
      },
      { holder: `restore from ${lmdb.path}` },
    );
  }
  return loaded.map((l) => ({ table: l.table.name, rows: l.rows.length, revision: l.revision, created: l.created }));
}

function loadTable(lmdb: LmdbStore, table: AnyTable): LoadedTable {
  const want = schemaOf(table);
  const meta = lmdb.tableMeta(table.name);
  if (meta === undefined) {
    lmdb.putTableMeta(table.name, { ...want, revision: 0 });
    return { table, rows: [], revision: 0, created: true };
  }
  const mismatch = (what: string, stored: unknown, now: unknown) =>
    new StoreIncompatibleError(
      lmdb.path,
      table.name,
      `${what} changed: the store has ${JSON.stringify(stored)}, the table declares ${JSON.stringify(now)} (migrate or remove the store)`,
    );
  if (meta.version !== want.version) throw mismatch('row schema version', meta.version, want.version);
  if (meta.primaryIndex !== want.primaryIndex) throw mismatch('primary index', meta.primaryIndex, want.primaryIndex);
  if (meta.keyType !== want.keyType) throw mismatch('primary key type', meta.keyType, want.keyType);
  const rows: Entry<unknown>[] = [];
  for (const r of lmdb.readRows(table.name)) {
    let object: unknown;
    try {
      object = table.codec === undefined ? r.stored : table.codec.decode(r.stored);
    } catch (e) {
      throw new StoreDecodeError(lmdb.path, table.name, `row ${describeKey(r.key)}: codec.decode failed: ${(e as Error).message}`, {
        cause: e,
      });
    }
    let key: string;
    try {
      key = table.primaryKeyOf(object);
    } catch (e) {
      throw new StoreDecodeError(lmdb.path, table.name, `row ${describeKey(r.key)}: no primary key: ${(e as Error).message}`, {
        cause: e,
      });
    }
    if (key !== r.key) {
      throw new StoreIncompatibleError(
        lmdb.path,
        table.name,
        `row stored under key ${describeKey(r.key)} now has key ${describeKey(key)}: the primary index changed (migrate or remove the store)`,
      );
    }
    if (r.revision > meta.revision) {
      throw new StoreDecodeError(lmdb.path, table.name, `row ${describeKey(key)} has revision ${r.revision} above the table revision ${meta.revision}`);
    }
    rows.push({ object, revision: r.revision });
  }
  return { table, rows, revision: meta.revision, created: false };
}
