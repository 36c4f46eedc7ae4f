// `flagella agent`, the process: logging, start-up, then either `--once`
// (converge, print the summary, exit) or serving the API socket, health and
// metrics until SIGINT/SIGTERM, then a graceful stop that leaves the
// datapath running.
import { serveApi, type ApiServer } from '../api/index.js';
import {
  checkLoopback,
  createLogger,
  serveHealth,
  serveMetrics,
  startProgress,
  type Logger,
  type ServedEndpoint,
} from '../observability/index.js';
import { Agent } from './agent.js';
import { agentHealth, agentStatus, reconcilerStatuses } from './agent-status.js';
import type { AgentConfig } from './config.js';
import { converge } from './converge.js';
import { formatSummary } from './summary.js';

export interface RunAgentOptions {
  readonly config: AgentConfig;
  readonly version: string;
  /** Aborts on SIGINT/SIGTERM: the agent stops gracefully. */
  readonly signal: AbortSignal;
  readonly stdout?: NodeJS.WriteStream;
  readonly stderr?: NodeJS.WriteStream;
  /** The datapath object (default: build/bpf/flagella.o). */
  readonly objectPath?: string;
}

/** How the run ended: the exit code, and a one-line message for a failure. */
export interface RunResult {
  readonly code: 0 | 1;
  readonly message?: string;
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Runs the agent until `signal` aborts (or, with --once, until it has
 * converged). Never rejects: failures come back as `{code: 1, message}`,
 * after being logged.
 */
export async function runAgent(opts: RunAgentOptions): Promise<RunResult> {
  const { config } = opts;
  const stdout = opts.stdout ?? process.stdout;
  const stderr = opts.stderr ?? process.stderr;
  // With --once the summary is the output; logs go to stderr.
  const logger = createLogger({ level: config.logLevel, ...(config.logFormat ? { format: config.logFormat } : {}), stream: config.once ? stderr : stdout });
  try {
    if (config.healthAddr) checkLoopback('--health-addr', config.healthAddr, config.allowRemoteObservability);
    if (config.metricsAddr) checkLoopback('--metrics-addr', config.metricsAddr, config.allowRemoteObservability);
  } catch (err) {
    return { code: 1, message: errorText(err) };
  }
  logger.info({ version: opts.version, node: config.nodeName, stateDir: config.stateDir, bpfRoot: config.bpfRoot, devices: config.devices, once: config.once }, 'starting flagella agent');
  let agent: Agent;
  try {
    agent = await Agent.start({ config, logger, version: opts.version, ...(opts.objectPath ? { objectPath: opts.objectPath } : {}) });
  } catch (err) {
    logger.error({ err: errorText(err) }, 'start-up failed');
    return { code: 1, message: errorText(err) };
  }
  const progress = startProgress({ title: 'initial sync', stream: stderr, read: () => syncProgress(agent) });
  try {
    if (config.once) return await runOnce(agent, stdout);
    return await serveUntilStopped(agent, logger, opts.signal);
  } finally {
    progress.stop();
    await agent.stop();
  }
}

async function runOnce(agent: Agent, stdout: NodeJS.WriteStream): Promise<RunResult> {
  const result = await converge(agent, agent.config.onceTimeoutMs);
  stdout.write(formatSummary(agentStatus(agent), result));
  if (result.errors.length === 0) return { code: 0 };
  return { code: 1, message: `--once: ${result.errors.length} error(s): ${result.errors.join('; ')}` };
}

async function serveUntilStopped(agent: Agent, logger: Logger, signal: AbortSignal): Promise<RunResult> {
  const { config } = agent;
  const served: (ApiServer | ServedEndpoint)[] = [];
  try {
    served.push(
      await serveApi(config.apiSocket, {
        db: agent.cp.db,
        objects: agent.objects,
        status: () => agentStatus(agent),
        health: () => agentHealth(agent),
        events: agent.events,
        onRequest: (method, route, status) => agent.metrics.apiRequest(method, route, status),
      }, logger.child({ component: 'api' })),
    );
    if (config.healthAddr) served.push(await serveHealth(config.healthAddr, () => agentHealth(agent), logger.child({ component: 'health' })));
    if (config.metricsAddr) served.push(await serveMetrics(config.metricsAddr, agent.registry, logger.child({ component: 'metrics' })));
  } catch (err) {
    logger.error({ err: errorText(err) }, 'serving failed');
    await Promise.all(served.map((s) => s.close()));
    return { code: 1, message: errorText(err) };
  }
  const addresses = served.map((s) => ('path' in s ? s.path : s.address));
  logger.info({ node: config.nodeName, endpoints: addresses, nodeAddresses: agent.nodeAddresses.map((a) => a.ip) }, 'agent ready');
  // Watches and unref'd timers do not keep Node running; this does, until the signal.
  const keepAlive = setInterval(() => undefined, 1 << 30);
  try {
    if (!signal.aborted) await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
    logger.info({ reason: errorText(signal.reason) }, 'shutting down');
  } finally {
    clearInterval(keepAlive);
    await Promise.all(served.map((s) => s.close()));
  }
  return { code: 0 };
}

/** The initial sync as a progress reading: rows reconciled out of rows to reconcile, and sources synced. */
function syncProgress(agent: Agent): { value: number; total: number; note: string; finished: boolean } {
  const sources = agent.sources.all;
  const synced = sources.filter((s) => s.isSynced).length;
  const recs = reconcilerStatuses(agent);
  const pending = recs.reduce((n, r) => n + r.pending, 0);
  const settled = recs.reduce((n, r) => n + r.done + r.errored, 0);
  return { value: settled, total: settled + pending, note: `sources ${synced}/${sources.length} synced`, finished: synced === sources.length && pending === 0 };
}
