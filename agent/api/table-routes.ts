// GET /v1/tables, /v1/tables/{name} and /v1/tables/{name}/changes: the
// state database's tables as JSON, queried by index and key text with the
// same parsers as the CLI, and a change stream as newline-delimited JSON.
import type { ServerResponse } from 'node:http';
import {
  describeTable,
  getByString,
  KeyParseError,
  listByString,
  lowerBoundByString,
  plainRow,
  prefixByString,
  tableCells,
  UnknownIndexError,
  waitAny,
  WaitAbortedError,
  type AnyTable,
  type DB,
  type Entry,
  type TableInfo,
} from '../../statedb/index.js';
import { HttpError, sendJSON, writeLine } from './http-util.js';

const OPS = ['get', 'list', 'prefix', 'lowerbound'] as const;
type Op = (typeof OPS)[number];
const FORMATS = ['json', 'table'] as const;

/** Every table's metadata, in registration order. */
export function listTables(db: DB): TableInfo[] {
  const txn = db.readTxn();
  return db.tables().map((t) => describeTable(txn, t));
}

/** The table called `name`; HttpError 404 naming it and listing the known ones. */
export function tableOr404(db: DB, name: string): AnyTable {
  const t = db.table(name);
  if (t !== undefined) return t;
  const known = db.tables().map((x) => x.name);
  throw new HttpError(404, `table "${name}" not found; the tables are: ${known.join(', ')}`, { tables: known });
}

function oneOf<T extends string>(params: URLSearchParams, name: string, allowed: readonly T[], fallback: T): T {
  const v = params.get(name);
  if (v === null) return fallback;
  if ((allowed as readonly string[]).includes(v)) return v as T;
  throw new HttpError(400, `query parameter ${name}=${JSON.stringify(v)} is not one of ${allowed.join(', ')}`);
}

/** The rows a query selects (see the contract); HttpError 400 for a bad index, key or parameter. */
export function queryRows(db: DB, table: AnyTable, params: URLSearchParams): Entry<unknown>[] {
  const unknown = [...params.keys()].filter((k) => !['index', 'key', 'op', 'format'].includes(k));
  if (unknown.length > 0) throw new HttpError(400, `unknown query parameter(s) ${unknown.join(', ')}; use index, key, op, format`);
  const index = params.get('index') ?? '';
  const key = params.get('key');
  const txn = db.readTxn();
  if (key === null) {
    if (params.has('op')) throw new HttpError(400, `op=${params.get('op')} needs a key parameter`);
    if (index !== '' && index !== table.primary.name && !table.indexes.has(index)) throw unknownIndex(table, index);
    return [...table.all(txn)];
  }
  const op: Op = oneOf(params, 'op', OPS, 'list');
  try {
    switch (op) {
      case 'get': {
        const e = getByString(txn, table, index, key);
        return e === undefined ? [] : [e];
      }
      case 'list':
        return [...listByString(txn, table, index, key)];
      case 'prefix':
        return [...prefixByString(txn, table, index, key)];
      case 'lowerbound':
        return [...lowerBoundByString(txn, table, index, key)];
    }
  } catch (err) {
    if (err instanceof UnknownIndexError) throw unknownIndex(table, index);
    if (err instanceof KeyParseError) {
      const where = index === '' ? `primary index "${table.primary.name}"` : `index "${index}"`;
      throw new HttpError(400, `table "${table.name}": bad key ${JSON.stringify(key)} for ${where}: ${err.message}`);
    }
    throw err;
  }
}

function unknownIndex(table: AnyTable, index: string): HttpError {
  const names = [...table.indexes.keys()];
  return new HttpError(400, `table "${table.name}": unknown index "${index}"; the indexes are: ${names.join(', ')}`, { indexes: names });
}

/** GET /v1/tables/{name}: rows as `[{revision, object}]`, or `{header, rows}` with format=table. */
export function sendRows(db: DB, res: ServerResponse, table: AnyTable, params: URLSearchParams): void {
  const format = oneOf(params, 'format', FORMATS, 'json');
  const entries = queryRows(db, table, params);
  if (format === 'table') {
    const cells = tableCells(table, entries.map((e) => e.object));
    sendJSON(res, 200, { header: cells.header, rows: cells.rows });
    return;
  }
  sendJSON(res, 200, entries.map((e) => ({ revision: e.revision, object: plainRow(table, e.object) })));
}

/**
 * GET /v1/tables/{name}/changes: every current row as an upsert, then each
 * change as it commits, `{"keepalive":true}` after `keepaliveMs` of quiet.
 * Ends (closing the change iterator) when the client goes away or `stop`
 * aborts.
 */
export async function streamChanges(res: ServerResponse, table: AnyTable, stop: AbortSignal, keepaliveMs: number): Promise<void> {
  const gone = new AbortController();
  const onClose = () => gone.abort();
  res.on('close', onClose);
  const onStop = () => gone.abort();
  stop.addEventListener('abort', onStop, { once: true });
  const it = table.changes();
  try {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    res.flushHeaders();
    while (!gone.signal.aborted) {
      const { changes, watch } = it.next();
      for (const c of changes) {
        if (!(await writeLine(res, { revision: c.revision, deleted: c.deleted, object: plainRow(table, c.object) }))) return;
      }
      const quiet = AbortSignal.any([gone.signal, AbortSignal.timeout(keepaliveMs)]);
      try {
        await waitAny([watch], quiet);
      } catch (err) {
        if (!(err instanceof WaitAbortedError)) throw err;
        if (gone.signal.aborted) return;
        if (!(await writeLine(res, { keepalive: true }))) return;
      }
    }
  } finally {
    it.close();
    res.off('close', onClose);
    stop.removeEventListener('abort', onStop);
    if (!res.writableEnded) res.end();
  }
}
