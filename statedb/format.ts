// `db show`-style output of rows: aligned text columns from the table's
// header/row (or derived from the rows' JSON keys), YAML documents separated
// by `---`, or a JSON array. Works on plain data (column titles, cells, JSON
// rows), so rows fetched from a remote agent format exactly like local ones.
import { createRequire } from 'node:module';
import type * as Yaml from 'yaml';
import type { AnyTable } from './db.js';
import { plainRow } from './dump.js';
import { StateDBError } from './errors.js';

export type OutputFormat = 'table' | 'yaml' | 'json';
export const OUTPUT_FORMATS: readonly OutputFormat[] = ['table', 'yaml', 'json'];

/** A requested column is not in the header. */
export class UnknownColumnError extends StateDBError {
  constructor(
    readonly column: string,
    readonly available: readonly string[],
  ) {
    super(`unknown column "${column}"; the columns are: ${available.join(', ')}`);
  }
}

/** Rows as columns of text. */
export interface Cells {
  readonly header: readonly string[];
  readonly rows: readonly (readonly string[])[];
}

/**
 * The rows' cells: from the table's `header`/`row` when it defines them,
 * otherwise derived from the rows' JSON (see cellsFromJSON). A `row`
 * function that throws gives a row of "error: ..." cells.
 */
export function tableCells(table: AnyTable, objects: Iterable<unknown>): Cells {
  const list = [...objects];
  const rowFn = table.row;
  if (table.header === undefined || rowFn === undefined) return cellsFromJSON(list.map((o) => plainRow(table, o)));
  const header = table.header;
  return {
    header,
    rows: list.map((o) => {
      try {
        return rowFn(o);
      } catch (e) {
        return header.map(() => `error: ${e instanceof Error ? e.message : String(e)}`);
      }
    }),
  };
}

/**
 * Columns derived from plain JSON rows: the union of their top-level keys in
 * first-seen order; a cell is a string as is, empty for null/absent, other
 * scalars via String, objects and arrays as compact JSON. Rows that are not
 * objects make a single "Value" column.
 */
export function cellsFromJSON(rows: readonly unknown[]): Cells {
  const isRecord = (r: unknown): r is Record<string, unknown> => typeof r === 'object' && r !== null && !Array.isArray(r);
  if (rows.length > 0 && !rows.every(isRecord)) {
    return { header: ['Value'], rows: rows.map((r) => [cellText(r)]) };
  }
  const keys = new Set<string>();
  for (const r of rows as Record<string, unknown>[]) for (const k of Object.keys(r)) keys.add(k);
  const header = [...keys];
  return { header, rows: (rows as Record<string, unknown>[]).map((r) => header.map((k) => cellText(r[k]))) };
}

function cellText(v: unknown): string {
  if (v === null || v === undefined) return '';
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean' || typeof v === 'bigint') return String(v);
  return JSON.stringify(v) ?? ''; // objects and arrays; functions and symbols have no text
}

/**
 * Keeps the named columns, in the order given. Names match the header case
 * insensitively. Throws UnknownColumnError listing the available columns.
 */
export function selectColumns(cells: Cells, columns: readonly string[]): Cells {
  const lower = cells.header.map((h) => h.toLowerCase());
  const picks = columns.map((c) => {
    const i = lower.indexOf(c.trim().toLowerCase());
    if (i < 0) throw new UnknownColumnError(c, cells.header);
    return i;
  });
  return { header: picks.map((i) => cells.header[i]!), rows: cells.rows.map((r) => picks.map((i) => r[i] ?? '')) };
}

const COLUMN_GAP = 3;

/**
 * Aligned text: the header line, then one line per row, each column padded
 * to its widest cell plus three spaces, trailing spaces trimmed. Control
 * characters in cells are escaped (\n, \t) so a cell never breaks a line.
 */
export function renderTable(cells: Cells): string {
  const lines = [cells.header, ...cells.rows].map((r) => r.map(escapeCell));
  const widths = cells.header.map((_, i) => Math.max(...lines.map((r) => (r[i] ?? '').length)));
  return lines.map((r) => alignLine(r, widths)).join('\n') + '\n';
}

/** One aligned line for widths computed elsewhere (streaming output); longer cells push the rest right. */
export function alignLine(cells: readonly string[], widths: readonly number[]): string {
  return cells
    .map((c, i) => (i === cells.length - 1 ? c : c.padEnd((widths[i] ?? 0) + COLUMN_GAP)))
    .join('')
    .trimEnd();
}

/** A cell with control characters escaped. */
export function escapeCell(text: string): string {
  // eslint-disable-next-line no-control-regex
  return /[\x00-\x1f\x7f]/.test(text) ? JSON.stringify(text).slice(1, -1) : text;
}

/** Plain JSON rows as YAML documents separated by `---` lines (empty for no rows). */
export function renderYAML(rows: readonly unknown[]): string {
  // yaml is loaded on first use: programs that never print YAML skip ~40 ms of start-up.
  const { stringify } = createRequire(import.meta.url)('yaml') as typeof Yaml;
  return rows.map((r) => stringify(r, { lineWidth: 0 })).join('---\n');
}

/** Plain JSON rows as a JSON array, two-space indented, ending in a newline. */
export function renderJSON(rows: readonly unknown[]): string {
  return `${JSON.stringify(rows, null, 2)}\n`;
}

/** What formatRows needs to know. */
export interface FormatOptions {
  /** Default "table". */
  readonly format?: OutputFormat;
  /** Table format only: the columns to show, by header name (case insensitive). */
  readonly columns?: readonly string[];
}

/** A table's rows in one of the output formats (see renderTable, renderYAML, renderJSON). */
export function formatRows(table: AnyTable, objects: Iterable<unknown>, opts: FormatOptions = {}): string {
  const format = opts.format ?? 'table';
  const list = [...objects];
  if (format === 'yaml') return renderYAML(list.map((o) => plainRow(table, o)));
  if (format === 'json') return renderJSON(list.map((o) => plainRow(table, o)));
  const cells = tableCells(table, list);
  return renderTable(opts.columns === undefined ? cells : selectColumns(cells, opts.columns));
}
