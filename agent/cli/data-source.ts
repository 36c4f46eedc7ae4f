// Where the `db` commands read from. Narrow and async so one interface
// serves the in-process database (LocalDataSource) and a running agent over
// its unix socket (AgentDataSource): everything crossing it is plain data.
import type { Cells, TableInfo } from '../../statedb/index.js';

export type QueryKind = 'get' | 'list' | 'prefix' | 'lowerbound';

/** One row as the CLI prints it. */
export interface SourceRow {
  readonly revision: number;
  /** The row as plain JSON data (the table's toJSON). */
  readonly object: unknown;
  /** The row's cells matching the table's header, when the source formats rows (local tables with a header). */
  readonly cells?: readonly string[];
}

/**
 * What a reader wants of the rows: the JSON objects (with revisions), or the
 * cells the table's own formatting makes (aligned-table output). A source
 * may give both; it gives at least the one asked for.
 */
export type RowShape = 'objects' | 'cells';

/** Rows of one table. */
export interface RowSet {
  readonly table: string;
  /** The rows as objects with revisions (always when 'objects' was asked for). */
  readonly rows?: readonly SourceRow[];
  /** The rows as cells under the table's header (always when 'cells' was asked for). */
  readonly cells?: Cells;
}

/** One change streamed by watch: an upsert, or a deletion with the delete revision. */
export interface SourceChange extends SourceRow {
  readonly deleted: boolean;
}

/**
 * Why a data source refused a request; the CLI maps it to an exit code:
 * not-found 3, bad-request 2, unreachable 4 (no agent answers), failed 1
 * (the source answered with an error).
 */
export type DataSourceErrorKind = 'not-found' | 'bad-request' | 'unreachable' | 'failed';

export class DataSourceError extends Error {
  constructor(
    readonly kind: DataSourceErrorKind,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'DataSourceError';
  }
}

/**
 * The `db` commands' view of a database. Every method rejects with
 * DataSourceError: 'not-found' for an unknown table (the message lists the
 * known ones), 'bad-request' for an unknown index or a key that does not
 * parse (the message says why), 'unreachable' when nothing answers,
 * 'failed' when the source answered with an error.
 */
export interface DataSource {
  /** Shown in messages, e.g. "local demo database". */
  readonly description: string;
  /** Every table, in registration order. */
  tables(): Promise<readonly TableInfo[]>;
  /** One table's metadata. */
  describe(table: string): Promise<TableInfo>;
  /** Rows by index ("" = primary) and key text, with `kind`'s semantics; `get` returns at most one row. */
  query(table: string, kind: QueryKind, index: string, key: string, shape: RowShape): Promise<RowSet>;
  /** Every row, in primary-key order. */
  all(table: string, shape: RowShape): Promise<RowSet>;
  /**
   * The table's changes: every current row as an upsert first, then each
   * change as it commits, until `signal` aborts or the consumer stops
   * iterating (either releases what the watch holds). Rejects before the
   * first change for an unknown table.
   */
  watch(table: string, signal: AbortSignal): AsyncIterable<SourceChange>;
  /** Releases the source (idempotent). */
  close(): Promise<void>;
}
