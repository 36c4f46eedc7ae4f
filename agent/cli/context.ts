// What every command gets: where to write, the data source and agent
// client chosen by the global options, settings that sessions (the REPL)
// carry across commands, and a signal that aborts when the command must
// stop (Ctrl-C, SIGTERM, or the reader of stdout went away).
import type { Command } from 'commander';
import type { ApiClient } from './api-client.js';
import type { DataSource } from './data-source.js';

/** Output that can be closed by the reader (`| head`): writes after that are dropped. */
export interface Output {
  write(text: string): void;
  /** True once the reader closed the stream. */
  readonly closed: boolean;
}

/** Defaults a session sets for the commands it runs. */
export interface CliSettings {
  /** Default of --bpf-root for the map-reading commands. */
  readonly bpfRoot: string;
  /** True inside the REPL: commands that would start another session refuse. */
  readonly interactive: boolean;
}

export interface CliContext {
  /** Standard output. */
  readonly out: Output;
  /** One line to standard error (a newline is added). */
  warn(line: string): void;
  /** The data source selected by the global options, opened on first use and closed when the command (or session) ends. */
  source(): Promise<DataSource>;
  /** The running agent's API client (--api-socket). Throws CliError (usage) with --local, which has no agent. */
  api(): ApiClient;
  /** Aborts on SIGINT, SIGTERM and when stdout's reader goes away (in the REPL: Ctrl-C ends the command, not the shell). */
  readonly signal: AbortSignal;
  readonly settings: CliSettings;
}

/** A group of commands, registered on the root program. One module per file under commands/. */
export interface CommandModule {
  readonly name: string;
  register(program: Command, ctx: CliContext): void;
}
