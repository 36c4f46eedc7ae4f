// Runs one `flagella` command line as a process: wires stdout (closed pipes
// end the command), SIGINT/SIGTERM (end the command cleanly; a second one
// exits at once), and always releases the data source.
import type { Command } from 'commander';
import type { CliContext } from './context.js';
import type { DataSource } from './data-source.js';
import type { ExitCode } from './errors.js';
import { apiClientFor, DEFAULT_BPF_ROOT, openDataSource } from './global-options.js';
import type { GlobalOptions } from './global-options.js';
import { StreamOutput } from './output.js';
import { buildProgram, executeCommand } from './program.js';
import type { CliIO } from './program.js';

export { buildProgram };
export type { CliIO };

/** Runs one command line (without "node" and the script). Resolves to the exit code; never rejects. */
export async function runCli(argv: readonly string[], io: CliIO = { stdout: process.stdout, stderr: process.stderr }): Promise<ExitCode> {
  const stop = new AbortController();
  const out = new StreamOutput(io.stdout, () => stop.abort(new Error('output closed')));
  let opened: DataSource | undefined;
  let program: Command | undefined;
  const opts = () => program!.opts<GlobalOptions>();
  const ctx: CliContext = {
    out,
    signal: stop.signal,
    warn: (line) => io.stderr.write(`${line}\n`),
    source: () => Promise.resolve((opened ??= openDataSource(opts()))),
    api: () => apiClientFor(opts()),
    settings: { bpfRoot: process.env.FLAGELLA_BPF_ROOT ?? DEFAULT_BPF_ROOT, interactive: false },
  };
  const onSignal = () => {
    if (stop.signal.aborted) process.exit(130); // a second Ctrl-C: stop waiting for clean-up
    stop.abort(new Error('interrupted'));
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    program = buildProgram(ctx, io);
    return await executeCommand(program, argv, io);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await opened?.close();
  }
}
