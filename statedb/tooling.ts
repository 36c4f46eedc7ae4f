// Untyped access for tooling (CLI, HTTP API, REPL): tables and indexes by
// name, keys as text, rows as plain JSON, table metadata. The typed API is
// the one to use in code; these helpers trade compile-time checks for names.
import type { AnyTable, DB } from './db.js';
import type { Entry } from './entry.js';
import { StateDBError } from './errors.js';
import type { Query } from './table-index.js';
import { REVISION_INDEX_NAME } from './table-index.js';
import type { Txn } from './txn.js';

/** An index name is not defined on the table. */
export class UnknownIndexError extends StateDBError {}

/** A table name is not registered in the DB. */
export class UnknownTableError extends StateDBError {}

/** The table called name; throws UnknownTableError naming it. */
export function tableByName(db: DB, name: string): AnyTable {
  const t = db.table(name);
  if (t === undefined) throw new UnknownTableError(`table "${name}" not found`);
  return t;
}

/**
 * A query on `indexName` ("" means the primary index, "__revision__" the
 * revision index) from the key's text form. Throws UnknownIndexError or
 * KeyParseError.
 */
export function queryByString<T>(table: AnyTable, indexName: string, keyText: string): Query<T> {
  if (indexName === REVISION_INDEX_NAME) return table.revisionIndex.parse(keyText) as Query<T>;
  const index = indexName === '' ? table.primary : table.indexes.get(indexName);
  if (index === undefined) throw new UnknownIndexError(`table "${table.name}": invalid index "${indexName}"`);
  return index.parse(keyText) as Query<T>;
}

/** get by index name and key text. */
export function getByString(txn: Txn, table: AnyTable, indexName: string, keyText: string): Entry<unknown> | undefined {
  return table.getEntry(txn, queryByString(table, indexName, keyText)) as Entry<unknown> | undefined;
}

/** list by index name and key text. */
export function listByString(txn: Txn, table: AnyTable, indexName: string, keyText: string): Iterable<Entry<unknown>> {
  return table.list(txn, queryByString(table, indexName, keyText)) as Iterable<Entry<unknown>>;
}

/** prefix by index name and key text. */
export function prefixByString(txn: Txn, table: AnyTable, indexName: string, keyText: string): Iterable<Entry<unknown>> {
  return table.prefix(txn, queryByString(table, indexName, keyText)) as Iterable<Entry<unknown>>;
}

/** lowerBound by index name and key text. */
export function lowerBoundByString(
  txn: Txn,
  table: AnyTable,
  indexName: string,
  keyText: string,
): Iterable<Entry<unknown>> {
  return table.lowerBound(txn, queryByString(table, indexName, keyText)) as Iterable<Entry<unknown>>;
}

/** A row as plain JSON, through the table's toJSON (identity by default). */
export function rowToJSON(table: AnyTable, obj: unknown): unknown {
  return table.toJSON(obj);
}

/** One index as tooling shows it. */
export interface IndexInfo {
  readonly name: string;
  readonly kind: 'primary' | 'unique' | 'non-unique' | 'lpm';
  readonly unique: boolean;
  readonly multi: boolean;
  readonly keyType: string;
}

/** A table as tooling shows it (the `db` command). */
export interface TableInfo {
  readonly name: string;
  readonly indexes: readonly IndexInfo[];
  readonly objects: number;
  readonly revision: number;
  /** Deleted objects retained for change iterators. */
  readonly zombies: number;
  readonly deleteTrackers: number;
  readonly initialized: boolean;
  readonly pendingInitializers: readonly string[];
  readonly header: readonly string[] | undefined;
}

/** Metadata of one table as of txn. */
export function describeTable(txn: Txn, table: AnyTable): TableInfo {
  const indexes: IndexInfo[] = [...table.indexes.values()].map((i) => ({
    name: i.name,
    kind: i.kind === 'revision' ? 'unique' : i.kind,
    unique: i.unique,
    multi: i.multi,
    keyType: i.keyType.name,
  }));
  return {
    name: table.name,
    indexes,
    objects: table.numObjects(txn),
    revision: table.revision(txn),
    zombies: table.graveyardSize,
    deleteTrackers: table.deleteTrackers,
    initialized: table.initialized(txn).initialized,
    pendingInitializers: table.pendingInitializers(txn),
    header: table.header,
  };
}

/** Header and cells of a row, or undefined when the table defines no formatting. */
export function formatRow(table: AnyTable, obj: unknown): readonly string[] | undefined {
  return table.row === undefined ? undefined : (table.row(obj));
}
