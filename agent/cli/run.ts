// Builds the `flagella` program from the command registry and runs it:
// parses argv, runs the command, maps every failure to a one-line message
// on stderr and an exit code (see errors.ts), and always releases the data
// source. No stack traces for user errors; FLAGELLA_DEBUG=1 shows them for
// internal ones.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { StateDBError, UnknownColumnError } from '../../statedb/index.js';
import { commandModules } from './commands/index.js';
import type { CliContext } from './context.js';
import { DataSourceError } from './data-source.js';
import type { DataSource } from './data-source.js';
import { createDemoDatabase } from './demo-db.js';
import { CliError, ExitCode } from './errors.js';
import { LocalDataSource } from './local-source.js';
import { StreamOutput } from './output.js';

/** Where the CLI writes; the process's streams by default. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

interface GlobalOptions {
  local: boolean;
  demoActivityMs: number;
}

const EXIT_CODES_HELP = `
Data source:
  --local (the default until the agent exists) reads an in-process demo
  database with the tables "services" and "frontends" (indexed by service).
  While "db watch" runs, the demo changes a frontend every second.

Exit status:
  0  success (also: help, version, output closed by its reader, watch interrupted)
  1  runtime failure (the data source failed, an internal error)
  2  usage error (unknown command or option, bad argument, unknown index or column, a key that does not parse)
  3  not found (unknown table; "db get" matched no row)
`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

function parseMs(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('expected a positive number of milliseconds');
  return n;
}

/** The root command with every registered command group. */
export function buildProgram(ctx: CliContext, io: CliIO): Command {
  const program = new Command('flagella')
    .description('flagella keeps a Linux eBPF datapath in step with desired state; this command inspects it')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .option('--local', 'read the in-process demo database (the default, for now the only source)', true)
    .addOption(new Option('--demo-activity-ms <ms>', 'interval of the demo database activity').argParser(parseMs).default(1000).hideHelp())
    .addHelpText('after', EXIT_CODES_HELP)
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.out.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s),
    });
  for (const m of commandModules) m.register(program, ctx);
  for (const cmd of program.commands) {
    cmd.showHelpAfterError('(add --help for usage)');
    cmd.exitOverride();
  }
  return program;
}

/** Runs one command line (without "node" and the script). Resolves to the exit code; never rejects. */
export async function runCli(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<ExitCode> {
  const stop = new AbortController();
  const out = new StreamOutput(io.stdout, () => stop.abort(new Error('output closed')));
  let opened: DataSource | undefined;
  let program: Command | undefined;
  const ctx: CliContext = {
    out,
    signal: stop.signal,
    warn: (line) => io.stderr.write(`${line}\n`),
    source: () => Promise.resolve((opened ??= openSource(program!.opts<GlobalOptions>()))),
  };
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130); // a second Ctrl-C: stop waiting for clean-up
    stop.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    program = buildProgram(ctx, io);
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (e) {
    const { code, message } = describeFailure(e);
    if (message !== undefined) io.stderr.write(`flagella: ${message}\n`);
    return code;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await opened?.close();
  }
}

function openSource(opts: GlobalOptions): DataSource {
  const demo = createDemoDatabase();
  let stopActivity: (() => void) | undefined;
  return new LocalDataSource(demo.db, {
    description: 'local demo database',
    onWatch: () => (stopActivity ??= demo.startActivity(opts.demoActivityMs)),
    onClose: () => stopActivity?.(),
  });
}

/** The exit code of a failure, and the message to print (undefined when commander printed it already). */
function describeFailure(e: unknown): { code: ExitCode; message?: string } {
  if (e instanceof CommanderError) {
    // commander wrote its own message (or the help or version) already.
    return { code: e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage };
  }
  if (e instanceof CliError) return { code: e.exitCode, message: e.message };
  if (e instanceof DataSourceError) {
    const code = e.kind === 'not-found' ? ExitCode.NotFound : e.kind === 'bad-request' ? ExitCode.Usage : ExitCode.Failure;
    return { code, message: e.message };
  }
  if (e instanceof UnknownColumnError) return { code: ExitCode.Usage, message: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  const detail = process.env.FLAGELLA_DEBUG === '1' ? `\n${err.stack ?? ''}` : ' (FLAGELLA_DEBUG=1 shows the stack)';
  const what = e instanceof StateDBError ? 'state database error' : 'internal error';
  return { code: ExitCode.Failure, message: `${what}: ${err.message}${detail}` };
}
