// The on-disk layout of durable tables, in one LMDB environment (one file):
//   meta  "format"        -> { format: "flagella-statedb", version: 1 }
//   meta  "table:<name>"  -> { version, primaryIndex, keyType, revision }
//   rows  <name> 00 <primary key bytes> -> [revision, stored row]
// Table names cannot contain a NUL byte, so "<name> 00" prefixes exactly
// one table's rows, in primary-key order. Values are msgpack (lmdb's
// default encoding). Knows LMDB; knows nothing of DB or transactions.
import { createRequire } from 'node:module';
import type * as Lmdb from 'lmdb';
import type { Database, RootDatabase } from 'lmdb';
import { describeKey } from './binary.js';
import { checkStoreFile } from './durable-file.js';
import { OwnerLock } from './owner-lock.js';
import {
  StoreDecodeError,
  StoreIncompatibleError,
  StoreUnreadableError,
  StoreWriteError,
} from './durable-errors.js';

// lmdb is loaded on first use, synchronously (its CommonJS build): it costs
// ~60 ms of start-up that programs without durable tables should not pay.
let lmdbModule: typeof Lmdb | undefined;
function lmdb(): typeof Lmdb {
  return (lmdbModule ??= createRequire(import.meta.url)('lmdb') as typeof Lmdb);
}

export const STORE_FORMAT = 'flagella-statedb';
export const STORE_FORMAT_VERSION = 1;

/** What the store records about a table's schema, checked on every open. */
export interface StoredTableMeta {
  readonly version: number;
  readonly primaryIndex: string;
  readonly keyType: string;
  readonly revision: number;
}

/** One row as read back: the encoded primary key, its revision and the stored form. */
export interface StoredRow {
  readonly key: string;
  readonly revision: number;
  readonly stored: unknown;
}

/** One table's share of a commit, ready to write. */
export interface TableWrite {
  readonly table: string;
  readonly revision: number;
  readonly meta: Omit<StoredTableMeta, 'revision'>;
  readonly puts: Iterable<{ readonly key: string; readonly revision: number; readonly stored: () => unknown }>;
  readonly deletes: Iterable<string>;
}

export class LmdbStore {
  private readonly env: RootDatabase;
  private readonly meta: Database<unknown, string>;
  private readonly rows: Database<unknown, Buffer>;

  private readonly owner: OwnerLock;

  /**
   * Takes the store's owner lock (see owner-lock.ts), then opens (creating
   * when absent) the store file. `sync: false` skips the fsync of each
   * commit (lmdb noSync). Throws StoreLockedError, StoreUnreadableError.
   */
  constructor(
    readonly path: string,
    sync = true,
  ) {
    this.owner = OwnerLock.acquire(path);
    try {
      checkStoreFile(path);
      try {
        this.env = lmdb().open({ path, noSubdir: true, maxDbs: 4, ...(sync ? {} : { noSync: true }) });
        this.meta = this.env.openDB<unknown, string>({ name: 'meta' });
        this.rows = this.env.openDB<unknown, Buffer>({ name: 'rows', keyEncoding: 'binary' });
      } catch (e) {
        throw new StoreUnreadableError(path, undefined, `cannot open: ${(e as Error).message}`, { cause: e });
      }
    } catch (e) {
      this.owner.release();
      throw e;
    }
  }

  /**
   * Runs fn in one synchronous LMDB write transaction: all of its writes
   * land or none do. Throwing from fn aborts the LMDB transaction.
   */
  transaction<R>(fn: () => R): R {
    return this.env.transactionSync(fn);
  }

  /** Checks the store format, writing it into a new store. Call inside transaction(). */
  checkFormat(): void {
    let format: unknown;
    try {
      format = this.meta.get('format');
    } catch (e) {
      throw new StoreUnreadableError(this.path, undefined, `unreadable format record: ${(e as Error).message}`, { cause: e });
    }
    if (format === undefined) {
      if (this.meta.getKeysCount() > 0 || this.rows.getKeysCount() > 0) {
        throw new StoreIncompatibleError(this.path, undefined, 'holds data but no format record: not a flagella store');
      }
      this.meta.putSync('format', { format: STORE_FORMAT, version: STORE_FORMAT_VERSION });
      return;
    }
    const f = format as { format?: unknown; version?: unknown };
    if (f.format !== STORE_FORMAT) {
      throw new StoreIncompatibleError(this.path, undefined, `not a flagella store (format ${JSON.stringify(f.format)})`);
    }
    if (f.version !== STORE_FORMAT_VERSION) {
      throw new StoreIncompatibleError(
        this.path,
        undefined,
        `store format version ${String(f.version)}, this build reads version ${STORE_FORMAT_VERSION}`,
      );
    }
  }

  /** The table's stored schema record, or undefined for a table new to the store. */
  tableMeta(table: string): StoredTableMeta | undefined {
    let m: unknown;
    try {
      m = this.meta.get(`table:${table}`);
    } catch (e) {
      throw new StoreDecodeError(this.path, table, `unreadable table record: ${(e as Error).message}`, { cause: e });
    }
    if (m === undefined) return undefined;
    const r = m as Partial<StoredTableMeta>;
    if (
      typeof r.version !== 'number' ||
      typeof r.primaryIndex !== 'string' ||
      typeof r.keyType !== 'string' ||
      typeof r.revision !== 'number'
    ) {
      throw new StoreDecodeError(this.path, table, `malformed table record ${JSON.stringify(m)}`);
    }
    return r as StoredTableMeta;
  }

  /** Records a table's schema and revision. Call inside transaction(). */
  putTableMeta(table: string, meta: StoredTableMeta): void {
    this.meta.putSync(`table:${table}`, meta);
  }

  /** Every stored row of a table, in primary-key order. Throws StoreDecodeError naming the key that fails. */
  readRows(table: string): StoredRow[] {
    const { start, end } = tableRange(table);
    const out: StoredRow[] = [];
    try {
      for (const { key, value } of this.rows.getRange({ start, end })) out.push(this.row(table, key, value));
    } catch (e) {
      if (e instanceof StoreDecodeError) throw e;
      // A value msgpack cannot decode: find which one, key by key.
      for (const key of this.rows.getKeys({ start, end })) {
        let value: unknown;
        try {
          value = this.rows.get(key);
        } catch (inner) {
          throw this.decodeError(table, key, (inner as Error).message, inner);
        }
        this.row(table, key, value);
      }
      throw new StoreDecodeError(this.path, table, `cannot read rows: ${(e as Error).message}`, { cause: e });
    }
    return out;
  }

  /** Writes one commit's changes of every durable table, in one LMDB transaction. Throws StoreWriteError. */
  writeCommit(writes: readonly TableWrite[]): void {
    let current = '';
    try {
      this.env.transactionSync(() => {
        for (const w of writes) {
          current = w.table;
          const prefix = Buffer.from(`${w.table}\0`, 'latin1');
          for (const put of w.puts) {
            this.rows.putSync(rowKey(prefix, put.key), [put.revision, put.stored()]);
          }
          for (const key of w.deletes) this.rows.removeSync(rowKey(prefix, key));
          this.meta.putSync(`table:${w.table}`, { ...w.meta, revision: w.revision });
        }
      });
    } catch (e) {
      throw new StoreWriteError(this.path, current, `commit not written, so it was aborted: ${(e as Error).message}`, {
        cause: e,
      });
    }
  }

  /** Resolves once every write so far is flushed to disk (fsync). */
  async flushed(): Promise<void> {
    await this.env.flushed;
  }

  /**
   * After a failed open (nothing written): gives the owner lock up at once,
   * so the caller can fix things and open again, and closes in the background.
   */
  abandon(): Promise<void> {
    this.owner.release();
    return this.env.close();
  }

  /** Closes the environment; lmdb's worker no longer keeps the process alive. */
  async close(): Promise<void> {
    try {
      await this.env.close();
    } finally {
      this.owner.release();
    }
  }

  private row(table: string, key: Buffer, value: unknown): StoredRow {
    if (!Array.isArray(value) || value.length !== 2 || !Number.isSafeInteger(value[0]) || (value[0] as number) <= 0) {
      throw this.decodeError(table, key, 'malformed row record (expected [revision, row])');
    }
    return { key: key.subarray(table.length + 1).toString('latin1'), revision: value[0] as number, stored: value[1] };
  }

  private decodeError(table: string, key: Buffer, why: string, cause?: unknown): StoreDecodeError {
    const pk = describeKey(key.subarray(table.length + 1).toString('latin1'));
    return new StoreDecodeError(this.path, table, `row ${pk}: ${why}`, { cause });
  }
}

function tableRange(table: string): { start: Buffer; end: Buffer } {
  return { start: Buffer.from(`${table}\0`, 'latin1'), end: Buffer.from(`${table}\x01`, 'latin1') };
}

function rowKey(prefix: Buffer, key: string): Buffer {
  const out = Buffer.allocUnsafe(prefix.length + key.length);
  prefix.copy(out, 0);
  out.write(key, prefix.length, 'latin1');
  return out;
}
