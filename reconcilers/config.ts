// Reconciler configuration: what a caller passes, the defaults, and the
// checks that turn a bad value into a clear error at construction.
import type { Registry } from 'prom-client';
import type { AnyTable, DB, Table } from '../statedb/index.js';
import type { Clock } from './clock.js';
import { systemClock } from './clock.js';
import { ReconcilerConfigError } from './errors.js';
import type { BatchOperations, Operations } from './operations.js';
import type { StatusAccessor } from './status-accessor.js';

/** A token-bucket rate: at most `perSecond` on average, `burst` at once. */
export interface Rate {
  /** Average rate; Infinity means unlimited. */
  readonly perSecond: number;
  /** Tokens available at once (>= 1, integer). */
  readonly burst?: number;
}

/** Retry backoff: the n-th consecutive failure waits min(maxMs, minMs * 2^n) * (1 + jitter * random()). */
export interface RetryConfig {
  /** Default 100 ms. */
  readonly minMs?: number;
  /** Default 60 000 ms (1 min). */
  readonly maxMs?: number;
  /** Fraction in [0, 1] added on top of the delay at random; default 0.2. 0 gives exact delays. */
  readonly jitter?: number;
}

/** A pino-compatible logger (only warn is used). */
export interface ReconcilerLogger {
  warn(fields: object, message: string): void;
}

/** Any table whose rows are T (whatever its key and secondary index types). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type TableOf<T> = Table<T, any, any>;

export interface ReconcilerConfig<T> {
  readonly db: DB;
  readonly table: TableOf<T>;
  /** Names this reconciler in health, metrics labels and errors. Default: the table name. */
  readonly name?: string;
  /** Reads and writes this reconciler's status on a row (statusProperty, statusSetProperty). */
  readonly status: StatusAccessor<T>;
  readonly operations: Operations<T>;
  /** When set, incremental changes go through these instead of operations.update/delete. */
  readonly batchOperations?: BatchOperations<T>;
  /** Most objects (changes plus retries) handled per round before statuses are committed. Default 1000. */
  readonly roundSize?: number;
  /** Limits how often rounds start, so bursts of small commits batch up. Default 1000/s, burst 1. */
  readonly roundRate?: Rate;
  readonly retry?: RetryConfig;
  /** Periodic full reconciliation (prune); 0 disables the initial and periodic prunes. Default 1 h. */
  readonly pruneIntervalMs?: number;
  /** Done rows older than this are re-marked refreshing so update repairs drift; 0 disables. Default 30 min. */
  readonly refreshIntervalMs?: number;
  /** How fast rows are re-marked for refresh. Default 100/s, burst 1. */
  readonly refreshRate?: Rate;
  /** Time source for every timer and timestamp. Default: the system clock. */
  readonly clock?: Clock;
  /** Random numbers in [0, 1) for jitter. Default Math.random. */
  readonly random?: () => number;
  /** Prometheus registry for flagella_reconciler_* metrics. Default: none (no metrics cost). */
  readonly registry?: Registry;
  readonly logger?: ReconcilerLogger;
}

/** Every setting with its default applied. */
export interface ResolvedConfig<T> {
  readonly db: DB;
  readonly table: TableOf<T>;
  readonly name: string;
  readonly status: StatusAccessor<T>;
  readonly operations: Operations<T>;
  readonly batchOperations: BatchOperations<T> | undefined;
  readonly roundSize: number;
  readonly roundRate: Required<Rate>;
  readonly retry: Required<RetryConfig>;
  readonly pruneIntervalMs: number;
  readonly refreshIntervalMs: number;
  readonly refreshRate: Required<Rate>;
  readonly clock: Clock;
  readonly random: () => number;
  readonly registry: Registry | undefined;
  readonly logger: ReconcilerLogger | undefined;
}

export const DEFAULTS = Object.freeze({
  roundSize: 1000,
  roundRate: Object.freeze({ perSecond: 1000, burst: 1 }),
  retry: Object.freeze({ minMs: 100, maxMs: 60_000, jitter: 0.2 }),
  pruneIntervalMs: 60 * 60_000,
  refreshIntervalMs: 30 * 60_000,
  refreshRate: Object.freeze({ perSecond: 100, burst: 1 }),
});

/** Applies defaults and validates. Throws ReconcilerConfigError naming the setting and the value. */
export function resolveConfig<T>(c: ReconcilerConfig<T>): ResolvedConfig<T> {
  if (c === null || typeof c !== 'object') throw new ReconcilerConfigError('reconciler: config must be an object');
  const name = c.name ?? (c.table as AnyTable | undefined)?.name;
  const where = `reconciler "${String(name)}"`;
  const fail = (msg: string): never => {
    throw new ReconcilerConfigError(`${where}: ${msg}`);
  };
  if (c.db === undefined || c.table === undefined) fail('db and table are required');
  if (c.db.table(c.table.name) !== c.table) fail(`table "${c.table.name}" is not registered in the given db`);
  // eslint-disable-next-line no-control-regex
  if (typeof name !== 'string' || name.length === 0 || name.length > 64 || /[\x00-\x1f]/.test(name)) {
    fail('name must be 1-64 printable characters');
  }
  if (typeof c.status?.get !== 'function' || typeof c.status?.set !== 'function') {
    fail('status must provide get(obj) and set(obj, status)');
  }
  const ops = c.operations;
  if (typeof ops?.update !== 'function' || typeof ops.delete !== 'function' || typeof ops.prune !== 'function') {
    fail('operations must provide update, delete and prune');
  }
  const b = c.batchOperations;
  if (b !== undefined && (typeof b.updateBatch !== 'function' || typeof b.deleteBatch !== 'function')) {
    fail('batchOperations must provide updateBatch and deleteBatch');
  }
  const roundSize = c.roundSize ?? DEFAULTS.roundSize;
  if (!Number.isSafeInteger(roundSize) || roundSize < 1) fail(`roundSize must be a positive integer, got ${roundSize}`);
  const retry = { ...DEFAULTS.retry, ...c.retry };
  if (!(retry.minMs > 0) || !Number.isFinite(retry.minMs)) fail(`retry.minMs must be > 0, got ${retry.minMs}`);
  if (!(retry.maxMs >= retry.minMs) || !Number.isFinite(retry.maxMs)) {
    fail(`retry.maxMs must be >= retry.minMs (${retry.minMs}), got ${retry.maxMs}`);
  }
  if (!(retry.jitter >= 0 && retry.jitter <= 1)) fail(`retry.jitter must be in [0, 1], got ${retry.jitter}`);
  const interval = (key: 'pruneIntervalMs' | 'refreshIntervalMs'): number => {
    const v = c[key] ?? DEFAULTS[key];
    if (!(v >= 0) || !Number.isFinite(v)) fail(`${key} must be a finite number >= 0 (0 disables), got ${v}`);
    return v;
  };
  return {
    db: c.db,
    table: c.table,
    name: name as string,
    status: c.status,
    operations: ops,
    batchOperations: b,
    roundSize,
    roundRate: rate('roundRate', c.roundRate ?? DEFAULTS.roundRate, fail),
    retry,
    pruneIntervalMs: interval('pruneIntervalMs'),
    refreshIntervalMs: interval('refreshIntervalMs'),
    refreshRate: rate('refreshRate', c.refreshRate ?? DEFAULTS.refreshRate, fail),
    clock: c.clock ?? systemClock,
    random: c.random ?? Math.random,
    registry: c.registry,
    logger: c.logger,
  };
}

function rate(key: string, r: Rate, fail: (msg: string) => never): Required<Rate> {
  const burst = r.burst ?? 1;
  if (!(r.perSecond > 0)) fail(`${key}.perSecond must be > 0 (Infinity: unlimited), got ${r.perSecond}`);
  if (!Number.isSafeInteger(burst) || burst < 1) fail(`${key}.burst must be a positive integer, got ${burst}`);
  return { perSecond: r.perSecond, burst };
}
