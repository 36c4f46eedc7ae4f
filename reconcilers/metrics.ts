// Prometheus metrics through prom-client, into a caller-supplied Registry.
// The metric objects are created once per registry and shared by every
// reconciler using it; each reconciler writes its own `reconciler` label.
// Without a registry every hook is a no-op and nothing is timed.
import type { Registry } from 'prom-client';
import { Counter, Gauge, Histogram } from 'prom-client';
import { ReconcilerConfigError } from './errors.js';

/** Operation label values. */
export type OperationName = 'update' | 'delete' | 'update_batch' | 'delete_batch';

/** What the engine reports; implemented by PromMetrics, or NoopMetrics. */
export interface ReconcilerMetrics {
  /** True when durations should be measured at all. */
  readonly timed: boolean;
  operation(op: OperationName, seconds: number, failed: number): void;
  round(): void;
  /** Objects waiting for a retry, objects in flight in the round, and all current errors (those plus a failed prune). */
  gauges(errored: number, pending: number, currentErrors: number): void;
  prune(seconds: number, failed: boolean): void;
  release(): void;
}

export const noopReconcilerMetrics: ReconcilerMetrics = {
  timed: false,
  operation() {},
  round() {},
  gauges() {},
  prune() {},
  release() {},
};

interface MetricSet {
  readonly duration: Histogram<'reconciler' | 'op'>;
  readonly errors: Counter<'reconciler' | 'op'>;
  readonly errorsCurrent: Gauge<'reconciler'>;
  readonly pending: Gauge<'reconciler'>;
  readonly errored: Gauge<'reconciler'>;
  readonly rounds: Counter<'reconciler'>;
  readonly pruneRuns: Counter<'reconciler'>;
  readonly pruneErrors: Counter<'reconciler'>;
  readonly pruneErrorsCurrent: Gauge<'reconciler'>;
  readonly pruneDuration: Histogram<'reconciler'>;
  readonly names: Set<string>;
}

const sets = new WeakMap<Registry, MetricSet>();

const DURATION_BUCKETS = [1e-6, 1e-5, 1e-4, 1e-3, 0.01, 0.1, 1, 10];

function metricSet(registry: Registry): MetricSet {
  let set = sets.get(registry);
  if (set !== undefined) return set;
  const registers = [registry];
  set = {
    duration: new Histogram({
      name: 'flagella_reconciler_operation_duration_seconds',
      help: 'Duration of reconciler operations (per call; a batch counts as one call)',
      labelNames: ['reconciler', 'op'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    errors: new Counter({
      name: 'flagella_reconciler_errors_total',
      help: 'Failed objects in reconciler operations',
      labelNames: ['reconciler', 'op'],
      registers,
    }),
    errorsCurrent: new Gauge({
      name: 'flagella_reconciler_errors_current',
      help: 'Current errors: objects waiting for a retry, plus 1 while the last prune failed',
      labelNames: ['reconciler'],
      registers,
    }),
    pending: new Gauge({
      name: 'flagella_reconciler_objects_pending',
      help: 'Objects taken from the change stream whose reconciliation is in flight',
      labelNames: ['reconciler'],
      registers,
    }),
    errored: new Gauge({
      name: 'flagella_reconciler_objects_errored',
      help: 'Objects in error status, waiting for a retry',
      labelNames: ['reconciler'],
      registers,
    }),
    rounds: new Counter({
      name: 'flagella_reconciler_rounds_total',
      help: 'Incremental reconciliation rounds',
      labelNames: ['reconciler'],
      registers,
    }),
    pruneRuns: new Counter({
      name: 'flagella_reconciler_prune_runs_total',
      help: 'Full reconciliations (prune) run',
      labelNames: ['reconciler'],
      registers,
    }),
    pruneErrors: new Counter({
      name: 'flagella_reconciler_prune_errors_total',
      help: 'Failed prunes',
      labelNames: ['reconciler'],
      registers,
    }),
    pruneErrorsCurrent: new Gauge({
      name: 'flagella_reconciler_prune_errors_current',
      help: '1 when the last prune failed, else 0',
      labelNames: ['reconciler'],
      registers,
    }),
    pruneDuration: new Histogram({
      name: 'flagella_reconciler_prune_duration_seconds',
      help: 'Duration of prune',
      labelNames: ['reconciler'],
      buckets: DURATION_BUCKETS,
      registers,
    }),
    names: new Set(),
  };
  sets.set(registry, set);
  return set;
}

/**
 * The metrics of one reconciler. Throws ReconcilerConfigError when another
 * live reconciler already uses `name` in this registry.
 */
export function promMetrics(registry: Registry, name: string): ReconcilerMetrics {
  const m = metricSet(registry);
  if (m.names.has(name)) {
    throw new ReconcilerConfigError(`reconciler "${name}": the name is already used by another reconciler in this registry`);
  }
  m.names.add(name);
  const label = { reconciler: name };
  const durations = new Map<OperationName, ReturnType<typeof m.duration.labels>>();
  const errorCounters = new Map<OperationName, ReturnType<typeof m.errors.labels>>();
  for (const op of ['update', 'delete', 'update_batch', 'delete_batch'] as const) {
    durations.set(op, m.duration.labels(name, op));
    errorCounters.set(op, m.errors.labels(name, op));
  }
  errorCounters.get('update')!.inc(0);
  errorCounters.get('delete')!.inc(0);
  m.rounds.inc(label, 0);
  m.pruneRuns.inc(label, 0);
  m.pruneErrors.inc(label, 0);
  m.pruneErrorsCurrent.set(label, 0);
  m.errorsCurrent.set(label, 0);
  m.pending.set(label, 0);
  m.errored.set(label, 0);
  return {
    timed: true,
    operation(op, seconds, failed) {
      durations.get(op)!.observe(seconds);
      if (failed > 0) errorCounters.get(op)!.inc(failed);
    },
    round() {
      m.rounds.inc(label);
    },
    gauges(errored, pending, currentErrors) {
      m.errorsCurrent.set(label, currentErrors);
      m.errored.set(label, errored);
      m.pending.set(label, pending);
    },
    prune(seconds, failed) {
      m.pruneRuns.inc(label);
      m.pruneDuration.observe(label, seconds);
      if (failed) m.pruneErrors.inc(label);
      m.pruneErrorsCurrent.set(label, failed ? 1 : 0);
    },
    release() {
      m.names.delete(name);
    },
  };
}
