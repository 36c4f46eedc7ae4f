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

/** The rows' cells: the table's own when it has a header, else derived from the JSON. */
export function rowCells(set: RowSet): Cells {
  if (set.header !== undefined && set.rows.every((r) => r.cells !== undefined)) {
    return { header: set.header, rows: set.rows.map((r) => r.cells!) };
  }
  return cellsFromJSON(set.rows.map((r) => r.object));
}

/** Rows in `format`; `columns` (table format only) selects and orders columns. */
export function printRows(set: RowSet, format: OutputFormat, columns?: readonly string[]): string {
  const objects = set.rows.map((r) => r.object);
  if (format === 'json') return renderJSON(objects);
  if (format === 'yaml') return renderYAML(objects);
  const cells = rowCells(set);
  return renderTable(columns === undefined ? cells : selectColumns(cells, columns));
}

/** One row (db get): a bare object in JSON, one document in YAML. */
export function printRow(set: RowSet, format: OutputFormat, columns?: readonly string[]): string {
  const row = set.rows[0];
  if (format === 'json') return `${JSON.stringify(row?.object ?? null, null, 2)}\n`;
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

  constructor(
    private readonly format: OutputFormat,
    private readonly header: readonly string[] | undefined,
    private readonly columns: readonly string[] | undefined,
  ) {}

  /** Widens the columns for rows expected in the stream (the table's current rows), so the replay lines up. */
  seed(set: RowSet): void {
    if (this.format !== 'table') return;
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
    const useCells = this.header !== undefined && change.cells !== undefined;
    const header = ['Revision', 'Op', ...(useCells ? this.header : ['Object'])];
    const cells = useCells ? change.cells : [JSON.stringify(change.object)];
    const line = [String(change.revision), change.deleted ? 'delete' : 'upsert', ...cells].map(escapeCell);
    if (this.columns === undefined) return { header, line };
    const picked = selectColumns({ header, rows: [line] }, this.columns);
    return { header: picked.header, line: picked.rows[0]! };
  }

  private widen(cells: readonly string[]): void {
    cells.forEach((c, i) => (this.widths[i] = Math.max(this.widths[i] ?? 0, c.length)));
  }
}
