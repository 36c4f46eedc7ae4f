// The typed error every kernel operation throws.
import { errnoMeaning, errnoName } from './errno.js';

export interface BpfErrorDetails {
  /** For batch operations: how many elements were processed before the failure. */
  processed?: number;
  /** Verifier or libbpf log lines captured for the failing operation. */
  log?: string;
  /** Extra context appended to the message (e.g. the pin path). */
  detail?: string;
}

/**
 * A failed bpf(2) or libbpf operation: what was attempted (`op`, e.g. `map update`),
 * on which object (`object`, the map or program name), and the errno with its name
 * (`code`, e.g. `E2BIG`). `instanceof BpfError` and `.code` checks are the supported way
 * to branch on failures.
 */
export class BpfError extends Error {
  override readonly name = 'BpfError';
  readonly code: string;
  readonly processed: number | undefined;
  readonly log: string | undefined;

  constructor(
    readonly op: string,
    readonly object: string,
    readonly errno: number,
    details: BpfErrorDetails = {},
  ) {
    const code = errnoName(errno);
    const where = object ? `${op} ${object}` : op;
    const detail = details.detail ? ` [${details.detail}]` : '';
    const log = details.log ? `\n${tailLines(details.log, 40)}` : '';
    super(`${where}: ${code} (${errnoMeaning(op, code)})${detail}${log}`);
    this.code = code;
    this.processed = details.processed;
    this.log = details.log;
  }

  /** True when err is a BpfError with this errno name. */
  static is(err: unknown, code: string): err is BpfError {
    return err instanceof BpfError && err.code === code;
  }
}

function tailLines(text: string, count: number): string {
  const lines = text.trimEnd().split('\n');
  if (lines.length <= count) return lines.join('\n');
  return [`... (${lines.length - count} earlier log lines in err.log)`, ...lines.slice(-count)].join('\n');
}
