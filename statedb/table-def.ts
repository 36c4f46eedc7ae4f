// What a table definition is made of: the shape DB.newTable takes, the
// stored-row codec of durable tables, and the small result types of queries.
import type { IndexDef } from './indexes.js';
import type { Watch } from './watch.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type SecondaryDefs<T> = Record<string, IndexDef<T, any>>;
export type KeyOfDef<D> = D extends IndexDef<infer _T, infer K> ? K : never;

/** How to build a table; see DB.newTable. */
export interface TableDef<T, PK, S extends SecondaryDefs<T>> {
  /** ^[a-z][a-z0-9_-]{0,30}$, unique in the DB. */
  readonly name: string;
  /** A uniqueIndex (one key per object). */
  readonly primary: IndexDef<T, PK>;
  /** Secondary indexes by the property name they get on `table.secondary`. */
  readonly secondary?: S;
  /** Column titles for `db show`-style output. */
  readonly header?: readonly string[];
  /** One row's cells, matching `header`. */
  readonly row?: (obj: T) => readonly string[];
  /** The row as plain JSON (default: the object itself). */
  readonly toJSON?: (obj: T) => unknown;
  /**
   * Persist the table in the DB's store (see openStore): rows survive a
   * restart with their revisions. Default false: a table costs nothing extra.
   */
  readonly durable?: boolean;
  /** Version of the row schema kept in the store (default 1); a mismatch on open is an error. */
  readonly version?: number;
  /** How rows are stored when they do not round-trip through msgpack as they are (default: as they are). */
  readonly codec?: RowCodec<T>;
}

/** Converts rows to and from what a durable table stores. Both directions must be pure. */
export interface RowCodec<T> {
  /** The stored form: plain data msgpack round-trips (objects, arrays, strings, numbers, bigint, Map, Date, bytes). */
  encode(obj: T): unknown;
  /** The row from its stored form; throwing makes opening the store fail naming the table and key. */
  decode(stored: unknown): T;
}

/** A query result with the watch to wait on for it to change. */
export interface Watched<R> {
  readonly result: R;
  readonly watch: Watch;
}

/** What `initialized` answers. */
export interface InitializedState {
  readonly initialized: boolean;
  /** Closed once initialized; otherwise closes after the commit that completes the last initializer. */
  readonly watch: Watch;
}
