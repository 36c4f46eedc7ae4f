// `--once`: wait until the agent has converged — every source synced, the
// policy computation has nothing left to do, every reconciler has caught up
// with its table, pruned once after initialization, and has no failed row
// waiting for a retry — or until the deadline, or at once when a source
// cannot sync without an outside change (a file that never parsed). Then
// report what is wrong: rejected objects, broken sources, reconciler errors.
import type { Agent } from './agent.js';
import { agentProblems } from './agent-status.js';
import type { Registry } from 'prom-client';

export interface ConvergenceResult {
  /** True when everything caught up before the deadline. */
  readonly converged: boolean;
  /** Every problem found (empty: success). */
  readonly errors: readonly string[];
  readonly elapsedMs: number;
}

const POLL_MS = 50;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function pruneRuns(registry: Registry): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  const metric = registry.getSingleMetric('flagella_reconciler_prune_runs_total');
  if (metric === undefined) return out;
  for (const v of (await metric.get()).values) out.set(String(v.labels.reconciler), v.value);
  return out;
}

/** The policy computation has nothing left: a step writes nothing and reports its outputs initialized. */
function policySettled(agent: Agent): boolean {
  for (let i = 0; i < 10; i++) {
    const r = agent.policy.driver.step();
    if (r instanceof Error) return false;
    const wrote = r.endpointPoliciesWritten + r.endpointPoliciesDeleted + r.ipcacheWritten + r.ipcacheDeleted + r.identitiesWritten + r.identitiesDeleted;
    if (wrote === 0) return r.initialized;
  }
  return false;
}

/** Unsynced sources that only an outside change can sync (a file that never parsed); undefined when some other source may still sync. */
function blockedSources(agent: Agent): string[] | undefined {
  const blocked: string[] = [];
  for (const s of agent.sources.all) {
    if (s.isSynced) continue;
    const waits = s.health().syncWaitsFor;
    if (waits === undefined) return undefined;
    blocked.push(`source ${s.name} cannot finish its initial sync until ${waits}`);
  }
  return blocked.length > 0 ? blocked : undefined;
}

/** What still keeps the agent from having converged (empty: converged). */
async function outstanding(agent: Agent): Promise<string[]> {
  const waiting: string[] = [];
  for (const s of agent.sources.all) if (!s.isSynced) waiting.push(`source ${s.name} has not finished its initial sync`);
  if (waiting.length > 0) return waiting;
  if (!policySettled(agent)) waiting.push('the policy computation has not settled');
  const txn = agent.cp.db.readTxn();
  const tables = [agent.cp.lb.frontends, agent.cp.policy.ipcache, agent.cp.policy.endpointPolicies];
  const runs = await pruneRuns(agent.registry);
  agent.plane.reconcilers.forEach((r, i) => {
    const table = tables[i]!;
    const revision = table.revision(txn);
    const progress = r.progress;
    if (!table.initialized(txn).initialized) waiting.push(`table ${table.name} is not initialized (${table.pendingInitializers(txn).join(', ')})`);
    else if ((runs.get(r.name) ?? 0) === 0) waiting.push(`reconciler ${r.name} has not pruned yet`);
    if (progress.revision < revision) waiting.push(`reconciler ${r.name} is at revision ${progress.revision} of ${revision}`);
    if (progress.retryLowWatermark !== 0) waiting.push(`reconciler ${r.name}: ${r.health.message}`);
  });
  return waiting;
}

/**
 * Waits (polling, bounded by `timeoutMs`) until nothing is outstanding.
 * Never throws; the result lists the errors: rejected objects, degraded
 * sources and reconcilers, and what was still outstanding at the deadline.
 */
export async function converge(agent: Agent, timeoutMs: number): Promise<ConvergenceResult> {
  const start = Date.now();
  let waiting = await outstanding(agent);
  let blocked: string[] | undefined;
  // A source blocked on a broken file will not sync by waiting: stop at once.
  while (waiting.length > 0 && (blocked = blockedSources(agent)) === undefined && Date.now() - start < timeoutMs) {
    await sleep(POLL_MS);
    waiting = await outstanding(agent);
  }
  const errors: string[] = [];
  for (const r of agent.cp.rejections.list()) errors.push(`${r.object} (source ${r.source}): ${r.error}`);
  errors.push(...agentProblems(agent));
  if (blocked !== undefined) errors.push(`did not converge: ${blocked.join('; ')} (nothing was pruned)`);
  else if (waiting.length > 0) errors.push(`did not converge within ${Math.round(timeoutMs / 1000)} s: ${waiting.join('; ')}`);
  return { converged: waiting.length === 0, errors: [...new Set(errors)], elapsedMs: Date.now() - start };
}
