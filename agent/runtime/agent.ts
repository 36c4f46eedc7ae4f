// The agent's lifecycle: start-up in dependency order, and a graceful stop
// that leaves the datapath running. Serving (API socket, health, metrics)
// is run.ts's job; this class is what they serve.
import { join } from 'node:path';
import type { Registry } from 'prom-client';
import type { DurableStore } from '../../statedb/index.js';
import type { NodeAddress, PolicyController } from '../../tables/index.js';
import { ApiObjects, EventHub } from '../api/index.js';
import { newRegistry, registerAgentMetrics, type AgentMetrics, type Logger } from '../observability/index.js';
import type { AgentConfig } from './config.js';
import { ControlPlane } from './control-plane.js';
import { DatapathPlane } from './datapath-plane.js';
import { checkAgentEnvironment } from './environment.js';
import { deviceNodeAddresses, explicitNodeAddresses } from './node-addresses.js';
import type { PolicyDriver } from './policy-driver.js';
import { createSources, type AgentSources } from './sources.js';

/** The durable store's file under --state-dir. */
export const STORE_FILE = 'flagella.mdb';

export interface AgentOptions {
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly version: string;
  /** The datapath object (default: build/bpf/flagella.o). */
  readonly objectPath?: string;
}

interface AgentParts {
  readonly registry: Registry;
  readonly cp: ControlPlane;
  readonly store: DurableStore;
  readonly plane: DatapathPlane;
  readonly sources: AgentSources;
  readonly policy: { controller: PolicyController; driver: PolicyDriver };
  readonly nodeAddresses: readonly NodeAddress[];
}

export class Agent {
  readonly startedAt = Date.now();
  readonly config: AgentConfig;
  readonly logger: Logger;
  readonly version: string;
  readonly registry: Registry;
  readonly cp: ControlPlane;
  readonly store: DurableStore;
  readonly plane: DatapathPlane;
  readonly sources: AgentSources;
  readonly policy: { controller: PolicyController; driver: PolicyDriver };
  readonly nodeAddresses: readonly NodeAddress[];
  readonly events: EventHub;
  readonly objects: ApiObjects;
  readonly metrics: AgentMetrics;
  private stopping: Promise<void> | undefined;

  private constructor(opts: AgentOptions, parts: AgentParts) {
    this.config = opts.config;
    this.logger = opts.logger;
    this.version = opts.version;
    this.registry = parts.registry;
    this.cp = parts.cp;
    this.store = parts.store;
    this.plane = parts.plane;
    this.sources = parts.sources;
    this.policy = parts.policy;
    this.nodeAddresses = parts.nodeAddresses;
    this.events = new EventHub(() => this.plane.datapath.events());
    this.objects = new ApiObjects({ db: this.cp.db, tables: this.cp.api, source: this.sources.api, lb: this.cp.lb, policy: this.cp.policy });
    this.metrics = registerAgentMetrics(this.registry, {
      version: this.version,
      nodeName: this.config.nodeName,
      startedAt: this.startedAt,
      sources: () => this.sources.all,
      objectErrors: () => this.cp.rejections.countBySource(),
      datapathCounters: () => this.plane.datapath.counters(),
      lbMapWrites: () => this.plane.lbMaps.counts().byMap,
    });
  }

  /**
   * Starts everything in order: environment checks; the durable store;
   * node addresses; the policy controller; the datapath (pinned maps
   * reused, load-balancing IDs restored from them); the sources (their
   * initializers registered); the reconcilers and the policy loop; the
   * sources' reading; the device attachments. On failure everything
   * opened so far is closed again (pins stay) and the error is thrown:
   * AgentEnvironmentError, the store's and the loader's typed errors,
   * SourceConfigError, or the attach errors.
   */
  static async start(opts: AgentOptions): Promise<Agent> {
    const { config, logger } = opts;
    checkAgentEnvironment(config, opts.objectPath);
    const nodeAddresses = config.nodeAddresses !== undefined ? explicitNodeAddresses(config.nodeAddresses) : deviceNodeAddresses(config.devices);
    if (nodeAddresses.length === 0) logger.warn('no node addresses (no --node-addresses, and the devices have no IPv4 address): NodePort frontends expand to nothing unless a Node object provides them');
    const registry = newRegistry();
    const cp = new ControlPlane({ nodeName: config.nodeName, nodeAddresses, registry, logger });
    const undo: (() => unknown)[] = [];
    try {
      const store = cp.openStore(join(config.stateDir, STORE_FILE), config.stateSync);
      undo.push(() => store.close());
      cp.setNodeAddresses(nodeAddresses);
      const policy = cp.createPolicyController();
      const plane = DatapathPlane.load(cp, config, registry, logger);
      undo.push(() => plane.stop());
      const sources = createSources(cp, config, logger, nodeAddresses.length === 0);
      undo.push(() => Promise.all(sources.all.map((s) => s.stop())));
      plane.start();
      policy.driver.start();
      undo.push(() => policy.driver.stop());
      for (const s of sources.all) await s.start();
      const agent = new Agent(opts, { registry, cp, store, plane, sources, policy, nodeAddresses });
      for (const link of plane.attach(config)) {
        logger.info({ device: link.device.ifname, hook: link.hook, link: link.linkId, prog: link.progId, outcome: link.outcome }, 'datapath attached');
      }
      return agent;
    } catch (err) {
      for (const fn of undo.reverse()) {
        try {
          await fn();
        } catch (cleanupErr) {
          logger.warn({ err: (cleanupErr as Error).message }, 'clean-up after a failed start failed');
        }
      }
      throw err;
    }
  }

  /**
   * Graceful stop: sources stop (applying what they buffered), the policy
   * loop and the reconcilers finish their round in flight, the store
   * closes. The datapath keeps running: maps, programs and links stay
   * pinned. Idempotent.
   */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      this.logger.info('stopping; the datapath keeps running');
      await Promise.all(this.sources.all.map((s) => s.stop()));
      await this.policy.driver.stop();
      this.events.close();
      await this.plane.stop();
      await this.store.close();
      this.logger.info('stopped');
    })();
    return this.stopping;
  }
}
