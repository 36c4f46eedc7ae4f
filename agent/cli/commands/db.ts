// `flagella db ...`: inspect the state database's tables through the
// selected data source.
import { InvalidArgumentError, Option } from 'commander';
import type { Command } from 'commander';
import { OUTPUT_FORMATS } from '../../../statedb/index.js';
import type { OutputFormat } from '../../../statedb/index.js';
import type { CliContext, CommandModule } from '../context.js';
import type { QueryKind, RowShape } from '../data-source.js';
import { CliError, ExitCode } from '../errors.js';
import { ChangePrinter, printRow, printRows, printTables, rowCount } from '../print.js';

interface OutputOptions {
  output: OutputFormat;
  columns?: string[];
}

function outputOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('-o, --output <format>', 'output format').choices(OUTPUT_FORMATS).default('table'))
    .option('--columns <names>', 'table output only: columns to show, comma-separated (case-insensitive)', parseColumns);
}

function parseColumns(value: string): string[] {
  const names = value.split(',').map((c) => c.trim()).filter((c) => c.length > 0);
  if (names.length === 0) throw new InvalidArgumentError('expected column names separated by commas');
  return names;
}

function parseCount(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive integer');
  return n;
}

/** Aligned tables print the table's own cells; JSON and YAML print the row objects. */
function shapeFor(format: OutputFormat): RowShape {
  return format === 'table' ? 'cells' : 'objects';
}

function checkColumns(opts: OutputOptions): void {
  if (opts.columns !== undefined && opts.output !== 'table') {
    throw new CliError(`--columns applies to table output only, not -o ${opts.output}`, ExitCode.Usage);
  }
}

const QUERY_HELP: Record<QueryKind, string> = {
  get: 'the first row whose index key equals <key> (exit status 3 when there is none)',
  list: 'every row whose index key equals <key>',
  prefix: 'every row whose index key starts with <key>',
  lowerbound: 'every row whose index key is >= <key>, in index order',
};

function addQueryCommand(db: Command, ctx: CliContext, kind: QueryKind): void {
  outputOptions(
    db
      .command(`${kind} <table> <key>`)
      .description(QUERY_HELP[kind])
      .option('-i, --index <name>', 'the index to query (default: the primary index; "__revision__" for revisions)', ''),
  ).action(async (table: string, key: string, opts: OutputOptions & { index: string }) => {
    checkColumns(opts);
    const source = await ctx.source();
    const set = await source.query(table, kind, opts.index, key, shapeFor(opts.output));
    if (kind === 'get') {
      if (rowCount(set) === 0) {
        const index = opts.index === '' ? 'the primary index' : `index "${opts.index}"`;
        throw new CliError(`table "${table}": no row with key ${JSON.stringify(key)} in ${index}`, ExitCode.NotFound);
      }
      ctx.out.write(printRow(set, opts.output, opts.columns));
    } else {
      ctx.out.write(printRows(set, opts.output, opts.columns));
    }
  });
}

async function watchTable(ctx: CliContext, table: string, opts: OutputOptions & { count?: number }): Promise<void> {
  checkColumns(opts);
  const source = await ctx.source();
  const info = await source.describe(table);
  const printer = new ChangePrinter(opts.output, info.header, opts.columns);
  printer.seed(await source.all(table, 'objects'));
  // A pending promise does not keep Node running; this does, until the watch ends.
  const keepAlive = setInterval(() => {}, 1 << 30);
  let seen = 0;
  try {
    for await (const change of source.watch(table, ctx.signal)) {
      ctx.out.write(printer.print(change));
      if (ctx.out.closed || (opts.count !== undefined && ++seen >= opts.count)) break;
    }
  } finally {
    clearInterval(keepAlive);
  }
}

export const dbCommands: CommandModule = {
  name: 'db',
  register(program: Command, ctx: CliContext): void {
    const db = program
      .command('db')
      .description('inspect the state database: tables, rows, queries, changes')
      .addHelpText('after', '\nKeys are given as text and parsed by the index key type (e.g. "10.96.0.10:53/UDP", "42", "10.0.0.0/8").');

    outputOptions(db.command('tables').description('list the tables with their object counts, revisions and indexes')).action(
      async (opts: OutputOptions) => {
        checkColumns(opts);
        const source = await ctx.source();
        ctx.out.write(printTables(await source.tables(), opts.output, opts.columns));
      },
    );

    outputOptions(db.command('show <table>').description('every row of a table, in primary-key order')).action(
      async (table: string, opts: OutputOptions) => {
        checkColumns(opts);
        const source = await ctx.source();
        ctx.out.write(printRows(await source.all(table, shapeFor(opts.output)), opts.output, opts.columns));
      },
    );

    for (const kind of ['get', 'list', 'prefix', 'lowerbound'] as const) addQueryCommand(db, ctx, kind);

    outputOptions(
      db
        .command('watch <table>')
        .description('print every row, then each change as it commits, until interrupted (Ctrl-C ends it with status 0)')
        .option('-n, --count <n>', 'stop after n changes (the initial rows count)', parseCount),
    ).action((table: string, opts: OutputOptions & { count?: number }) => watchTable(ctx, table, opts));
  },
};
