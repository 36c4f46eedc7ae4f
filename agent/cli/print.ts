// Rows, tables and changes as text in the three output formats. Pure
// functions over the data sources' plain data, so remote rows print exactly
// like local ones.
import {
  alignLine,
  cellsFromJSON,
  escapeCell,
  renderJSON,
  renderTable,
  renderYAML,
  selectColumns,
} from '../../statedb/index.js';
import type { Cells, OutputFormat, TableInfo } from '../../statedb/index.js';
import type { RowSet, SourceChange } from './data-source.js';

/** The rows' cells: the source's own (the table's formatting), else derived from the JSON objects. */
export function rowCells(set: RowSet): Cells {
  if (set.cells !== undefined) return set.cells;
  return cellsFromJSON((set.rows ?? []).map((r) => r.object));
}

function objects(set: RowSet): unknown[] {
  if (set.rows === undefined) throw new Error(`table "${set.table}": the source gave no row objects`);
  return set.rows.map((r) => r.object);
}

/** How many rows the set holds. */
export function rowCount(set: RowSet): number {
  return set.rows?.length ?? set.cells?.rows.length ?? 0;
}

/** Rows in `format`; `columns` (table format only) selects and orders columns. */
export function printRows(set: RowSet, format: OutputFormat, columns?: readonly string[]): string {
  if (format === 'json') return renderJSON(objects(set));
  if (format === 'yaml') return renderYAML(objects(set));
  const cells = rowCells(set);
  return renderTable(columns === undefined ? cells : selectColumns(cells, columns));
}

/** One row (db get): a bare object in JSON, one document in YAML. */
export function printRow(set: RowSet, format: OutputFormat, columns?: readonly string[]): string {
  if (format === 'json') return `${JSON.stringify(objects(set)[0] ?? null, null, 2)}\n`;
  return printRows(set, format, columns);
}

/** The `db tables` listing. */
export function printTables(tables: readonly TableInfo[], format: OutputFormat, columns?: readonly string[]): string {
  if (format === 'json') return renderJSON(tables);
  if (format === 'yaml') return renderYAML(tables);
  const cells: Cells = {
    header: ['Name', 'Objects', 'Revision', 'Indexes', 'Initialized', 'DeleteTrackers', 'Zombies'],
    rows: tables.map((t) => [
      t.name,
      String(t.objects),
      String(t.revision),
      t.indexes.map((i) => `${i.name} (${i.kind}${i.multi ? ', multi' : ''})`).join(', '),
      t.initialized ? 'yes' : `no (${t.pendingInitializers.join(', ')})`,
      String(t.deleteTrackers),
      String(t.zombies),
    ]),
  };
  return renderTable(columns === undefined ? cells : selectColumns(cells, columns));
}

/**
 * Prints a stream of changes one line (or document) at a time. Table
 * format: Revision, Op (upsert/delete) and the row's cells, aligned on the
 * widest cell of the rows given to seed() and of those printed so far.
 */
export class ChangePrinter {
  private readonly widths: number[] = [];
  private started = false;
  /** Without the table's own header (a remote source): columns from the rows' JSON keys. */
  private jsonHeader: readonly string[] | undefined;

  constructor(
    private readonly format: OutputFormat,
    private readonly header: readonly string[] | undefined,
    private readonly columns: readonly string[] | undefined,
  ) {}

  /** Widens the columns for rows expected in the stream (the table's current rows), so the replay lines up. */
  seed(set: RowSet): void {
    if (this.format !== 'table' || set.rows === undefined) return;
    if (this.header === undefined && set.rows.length > 0) this.jsonHeader = cellsFromJSON(set.rows.map((r) => r.object)).header;
    for (const row of set.rows) this.widen(this.line({ ...row, deleted: false }).line);
  }

  /** The text for one change (the header comes with the first). */
  print(change: SourceChange): string {
    const plain = { revision: change.revision, deleted: change.deleted, object: change.object };
    if (this.format === 'json') return `${JSON.stringify(plain)}\n`;
    if (this.format === 'yaml') {
      const separator = this.started ? '---\n' : '';
      this.started = true;
      return separator + renderYAML([plain]);
    }
    const { header, line } = this.line(change);
    const lines = this.started ? [line] : [header, line];
    this.started = true;
    let out = '';
    for (const l of lines) {
      this.widen(l);
      out += `${alignLine(l, this.widths)}\n`;
    }
    return out;
  }

  // The header and the (escaped) cells of one change, columns selected.
  private line(change: SourceChange): { header: readonly string[]; line: readonly string[] } {
    const { titles, cells } = this.cellsOf(change);
    const header = ['Revision', 'Op', ...titles];
    const line = [String(change.revision), change.deleted ? 'delete' : 'upsert', ...cells].map(escapeCell);
    if (this.columns === undefined) return { header, line };
    const picked = selectColumns({ header, rows: [line] }, this.columns);
    return { header: picked.header, line: picked.rows[0]! };
  }

  // The table's own cells; else cells under the JSON keys of the first rows seen.
  private cellsOf(change: SourceChange): { titles: readonly string[]; cells: readonly string[] } {
    if (this.header !== undefined && change.cells !== undefined) return { titles: this.header, cells: change.cells };
    const own = cellsFromJSON([change.object]);
    if (own.header.length === 1 && own.header[0] === 'Value') return { titles: ['Object'], cells: [JSON.stringify(change.object)] };
    this.jsonHeader ??= own.header;
    const row = own.rows[0] ?? [];
    return { titles: this.jsonHeader, cells: this.jsonHeader.map((k) => row[own.header.indexOf(k)] ?? '') };
  }

  private widen(cells: readonly string[]): void {
    cells.forEach((c, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, c.length)));
  }
}
