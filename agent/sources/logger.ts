// Sources log through pino. The agent passes its own logger; the default
// writes JSON lines to stderr at FLAGELLA_LOG_LEVEL (default info).
import { pino, type Logger } from 'pino';

export type { Logger } from 'pino';

let fallback: Logger | undefined;

/** The logger used when a source is given none (created on first use). */
export function defaultLogger(): Logger {
  fallback ??= pino({ level: process.env.FLAGELLA_LOG_LEVEL ?? 'info' }, pino.destination({ dest: 2, sync: true }));
  return fallback;
}

/** A short message for any thrown value. */
export function errorMessage(err: unknown): string {
  if (err instanceof Error) {
    const status = (err as { statusCode?: unknown }).statusCode;
    return typeof status === 'number' ? `${err.message} (HTTP ${status})` : err.message;
  }
  return String(err);
}
