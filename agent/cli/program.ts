// Builds the `flagella` program from the command registry and executes one
// command line on it: maps every failure to a one-line message on stderr
// and an exit code (errors.ts). No stack traces for user errors;
// FLAGELLA_DEBUG=1 shows them for internal ones. Used once per process by
// runCli and once per line by the REPL.
import { readFileSync } from 'node:fs';
import { Command, CommanderError, InvalidArgumentError, Option } from 'commander';
import { StateDBError, UnknownColumnError } from '../../statedb/index.js';
import { AgentUnreachableError, ApiProtocolError, ApiResponseError } from './api-client.js';
import { commandModules } from './commands/index.js';
import type { CliContext } from './context.js';
import { DataSourceError } from './data-source.js';
import { CliError, EXIT_CODES_TEXT, ExitCode } from './errors.js';
import { DEFAULT_API_SOCKET } from './global-options.js';

/** Where the CLI writes; the process's streams by default. */
export interface CliIO {
  readonly stdout: NodeJS.WritableStream;
  readonly stderr: NodeJS.WritableStream;
}

const ROOT_HELP = `
Data source:
  The db, status and monitor commands talk to a running agent ("flagella
  agent") over its unix socket (--api-socket, or $FLAGELLA_API_SOCKET).
  --local reads an in-process demo database instead (tables "services" and
  "frontends"; while "db watch" runs it changes a frontend every second).
  lb dump, policy dump, ct list and monitor --direct read the pinned BPF maps
  under --bpf-root directly, with or without an agent.

${EXIT_CODES_TEXT}
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

/** The root command with every registered command group; errors are thrown (exitOverride), output goes to ctx.out and io.stderr. */
export function buildProgram(ctx: CliContext, io: CliIO): Command {
  const program = new Command('flagella')
    .description('flagella keeps a Linux eBPF datapath in step with desired state; this command runs and inspects it')
    .version(packageVersion(), '-V, --version', 'print the version')
    .helpOption('-h, --help', 'show help for a command')
    .addOption(new Option('--api-socket <path>', "the agent's API socket").env('FLAGELLA_API_SOCKET').default(DEFAULT_API_SOCKET))
    .option('--local', 'read the in-process demo database instead of a running agent', false)
    .addOption(new Option('--demo-activity-ms <ms>', 'interval of the demo database activity').argParser(parseMs).default(1000).hideHelp())
    .addHelpText('after', ROOT_HELP)
    .configureHelp({ showGlobalOptions: true })
    .showHelpAfterError('(add --help for usage)')
    .exitOverride()
    .configureOutput({
      writeOut: (s) => ctx.out.write(s),
      writeErr: (s) => io.stderr.write(s),
      outputError: (s, write) => write(s),
    });
  for (const m of commandModules) m.register(program, ctx);
  const configure = (cmd: Command) => {
    cmd.showHelpAfterError('(add --help for usage)');
    cmd.exitOverride();
    cmd.commands.forEach(configure);
  };
  program.commands.forEach(configure);
  return program;
}

/** Parses and runs one command line on `program`; resolves to the exit code (the message is on stderr). Never rejects. */
export async function executeCommand(program: Command, argv: readonly string[], io: CliIO): Promise<ExitCode> {
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return ExitCode.Ok;
  } catch (e) {
    const { code, message } = describeFailure(e);
    if (message !== undefined) io.stderr.write(`flagella: ${message}\n`);
    return code;
  }
}

const DATA_SOURCE_EXIT: Record<DataSourceError['kind'], ExitCode> = {
  'not-found': ExitCode.NotFound,
  'bad-request': ExitCode.Usage,
  unreachable: ExitCode.AgentUnreachable,
  failed: ExitCode.Failure,
};

/** The exit code of a failure, and the message to print (undefined when commander printed it already). */
export function describeFailure(e: unknown): { code: ExitCode; message?: string } {
  if (e instanceof CommanderError) {
    // commander wrote its own message (or the help or version) already.
    return { code: e.exitCode === 0 ? ExitCode.Ok : ExitCode.Usage };
  }
  if (e instanceof CliError) return { code: e.exitCode, message: e.message };
  if (e instanceof DataSourceError) return { code: DATA_SOURCE_EXIT[e.kind], message: e.message };
  if (e instanceof AgentUnreachableError) return { code: ExitCode.AgentUnreachable, message: e.message };
  if (e instanceof ApiResponseError) {
    const code = e.status === 404 ? ExitCode.NotFound : e.status === 400 ? ExitCode.Usage : ExitCode.Failure;
    return { code, message: e.apiMessage };
  }
  if (e instanceof ApiProtocolError) return { code: ExitCode.Failure, message: e.message };
  if (e instanceof UnknownColumnError) return { code: ExitCode.Usage, message: e.message };
  const err = e instanceof Error ? e : new Error(String(e));
  const detail = process.env.FLAGELLA_DEBUG === '1' ? `\n${err.stack ?? ''}` : ' (FLAGELLA_DEBUG=1 shows the stack)';
  const what = e instanceof StateDBError ? 'state database error' : 'internal error';
  return { code: ExitCode.Failure, message: `${what}: ${err.message}${detail}` };
}
