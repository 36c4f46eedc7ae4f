// The agent's structured logs: pino, one JSON object per line on stdout by
// default (what log shippers want), or one human-readable line per entry
// when stdout is a terminal or `--log-format text` asks for it. The text
// form is a small formatter over pino's JSON rather than pino-pretty, which
// would add a worker thread and a dozen packages for the same result.
import { pino, type DestinationStream, type Level, type Logger } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export interface LoggerOptions {
  readonly level: LogLevel;
  /** Default: text when `stream` is a TTY, JSON otherwise. */
  readonly format?: LogFormat;
  /** Where lines go (default: stdout, written synchronously so nothing is lost on exit). */
  readonly stream?: NodeJS.WritableStream & { isTTY?: boolean; fd?: number };
}

/** The format `opts` asks for, or the default for its stream. */
export function resolveLogFormat(opts: Pick<LoggerOptions, 'format' | 'stream'>): LogFormat {
  if (opts.format !== undefined) return opts.format;
  return (opts.stream ?? process.stdout).isTTY === true ? 'text' : 'json';
}

/**
 * A pino logger. JSON lines carry `level` (label), `time` (ISO 8601),
 * `pid`, `hostname`, `msg`, the child bindings (`component`) and the
 * call's fields. Never throws for a log call.
 */
export function createLogger(opts: LoggerOptions): Logger {
  const stream = opts.stream ?? process.stdout;
  const format = resolveLogFormat(opts);
  const json: DestinationStream =
    stream === process.stdout ? pino.destination({ dest: 1, sync: true }) : { write: (line: string) => void stream.write(line) };
  const destination: DestinationStream = format === 'json' ? json : { write: (line: string) => json.write(formatTextLine(line)) };
  return pino(
    {
      level: opts.level,
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
    },
    destination,
  );
}

const RESERVED = new Set(['level', 'time', 'pid', 'hostname', 'msg', 'component']);

/** One pino JSON line as `<time> <LEVEL> [component] msg key=value ...` (newline kept). */
export function formatTextLine(line: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return line;
  }
  const level = (typeof entry.level === 'string' ? entry.level : 'info').toUpperCase().padEnd(5);
  const component = typeof entry.component === 'string' ? ` [${entry.component}]` : '';
  const fields = Object.entries(entry)
    .filter(([k]) => !RESERVED.has(k))
    .map(([k, v]) => `${k}=${typeof v === 'string' && !/\s/.test(v) ? v : JSON.stringify(v)}`);
  const time = typeof entry.time === 'string' ? entry.time : new Date().toISOString();
  return `${time} ${level}${component} ${typeof entry.msg === 'string' ? entry.msg : ''}${fields.length > 0 ? ` ${fields.join(' ')}` : ''}\n`;
}

/** The datapath's KernelLogger (libbpf and loader messages) on a pino logger. */
export function kernelLogger(logger: Logger): { debug(msg: string): void; info(msg: string): void; warn(msg: string): void } {
  return {
    debug: (msg) => logger.debug(msg.trimEnd()),
    info: (msg) => logger.info(msg.trimEnd()),
    warn: (msg) => logger.warn(msg.trimEnd()),
  };
}

/** True when `level` is one of LOG_LEVELS. */
export function isLogLevel(level: string): level is LogLevel {
  return (LOG_LEVELS as readonly string[]).includes(level);
}

export type { Level };
