// What every source offers the agent: a lifecycle, a sync signal, health and
// counters for metrics.
import type { KubeKind } from './kinds.js';

export type SourceStatus = 'starting' | 'ok' | 'degraded' | 'stopped';

export interface SourceHealth {
  /**
   * `starting` until the initial sync is applied (unless an error makes it
   * `degraded`), `ok` while nothing is wrong, `degraded` while something is
   * (an informer backing off, the sink failing, a broken file, a conflict),
   * `stopped` after stop().
   */
  readonly status: SourceStatus;
  readonly synced: boolean;
  /** The most recent error, kept after recovery for diagnosis. */
  readonly lastError?: { readonly message: string; readonly at: Date };
  /** What is wrong right now, one line each; empty when `ok`. */
  readonly problems: readonly string[];
  /** Set while the initial sync cannot finish until something outside changes (a file that never parsed is fixed). */
  readonly syncWaitsFor?: string;
}

/** Counters shared by all sources; monotonic except where noted. */
export interface SourceCounters {
  /** Object events read, per kind (informer events, or file changes). */
  readonly eventsByKind: Readonly<Record<KubeKind, number>>;
  /** Batches the sink applied (a throwing attempt does not count). */
  readonly batchesApplied: number;
  /** Changes in those batches. */
  readonly changesApplied: number;
  /** Changes the sink rejected (per-object errors). */
  readonly objectErrors: number;
  /** Sink apply/markDone attempts that threw (each retried). */
  readonly sinkFailures: number;
  /** Read errors: watch/list errors, file read or parse errors. */
  readonly errors: number;
  /** Informer restarts after an error (Kubernetes) or 0. */
  readonly restarts: number;
  /** Full relists after the initial one (Kubernetes), or full rescans (files). */
  readonly resyncs: number;
  /** When the last full list / scan was delivered, or null. */
  readonly lastResyncAt: Date | null;
}

export interface Source {
  /** Also the initializer name registered with the sink. */
  readonly name: string;
  /**
   * Starts reading. Resolves once reading has begun (not once synced);
   * rejects on bad configuration (e.g. a missing directory). Idempotent while
   * running; throws SourceStoppedError after stop().
   */
  start(): Promise<void>;
  /**
   * Stops reading, applies what is already buffered (one attempt), and
   * resolves when nothing of the source is left running: no timer, socket or
   * watcher keeps the process alive. Idempotent.
   */
  stop(): Promise<void>;
  /** Resolves true once the initial sync is applied and marked done; false if stopped before. Never rejects. */
  readonly synced: Promise<boolean>;
  readonly isSynced: boolean;
  health(): SourceHealth;
  counters(): SourceCounters;
}

/** start() after stop(): a source is single-use. */
export class SourceStoppedError extends Error {
  override readonly name = 'SourceStoppedError';
  constructor(source: string) {
    super(`source "${source}" was stopped and cannot be started again; create a new one`);
  }
}

/** A source's options or environment are unusable (missing directory, no kubeconfig, ...). */
export class SourceConfigError extends Error {
  override readonly name = 'SourceConfigError';
}
