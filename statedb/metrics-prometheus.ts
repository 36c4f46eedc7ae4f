// StateDBMetrics on prom-client, under the names Cilium uses for its statedb
// (with our prefix): write transaction durations per table set, and per
// table the object count, revision, graveyard size and delete trackers.
import { createRequire } from 'node:module';
import type * as PromClient from 'prom-client';
import type { Registry } from 'prom-client';
import type { StateDBMetrics, TableFigures } from './hooks.js';

export interface PrometheusMetricsOptions {
  /** Metric name prefix (default "flagella_statedb_"). */
  readonly prefix?: string;
  /** Buckets of the write transaction histogram, in seconds. */
  readonly durationBuckets?: readonly number[];
}

const DEFAULT_BUCKETS = [0.00001, 0.00005, 0.0001, 0.0005, 0.001, 0.005, 0.01, 0.05, 0.1, 0.5, 1];

/**
 * A metrics sink registering, in `registry`:
 * - `<prefix>write_txn_duration_seconds{tables}` histogram: open to end of commit,
 *   `tables` = the locked tables' names, sorted, comma-separated;
 * - `<prefix>table_objects{table}`, `<prefix>table_revision{table}`,
 *   `<prefix>table_graveyard_objects{table}`, `<prefix>table_delete_trackers{table}`
 *   gauges, as of the table's latest commit.
 * Pass it as `new DB({ metrics })`. Throws (prom-client) when the registry
 * already holds metrics of these names: use one sink per DB and registry.
 */
export function prometheusMetrics(registry: Registry, opts: PrometheusMetricsOptions = {}): StateDBMetrics {
  // Loaded here, not at import: programs without metrics skip ~60 ms of start-up.
  const { Gauge, Histogram } = createRequire(import.meta.url)('prom-client') as typeof PromClient;
  const p = opts.prefix ?? 'flagella_statedb_';
  const registers = [registry];
  const duration = new Histogram({
    name: `${p}write_txn_duration_seconds`,
    help: 'Duration of committed write transactions, from open to end of commit',
    labelNames: ['tables'],
    buckets: [...(opts.durationBuckets ?? DEFAULT_BUCKETS)],
    registers,
  });
  const gauge = (name: string, help: string) => new Gauge({ name: `${p}${name}`, help, labelNames: ['table'], registers });
  const objects = gauge('table_objects', 'Objects in the table');
  const revision = gauge('table_revision', 'The table revision');
  const graveyard = gauge('table_graveyard_objects', 'Deleted objects retained for change iterators');
  const trackers = gauge('table_delete_trackers', 'Open change iterators (delete trackers) on the table');
  return {
    writeTxnCommitted(tables: readonly string[], durationMs: number): void {
      duration.observe({ tables: [...tables].sort().join(',') }, durationMs / 1000);
    },
    tableFigures(f: TableFigures): void {
      const labels = { table: f.table };
      objects.set(labels, f.objects);
      revision.set(labels, f.revision);
      graveyard.set(labels, f.graveyard);
      trackers.set(labels, f.deleteTrackers);
    },
  };
}
