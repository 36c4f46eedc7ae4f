// `flagella repl`: the interactive shell (agent/repl, loaded on demand so
// other commands do not pay for it).
import { readFileSync } from 'node:fs';
import type { CliContext, CommandModule } from '../context.js';
import { CliError, ExitCode } from '../errors.js';
import { bpfRootOption } from '../map-access.js';

interface ReplCommandOptions {
  bpfRoot: string;
  historyFile?: string;
  history: boolean;
}

const REPL_HELP = `
Runs the commands of this CLI interactively on one data source: the agent
(--api-socket) or, with --local, the in-process demo database. "help" inside
lists the commands and their short forms (show, get, list, prefix,
lowerbound, watch, tables, lb, policy, ct, status, monitor).

History is saved (mode 0600) to --history-file, else $FLAGELLA_HISTORY_FILE,
else $XDG_STATE_HOME/flagella/history when XDG_STATE_HOME is set, else
~/.flagella_history; only for interactive (terminal) sessions.
`;

function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version?: string };
  return pkg.version ?? '0.0.0';
}

async function repl(ctx: CliContext, opts: ReplCommandOptions): Promise<void> {
  if (ctx.settings.interactive) throw new CliError('already in the REPL', ExitCode.Usage);
  const { runRepl, historyPath } = await import('../../repl/index.js');
  await runRepl({
    ctx,
    bpfRoot: opts.bpfRoot,
    historyFile: opts.history ? historyPath(process.env, opts.historyFile) : undefined,
    version: packageVersion(),
  });
}

export const replCommands: CommandModule = {
  name: 'repl',
  register(program, ctx) {
    program
      .command('repl')
      .description('an interactive shell: list, query and watch tables, dump maps, status; Tab completion and history')
      .addOption(bpfRootOption(ctx))
      .option('--history-file <path>', 'where to keep the command history')
      .option('--no-history', 'do not read or write a history file')
      .addHelpText('after', REPL_HELP)
      .action((opts: ReplCommandOptions) => repl(ctx, opts));
  },
};
