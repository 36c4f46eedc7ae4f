// The agent's Prometheus registry: process metrics, statedb and reconciler
// metrics (registered by their own packages on this registry), and what
// only the agent knows, read at scrape time so nothing is kept in step:
// source counters, per-object rejections, datapath packet counters per
// reason (summed over CPUs from the per-CPU map), load-balancing map
// writes, API requests.
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';
import type { Source } from '../sources/index.js';

/** A reason's packet and byte counts, as the datapath reports them. */
export interface ReasonCounter {
  readonly packets: number;
  readonly bytes: number;
}

/** What the agent metrics read at each scrape. Every callback may throw: that metric is skipped for this scrape. */
export interface AgentMetricsInputs {
  readonly version: string;
  readonly nodeName: string;
  readonly startedAt: number;
  sources(): readonly Source[];
  /** Rejected objects now, per source name. */
  objectErrors(): ReadonlyMap<string, number>;
  /** Datapath counters per reason name, or undefined when no datapath is loaded. */
  datapathCounters(): Readonly<Record<string, ReasonCounter>> | undefined;
  /** Load-balancing map writes since start, per `<map> <op>`. */
  lbMapWrites(): Readonly<Record<string, number>> | undefined;
}

export interface AgentMetrics {
  readonly registry: Registry;
  /** Counts one API request (method, route pattern, status code). */
  apiRequest(method: string, route: string, code: number): void;
}

/** A registry with process and Node.js metrics (prom-client's defaults). */
export function newRegistry(): Registry {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  return registry;
}

/**
 * Registers the agent's own metrics on `registry` (all prefixed
 * `flagella_`). Throws (prom-client) when called twice on one registry.
 */
export function registerAgentMetrics(registry: Registry, inputs: AgentMetricsInputs): AgentMetrics {
  const registers = [registry];
  new Gauge({
    name: 'flagella_agent_info',
    help: 'Agent version and node name (always 1)',
    labelNames: ['version', 'node'],
    registers,
    collect() {
      this.set({ version: inputs.version, node: inputs.nodeName }, 1);
    },
  });
  new Gauge({
    name: 'flagella_agent_uptime_seconds',
    help: 'Seconds since the agent started',
    registers,
    collect() {
      this.set((Date.now() - inputs.startedAt) / 1000);
    },
  });
  registerSourceMetrics(registers, inputs);
  registerDatapathMetrics(registers, inputs);
  const requests = new Counter({
    name: 'flagella_api_requests_total',
    help: 'Requests served on the API socket, by method, route and status code',
    labelNames: ['method', 'route', 'code'],
    registers,
  });
  return { registry, apiRequest: (method, route, code) => requests.inc({ method, route, code: String(code) }) };
}

/** A counter whose values are read from elsewhere at scrape time. */
function collectedCounter(registers: Registry[], name: string, help: string, labelNames: string[], read: (set: (labels: Record<string, string>, v: number) => void) => void): void {
  new Counter({
    name,
    help,
    labelNames,
    registers,
    collect() {
      this.reset();
      try {
        read((labels, v) => this.inc(labels, Math.max(0, v)));
      } catch {
        // A failed read (e.g. a map gone) leaves this metric empty for this scrape rather than failing the scrape.
      }
    },
  });
}

function registerSourceMetrics(registers: Registry[], inputs: AgentMetricsInputs): void {
  const perSource = (read: (s: Source, set: (labels: Record<string, string>, v: number) => void) => void) => (set: (labels: Record<string, string>, v: number) => void) => {
    for (const s of inputs.sources()) read(s, set);
  };
  collectedCounter(registers, 'flagella_source_events_total', 'Object events read by a source, per kind', ['source', 'kind'], perSource((s, set) => {
    for (const [kind, n] of Object.entries(s.counters().eventsByKind)) set({ source: s.name, kind }, n);
  }));
  collectedCounter(registers, 'flagella_source_batches_applied_total', 'Batches a source applied to the tables', ['source'], perSource((s, set) => set({ source: s.name }, s.counters().batchesApplied)));
  collectedCounter(registers, 'flagella_source_changes_applied_total', 'Object changes a source applied', ['source'], perSource((s, set) => set({ source: s.name }, s.counters().changesApplied)));
  collectedCounter(registers, 'flagella_source_object_errors_total', 'Object changes the tables rejected', ['source'], perSource((s, set) => set({ source: s.name }, s.counters().objectErrors)));
  collectedCounter(registers, 'flagella_source_read_errors_total', 'Read errors (watch, list, file)', ['source'], perSource((s, set) => set({ source: s.name }, s.counters().errors)));
  collectedCounter(registers, 'flagella_source_sink_failures_total', 'Batches the tables failed to take (retried)', ['source'], perSource((s, set) => set({ source: s.name }, s.counters().sinkFailures)));
  collectedCounter(registers, 'flagella_source_restarts_total', 'Informer restarts after errors', ['source'], perSource((s, set) => set({ source: s.name }, s.counters().restarts)));
  new Gauge({
    name: 'flagella_source_synced',
    help: '1 once a source finished its initial sync',
    labelNames: ['source'],
    registers,
    collect() {
      this.reset();
      for (const s of inputs.sources()) this.set({ source: s.name }, s.isSynced ? 1 : 0);
    },
  });
  new Gauge({
    name: 'flagella_source_healthy',
    help: '1 while a source reports no problem',
    labelNames: ['source'],
    registers,
    collect() {
      this.reset();
      for (const s of inputs.sources()) this.set({ source: s.name }, s.health().status === 'degraded' ? 0 : 1);
    },
  });
  new Gauge({
    name: 'flagella_source_objects_rejected',
    help: 'Objects currently rejected by the tables (bad fields, conflicts)',
    labelNames: ['source'],
    registers,
    collect() {
      this.reset();
      for (const [source, n] of inputs.objectErrors()) this.set({ source }, n);
    },
  });
}

function registerDatapathMetrics(registers: Registry[], inputs: AgentMetricsInputs): void {
  let cached: { at: number; value: Readonly<Record<string, ReasonCounter>> | undefined } | undefined;
  // Packets and bytes come from one map read per scrape.
  const counters = () => {
    const now = Date.now();
    if (cached === undefined || now - cached.at > 100) cached = { at: now, value: inputs.datapathCounters() };
    return cached.value;
  };
  collectedCounter(registers, 'flagella_datapath_packets_total', 'Packets the datapath handled, per reason (drops and forwards)', ['reason'], (set) => {
    for (const [reason, c] of Object.entries(counters() ?? {})) set({ reason }, c.packets);
  });
  collectedCounter(registers, 'flagella_datapath_bytes_total', 'Bytes the datapath handled, per reason', ['reason'], (set) => {
    for (const [reason, c] of Object.entries(counters() ?? {})) set({ reason }, c.bytes);
  });
  collectedCounter(registers, 'flagella_lb_map_writes_total', 'Writes to the load-balancing maps since start, per map and operation', ['map', 'op'], (set) => {
    for (const [key, n] of Object.entries(inputs.lbMapWrites() ?? {})) {
      const space = key.lastIndexOf(' ');
      set({ map: key.slice(0, space), op: key.slice(space + 1) }, n);
    }
  });
}
