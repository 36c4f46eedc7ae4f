// Exit codes and the errors that carry them. Scripts may rely on the codes;
// they are listed in `flagella --help`.

/** What the process exit status means. */
export const ExitCode = {
  /** Success (also: help, version, output closed by the reader, interrupted watch). */
  Ok: 0,
  /** A runtime failure: the data source failed, an internal error. */
  Failure: 1,
  /** A usage error: unknown command or option, bad argument, unknown index or column, a key that does not parse. */
  Usage: 2,
  /** Not found: an unknown table, or `db get` matched no row. */
  NotFound: 3,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** An error to report in one line on stderr (no stack trace) with its exit code. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode: ExitCode,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'CliError';
  }
}
