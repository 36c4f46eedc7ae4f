// A DataSource over a running agent's HTTP API (GET /v1/tables...), so the
// `db` commands and the REPL print a remote table exactly as a local one.
import type { IndexInfo, TableInfo } from '../../statedb/index.js';
import { AgentUnreachableError, ApiProtocolError, ApiResponseError } from './api-client.js';
import type { ApiClient } from './api-client.js';
import { DataSourceError } from './data-source.js';
import type { DataSource, QueryKind, RowSet, RowShape, SourceChange, SourceRow } from './data-source.js';

/** /v1/tables items as the contract gives them; anything missing reads as empty. */
interface ApiTableInfo {
  name?: unknown;
  objects?: unknown;
  revision?: unknown;
  indexes?: unknown;
  initialized?: unknown;
  pendingInitializers?: unknown;
  deleteTrackers?: unknown;
  zombies?: unknown;
}

interface ApiIndexInfo {
  name?: unknown;
  kind?: unknown;
  unique?: unknown;
  multi?: unknown;
  keyType?: unknown;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown): string => (typeof v === 'string' ? v : '');

function indexInfo(i: ApiIndexInfo): IndexInfo {
  const kind = str(i.kind);
  return {
    name: str(i.name),
    kind: kind === 'primary' || kind === 'unique' || kind === 'lpm' ? kind : 'non-unique',
    unique: i.unique === true,
    multi: i.multi === true,
    keyType: str(i.keyType),
  };
}

function tableInfo(t: ApiTableInfo): TableInfo {
  return {
    name: str(t.name),
    objects: num(t.objects),
    revision: num(t.revision),
    indexes: Array.isArray(t.indexes) ? (t.indexes as ApiIndexInfo[]).map(indexInfo) : [],
    initialized: t.initialized !== false,
    pendingInitializers: Array.isArray(t.pendingInitializers) ? t.pendingInitializers.map(String) : [],
    deleteTrackers: num(t.deleteTrackers),
    zombies: num(t.zombies),
    header: undefined,
  };
}

function sourceRow(item: unknown, path: string): SourceRow {
  if (typeof item !== 'object' || item === null || !('object' in item)) {
    throw new ApiProtocolError(`${path}: expected {"revision", "object"} rows, got ${JSON.stringify(item)?.slice(0, 200)}`);
  }
  const r = item as { revision?: unknown; object: unknown };
  return { revision: num(r.revision), object: r.object };
}

/** The DataSourceError for a failed API call (other errors pass through). */
export function dataSourceErrorOf(e: unknown): unknown {
  if (e instanceof AgentUnreachableError) return new DataSourceError('unreachable', e.message, { cause: e });
  if (e instanceof ApiResponseError) {
    if (e.status === 404) return new DataSourceError('not-found', e.apiMessage, { cause: e });
    if (e.status === 400) return new DataSourceError('bad-request', e.apiMessage, { cause: e });
    return new DataSourceError('failed', `the agent answered ${e.status}: ${e.apiMessage}`, { cause: e });
  }
  if (e instanceof ApiProtocolError) return new DataSourceError('failed', e.message, { cause: e });
  return e;
}

async function mapped<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw dataSourceErrorOf(e);
  }
}

export class AgentDataSource implements DataSource {
  readonly description: string;

  constructor(readonly client: ApiClient) {
    this.description = `agent at ${client.socketPath}`;
  }

  tables(): Promise<readonly TableInfo[]> {
    return mapped(async () => {
      const list = await this.client.get<unknown>('/v1/tables');
      if (!Array.isArray(list)) throw new ApiProtocolError(`/v1/tables: expected a list, got ${typeof list}`);
      return (list as ApiTableInfo[]).map(tableInfo);
    });
  }

  async describe(table: string): Promise<TableInfo> {
    const all = await this.tables();
    const found = all.find((t) => t.name === table);
    if (found === undefined) {
      const known = all.map((t) => t.name);
      throw new DataSourceError('not-found', `table "${table}" not found; the tables are: ${known.length === 0 ? '(none)' : known.join(', ')}`);
    }
    return found;
  }

  query(table: string, kind: QueryKind, index: string, key: string, shape: RowShape): Promise<RowSet> {
    const params = new URLSearchParams({ op: kind, key });
    if (index !== '') params.set('index', index);
    return this.rows(table, params, shape);
  }

  all(table: string, shape: RowShape): Promise<RowSet> {
    return this.rows(table, new URLSearchParams(), shape);
  }

  private rows(table: string, params: URLSearchParams, shape: RowShape): Promise<RowSet> {
    params.set('format', shape === 'cells' ? 'table' : 'json');
    const path = `/v1/tables/${encodeURIComponent(table)}?${params.toString()}`;
    return mapped(async () => {
      const body = await this.client.get<unknown>(path);
      if (shape === 'cells') {
        const t = body as { header?: unknown; rows?: unknown };
        if (!Array.isArray(t.header) || !Array.isArray(t.rows)) throw new ApiProtocolError(`${path}: expected {"header", "rows"}`);
        return { table, cells: { header: t.header.map(String), rows: (t.rows as unknown[][]).map((r) => r.map(String)) } };
      }
      if (!Array.isArray(body)) throw new ApiProtocolError(`${path}: expected a list of rows`);
      return { table, rows: body.map((r) => sourceRow(r, path)) };
    });
  }

  async *watch(table: string, signal: AbortSignal): AsyncIterable<SourceChange> {
    const path = `/v1/tables/${encodeURIComponent(table)}/changes`;
    try {
      for await (const item of this.client.stream(path, signal)) {
        const row = sourceRow(item, path);
        yield { ...row, deleted: (item as { deleted?: unknown }).deleted === true };
      }
    } catch (e) {
      throw dataSourceErrorOf(e);
    }
  }

  close(): Promise<void> {
    return Promise.resolve();
  }
}
