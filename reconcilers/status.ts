// The reconciliation status a row carries: what a reconciler has done with
// this version of the row. Writers insert rows with Status.pending(); the
// engine writes back done or error, and marks old done rows refreshing.
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { ReconcilerError } from './errors.js';

/**
 * pending: reconcile this version. refreshing: already done, re-run update
 * to repair drift. done: the target has this version. error: the last
 * attempt failed; the engine retries it.
 */
export type StatusKind = 'pending' | 'refreshing' | 'done' | 'error';

const KINDS: ReadonlySet<string> = new Set<StatusKind>(['pending', 'refreshing', 'done', 'error']);

/** The JSON form of a Status. */
export interface StatusJSON {
  readonly kind: StatusKind;
  /** ISO 8601. */
  readonly updatedAt: string;
  readonly error?: string;
  /** Omitted when 0. */
  readonly id?: number;
}

let lastStatusId = 0;

/** A fresh process-unique status id (never 0). */
export function nextStatusId(): number {
  return ++lastStatusId;
}

/** Immutable. Construct with the static constructors. */
export class Status {
  private constructor(
    readonly kind: StatusKind,
    /** When the status was set, epoch milliseconds of the clock that set it. */
    readonly updatedAt: number,
    /** The error message, for kind "error". */
    readonly error: string | undefined,
    /** Identifies one pending marking (shared by a StatusSet's statuses); 0 = none. */
    readonly id: number,
  ) {
    Object.freeze(this);
  }

  /** A new version to reconcile. Rows must be inserted with this (or refreshing) to be reconciled. */
  static pending(clock: Clock = systemClock, id = nextStatusId()): Status {
    return new Status('pending', clock.now(), undefined, id);
  }

  /** Set by the refresh job: re-run update on a done row. */
  static refreshing(clock: Clock = systemClock): Status {
    return new Status('refreshing', clock.now(), undefined, nextStatusId());
  }

  /** Set by the engine after a successful update. */
  static done(clock: Clock = systemClock): Status {
    return new Status('done', clock.now(), undefined, nextStatusId());
  }

  /** Set by the engine after a failed update; `error` may be any thrown value. */
  static error(error: unknown, clock: Clock = systemClock): Status {
    return new Status('error', clock.now(), errorMessage(error), nextStatusId());
  }

  /** Rebuilds a status from its JSON form. Throws ReconcilerError on a malformed value. */
  static fromJSON(json: unknown): Status {
    if (typeof json !== 'object' || json === null) throw new ReconcilerError(`status: expected an object, got ${typeof json}`);
    const j = json as Record<string, unknown>;
    if (typeof j.kind !== 'string' || !KINDS.has(j.kind)) {
      throw new ReconcilerError(`status: kind must be one of ${[...KINDS].join(', ')}, got ${JSON.stringify(j.kind)}`);
    }
    const at = typeof j.updatedAt === 'string' ? Date.parse(j.updatedAt) : NaN;
    if (Number.isNaN(at)) throw new ReconcilerError(`status: updatedAt is not a date: ${JSON.stringify(j.updatedAt)}`);
    if (j.error !== undefined && typeof j.error !== 'string') throw new ReconcilerError('status: error must be a string');
    const id = j.id ?? 0;
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 0) throw new ReconcilerError('status: bad id');
    return new Status(j.kind as StatusKind, at, j.error, id);
  }

  /** @internal The engine's constructor: one done status per round shares timestamp and id. */
  static make(kind: StatusKind, updatedAt: number, error?: string, id = nextStatusId()): Status {
    return new Status(kind, updatedAt, error, id);
  }

  /** True for pending and refreshing: the kinds the engine reconciles. */
  get wantsReconcile(): boolean {
    return this.kind === 'pending' || this.kind === 'refreshing';
  }

  /** "Done (1.2s ago)", "Error: msg (3s ago)", "Pending (10ms ago)". */
  format(now: number = systemClock.now()): string {
    const ago = `(${formatDuration(now - this.updatedAt)} ago)`;
    switch (this.kind) {
      case 'pending':
        return `Pending ${ago}`;
      case 'refreshing':
        return `Refreshing ${ago}`;
      case 'done':
        return `Done ${ago}`;
      case 'error':
        return `Error: ${this.error ?? 'unknown error'} ${ago}`;
    }
  }

  toString(): string {
    return this.format();
  }

  toJSON(): StatusJSON {
    const json: { -readonly [K in keyof StatusJSON]: StatusJSON[K] } = {
      kind: this.kind,
      updatedAt: new Date(this.updatedAt).toISOString(),
    };
    if (this.error !== undefined) json.error = this.error;
    if (this.id !== 0) json.id = this.id;
    return json;
  }
}

/** The message of a thrown value: Error.message, a string as is, anything else through String(). */
export function errorMessage(error: unknown): string {
  if (error instanceof Error) return error.message;
  if (typeof error === 'string') return error;
  try {
    return String(error);
  } catch {
    return 'unprintable error';
  }
}

/** "850ms", "1.2s", "42s", "3m5s", "2h10m", "3d4h". Negative durations read as 0. */
export function formatDuration(ms: number): string {
  const d = Math.max(0, ms);
  if (d < 1000) return `${Math.round(d)}ms`;
  if (d < 10_000) return `${(Math.floor(d / 100) / 10).toFixed(1)}s`;
  const s = Math.floor(d / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${s % 60}s`;
  const h = Math.floor(m / 60);
  if (h < 24) return `${h}h${m % 60}m`;
  return `${Math.floor(h / 24)}d${h % 24}h`;
}
