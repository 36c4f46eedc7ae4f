// JSON dumps of tables: rows through the table's toJSON, then made plain
// (bigint, Map, Set and byte arrays have no JSON form of their own). A row
// whose serialisation throws is written as an "error: ..." string, as
// upstream does, so one bad row never hides the others.
import type { AnyTable } from './db.js';
import type { Txn } from './txn.js';

/**
 * The row as plain JSON data (what JSON.parse would return): the table's
 * toJSON, then bigint -> decimal string, Map -> object (or [key, value]
 * pairs when a key is not a string or number), Set -> array, typed arrays
 * -> arrays of numbers. Returns "error: <message>" when any step throws
 * (a throwing toJSON, a cycle).
 */
export function plainRow(table: AnyTable, obj: unknown): unknown {
  try {
    return toPlain(table.toJSON(obj));
  } catch (e) {
    return `error: ${e instanceof Error ? e.message : String(e)}`;
  }
}

/** Any value as plain JSON data (see plainRow); throws on cycles. */
export function toPlain(value: unknown): unknown {
  const text = JSON.stringify(value, plainReplacer);
  return text === undefined ? null : (JSON.parse(text) as unknown);
}

function plainReplacer(_key: string, value: unknown): unknown {
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Map) {
    const entries = [...(value as Map<unknown, unknown>).entries()];
    return entries.every(([k]) => typeof k === 'string' || typeof k === 'number') ? Object.fromEntries(entries) : entries;
  }
  if (value instanceof Set) return [...(value as Set<unknown>)];
  if (ArrayBuffer.isView(value) && !(value instanceof DataView)) return Array.from(value as unknown as ArrayLike<number>);
  return value;
}

/** Every table's rows, in primary-key order, as plain JSON data: `{ "<table>": [row, ...] }`. */
export function dumpTables(txn: Txn, tables: Iterable<AnyTable>): Record<string, unknown[]> {
  const out: Record<string, unknown[]> = {};
  for (const t of tables) {
    const rows: unknown[] = [];
    for (const { object } of t.all(txn)) rows.push(plainRow(t, object));
    out[t.name] = rows;
  }
  return out;
}

/**
 * The dump as JSON text in chunks (one per row), for writing a large dump
 * to a stream without building it in memory. Same content as dumpJSON.
 */
export function* dumpJSONChunks(txn: Txn, tables: Iterable<AnyTable>): Generator<string> {
  yield '{';
  let firstTable = true;
  for (const t of tables) {
    yield `${firstTable ? '' : ','}\n  ${JSON.stringify(t.name)}: [`;
    firstTable = false;
    let firstRow = true;
    for (const { object } of t.all(txn)) {
      yield `${firstRow ? '' : ','}\n    ${JSON.stringify(plainRow(t, object))}`;
      firstRow = false;
    }
    yield firstRow ? ']' : '\n  ]';
  }
  yield firstTable ? '}\n' : '\n}\n';
}

/** The dump as JSON text: one table per key, one row per line. */
export function dumpJSON(txn: Txn, tables: Iterable<AnyTable>): string {
  return [...dumpJSONChunks(txn, tables)].join('');
}
