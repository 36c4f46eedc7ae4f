// Exit codes and the errors that carry them. Scripts may rely on the codes;
// they are listed in `flagella --help` and the README.

/** What the process exit status means. */
export const ExitCode = {
  /** Success (also: help, version, output closed by the reader, interrupted watch or monitor). */
  Ok: 0,
  /** A runtime failure: the agent answered with an error, a map could not be read, an internal error. */
  Failure: 1,
  /** A usage error: unknown command or option, bad argument, unknown index or column, a key that does not parse. */
  Usage: 2,
  /** Not found: an unknown table, `db get` matched no row, or no datapath maps are pinned under --bpf-root. */
  NotFound: 3,
  /** The agent is not running or cannot be reached on its API socket. */
  AgentUnreachable: 4,
  /** A second Ctrl-C while a command was cleaning up (128 + SIGINT). */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** The exit status list as `--help` and the REPL print it. */
export const EXIT_CODES_TEXT = `Exit status:
  0  success (also: help, version, output closed by its reader, watch or monitor interrupted)
  1  runtime failure (the agent answered with an error, a map could not be read, an internal error)
  2  usage error (unknown command or option, bad argument, unknown index or column, a key that does not parse)
  3  not found (unknown table; "db get" matched no row; no datapath maps pinned under --bpf-root)
  4  agent not running or unreachable on its API socket (--api-socket)
  130  a second Ctrl-C while a command was cleaning up`;

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
