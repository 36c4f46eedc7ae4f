// What the agent reports about itself: `GET /v1/status`, `/healthz` and the
// `--once` summary read these.
import { describeTable, type AnyTable } from '../../statedb/index.js';
import type { Status } from '../../reconcilers/index.js';
import type { HealthReport } from '../observability/index.js';
import type { SourceCounters } from '../sources/index.js';
import type { Agent } from './agent.js';
import type { RejectedObject } from './rejections.js';

export interface SourceReport {
  readonly name: string;
  readonly health: string;
  readonly synced: boolean;
  readonly problems: readonly string[];
  readonly lastError?: { readonly message: string; readonly at: string };
  readonly counters: SourceCounters;
}

export interface ReconcilerReport {
  readonly name: string;
  readonly table: string;
  readonly health: string;
  readonly message: string;
  readonly objects: number;
  /** Rows waiting to be reconciled (pending or refreshing). */
  readonly pending: number;
  /** Rows whose last attempt failed (waiting for a retry). */
  readonly errored: number;
  /** Rows reconciled. */
  readonly done: number;
  readonly errors: readonly string[];
}

/** Counts the rows of a reconciled table by status kind. */
function statusCounts(agent: Agent, table: AnyTable): { pending: number; errored: number; done: number } {
  const out = { pending: 0, errored: 0, done: 0 };
  for (const { object } of table.all(agent.cp.db.readTxn())) {
    const status = (object as { status?: Status }).status;
    if (status === undefined) continue;
    if (status.kind === 'error') out.errored++;
    else if (status.kind === 'done') out.done++;
    else out.pending++;
  }
  return out;
}

export function sourceStatuses(agent: Agent): SourceReport[] {
  return agent.sources.all.map((s) => {
    const h = s.health();
    return {
      name: s.name,
      health: h.status,
      synced: h.synced,
      problems: h.problems,
      ...(h.lastError ? { lastError: { message: h.lastError.message, at: h.lastError.at.toISOString() } } : {}),
      counters: s.counters(),
    };
  });
}

export function reconcilerStatuses(agent: Agent): ReconcilerReport[] {
  const p = agent.plane;
  const tables: [typeof p.reconcilers[number], AnyTable][] = [
    [p.reconcilers[0]!, agent.cp.lb.frontends],
    [p.reconcilers[1]!, agent.cp.policy.ipcache],
    [p.reconcilers[2]!, agent.cp.policy.endpointPolicies],
  ];
  return tables.map(([r, table]) => {
    const h = r.health;
    const counts = statusCounts(agent, table);
    return { name: r.name, table: table.name, health: h.level, message: h.message, objects: h.objects, pending: counts.pending, errored: counts.errored, done: counts.done, errors: h.errors };
  });
}

/** Problems that make the agent degraded: failing sources, reconcilers, the policy computation. */
export function agentProblems(agent: Agent): string[] {
  const problems: string[] = [];
  for (const s of agent.sources.all) {
    const h = s.health();
    if (h.status === 'degraded') problems.push(...(h.problems.length > 0 ? h.problems.map((p) => `source ${s.name}: ${p}`) : [`source ${s.name}: degraded`]));
  }
  for (const r of agent.plane.reconcilers) {
    const h = r.health;
    if (h.level === 'degraded') problems.push(`reconciler ${r.name}: ${h.message}`);
  }
  const policy = agent.policy.driver.state().lastError;
  if (policy !== undefined) problems.push(`policy computation: ${policy.message}`);
  return problems;
}

/** `/healthz`: ok, or degraded with the problems. */
export function agentHealth(agent: Agent): HealthReport {
  const problems = agentProblems(agent);
  const synced = agent.sources.all.every((s) => s.isSynced);
  return { status: problems.length === 0 ? 'ok' : 'degraded', problems, synced, uptimeSeconds: Math.round((Date.now() - agent.startedAt) / 1000) };
}

export interface AgentStatus {
  readonly version: string;
  readonly nodeName: string;
  readonly startedAt: string;
  readonly uptimeSeconds: number;
  readonly health: HealthReport;
  readonly nodeAddresses: readonly { ip: string; primary: boolean; device: string }[];
  readonly sources: readonly SourceReport[];
  readonly rejectedObjects: readonly RejectedObject[];
  readonly reconcilers: readonly ReconcilerReport[];
  readonly policy: ReturnType<Agent['policy']['driver']['state']>;
  readonly datapath: {
    readonly pinRoot: string;
    readonly devices: readonly { device: string; hook: string; linkId: number; progId: number; outcome: string }[];
    readonly counters: Record<string, { packets: number; bytes: number }>;
    readonly lbMapWrites: { puts: number; deletes: number; total: number; byMap: Record<string, number> };
    readonly mapEntries: Record<string, number>;
  };
  readonly tables: readonly { name: string; objects: number; revision: number; initialized: boolean; pendingInitializers: readonly string[] }[];
}

/** `GET /v1/status`. Reads the maps (counters, entry counts): O(map size). */
export function agentStatus(agent: Agent): AgentStatus {
  const txn = agent.cp.db.readTxn();
  const dp = agent.plane;
  return {
    version: agent.version,
    nodeName: agent.config.nodeName,
    startedAt: new Date(agent.startedAt).toISOString(),
    uptimeSeconds: Math.round((Date.now() - agent.startedAt) / 1000),
    health: agentHealth(agent),
    nodeAddresses: agent.nodeAddresses.map((a) => ({ ip: a.ip, primary: a.primary, device: a.device })),
    sources: sourceStatuses(agent),
    rejectedObjects: agent.cp.rejections.list(),
    reconcilers: reconcilerStatuses(agent),
    policy: agent.policy.driver.state(),
    datapath: {
      pinRoot: agent.config.bpfRoot,
      devices: dp.attached.map((l) => ({ device: l.device.ifname, hook: l.hook, linkId: l.linkId, progId: l.progId, outcome: l.outcome })),
      counters: dp.datapath.counters(),
      lbMapWrites: { ...dp.lbMaps.counts(), byMap: { ...dp.lbMaps.counts().byMap } },
      mapEntries: dp.mapEntryCounts(),
    },
    tables: agent.cp.db.tables().map((t) => {
      const d = describeTable(txn, t);
      return { name: d.name, objects: d.objects, revision: d.revision, initialized: d.initialized, pendingInitializers: d.pendingInitializers };
    }),
  };
}
