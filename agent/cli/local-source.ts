// A DataSource over a DB in this process: the demo database today, and any
// embedding program's DB (tests, the REPL) later.
import {
  describeTable,
  formatRow,
  getByString,
  KeyParseError,
  listByString,
  lowerBoundByString,
  plainRow,
  prefixByString,
  UnknownIndexError,
  waitAny,
  WaitAbortedError,
} from '../../statedb/index.js';
import type { AnyTable, DB, Entry, TableInfo } from '../../statedb/index.js';
import { DataSourceError } from './data-source.js';
import type { DataSource, QueryKind, RowSet, RowShape, SourceChange, SourceRow } from './data-source.js';

export interface LocalDataSourceOptions {
  /** Shown in messages (default "local database"). */
  readonly description?: string;
  /** Called once by close(), e.g. to stop the demo's activity or close a store. */
  readonly onClose?: () => Promise<void> | void;
  /** Called when a watch starts (the demo starts its activity). */
  readonly onWatch?: () => void;
}

export class LocalDataSource implements DataSource {
  readonly description: string;
  private closing: Promise<void> | undefined;

  constructor(
    private readonly db: DB,
    private readonly opts: LocalDataSourceOptions = {},
  ) {
    this.description = opts.description ?? 'local database';
  }

  tables(): Promise<readonly TableInfo[]> {
    return answer(() => {
      const txn = this.db.readTxn();
      return this.db.tables().map((t) => describeTable(txn, t));
    });
  }

  describe(table: string): Promise<TableInfo> {
    return answer(() => describeTable(this.db.readTxn(), this.table(table)));
  }

  /** Gives objects and cells whatever `shape` asks (both are at hand). */
  query(table: string, kind: QueryKind, index: string, key: string, _shape?: RowShape): Promise<RowSet> {
    return answer(() => this.querySync(table, kind, index, key));
  }

  private querySync(table: string, kind: QueryKind, index: string, key: string): RowSet {
    const t = this.table(table);
    const txn = this.db.readTxn();
    try {
      let entries: Iterable<Entry<unknown>>;
      if (kind === 'get') {
        const e = getByString(txn, t, index, key);
        entries = e === undefined ? [] : [e];
      } else if (kind === 'list') entries = listByString(txn, t, index, key);
      else if (kind === 'prefix') entries = prefixByString(txn, t, index, key);
      else entries = lowerBoundByString(txn, t, index, key);
      return rowSet(t, entries);
    } catch (e) {
      throw this.badRequest(t, index, key, e);
    }
  }

  all(table: string, _shape?: RowShape): Promise<RowSet> {
    return answer(() => {
      const t = this.table(table);
      return rowSet(t, t.all(this.db.readTxn()));
    });
  }

  async *watch(table: string, signal: AbortSignal): AsyncIterable<SourceChange> {
    const t = this.table(table);
    this.opts.onWatch?.();
    const it = t.changes();
    try {
      while (!signal.aborted) {
        const { changes, watch } = it.next();
        for (const c of changes) yield { ...sourceRow(t, c), deleted: c.deleted };
        try {
          await waitAny([watch], signal);
        } catch (e) {
          if (e instanceof WaitAbortedError) return;
          throw e;
        }
      }
    } finally {
      it.close();
    }
  }

  close(): Promise<void> {
    this.closing ??= Promise.resolve(this.opts.onClose?.());
    return this.closing;
  }

  private table(name: string): AnyTable {
    const t = this.db.table(name);
    if (t === undefined) {
      const known = this.db.tables().map((x) => x.name);
      throw new DataSourceError(
        'not-found',
        `table "${name}" not found; the tables are: ${known.length === 0 ? '(none)' : known.join(', ')}`,
      );
    }
    return t;
  }

  private badRequest(t: AnyTable, index: string, key: string, e: unknown): unknown {
    if (e instanceof UnknownIndexError) {
      const names = [...t.indexes.keys()];
      return new DataSourceError('bad-request', `${e.message}; the indexes are: ${names.join(', ')}`, { cause: e });
    }
    if (e instanceof KeyParseError) {
      const where = index === '' ? `primary index "${t.primary.name}"` : `index "${index}"`;
      return new DataSourceError('bad-request', `table "${t.name}": bad key ${JSON.stringify(key)} for ${where}: ${e.message}`, {
        cause: e,
      });
    }
    return e;
  }
}

/** fn's result as a promise; a throw becomes a rejection, as from a remote source. */
function answer<R>(fn: () => R): Promise<R> {
  try {
    return Promise.resolve(fn());
  } catch (e) {
    return Promise.reject(e instanceof Error ? e : new Error(String(e)));
  }
}

function sourceRow(t: AnyTable, e: Entry<unknown>): SourceRow {
  const cells = t.row === undefined ? undefined : safeCells(t, e.object);
  return cells === undefined
    ? { revision: e.revision, object: plainRow(t, e.object) }
    : { revision: e.revision, object: plainRow(t, e.object), cells };
}

function safeCells(t: AnyTable, obj: unknown): readonly string[] | undefined {
  try {
    return formatRow(t, obj);
  } catch (e) {
    return (t.header ?? []).map(() => `error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function rowSet(t: AnyTable, entries: Iterable<Entry<unknown>>): RowSet {
  const rows = [...entries].map((e) => sourceRow(t, e));
  if (t.header === undefined) return { table: t.name, rows };
  return { table: t.name, rows, cells: { header: t.header, rows: rows.map((r) => r.cells ?? []) } };
}
