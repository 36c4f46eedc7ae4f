// What every command gets: where to write, the data source chosen by the
// global options, and a signal that aborts when the command must stop
// (Ctrl-C, SIGTERM, or the reader of stdout went away).
import type { Command } from 'commander';
import type { DataSource } from './data-source.js';

/** Output that can be closed by the reader (`| head`): writes after that are dropped. */
export interface Output {
  write(text: string): void;
  /** True once the reader closed the stream. */
  readonly closed: boolean;
}

export interface CliContext {
  /** Standard output. */
  readonly out: Output;
  /** One line to standard error (a newline is added). */
  warn(line: string): void;
  /** The data source selected by the global options, opened on first use and closed when the command ends. */
  source(): Promise<DataSource>;
  /** Aborts on SIGINT, SIGTERM and when stdout's reader goes away. */
  readonly signal: AbortSignal;
}

/** A group of commands, registered on the root program. One module per file under commands/. */
export interface CommandModule {
  readonly name: string;
  register(program: Command, ctx: CliContext): void;
}
