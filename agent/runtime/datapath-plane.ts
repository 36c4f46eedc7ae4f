// The kernel side of the agent: the datapath loaded once over the pins of
// earlier runs (maps reused, programs swapped), the load-balancing
// operations restored from the pinned maps (IDs and entries, so a restart
// rewrites nothing that is already right), the reconcilers that drive the
// maps, and the device attachments (pinned links, adopted on restart).
import type { Registry } from 'prom-client';
import {
  countingLBMaps,
  kernelLBMaps,
  LBOperations,
  loadDatapath,
  newLBReconciler,
  policyReconcilers,
  type AttachedLink,
  type CountingLBMaps,
  type Datapath,
  type PolicyReconcilers,
} from '../../datapath/index.js';
import type { Reconciler } from '../../reconcilers/index.js';
import type { Frontend } from '../../tables/index.js';
import { kernelLogger, type Logger } from '../observability/index.js';
import type { AgentConfig } from './config.js';
import type { ControlPlane } from './control-plane.js';

/** Entries in the datapath's maps, per map. */
export type MapEntryCounts = Record<string, number>;

const COUNT_LIMIT = 1_000_000;

export class DatapathPlane {
  readonly lbMaps: CountingLBMaps;
  readonly lbOperations: LBOperations;
  readonly lbReconciler: Reconciler<Frontend>;
  readonly policyReconcilers: PolicyReconcilers;
  attached: readonly AttachedLink[] = [];
  private started = false;

  private constructor(
    readonly datapath: Datapath,
    cp: ControlPlane,
    config: AgentConfig,
    registry: Registry,
    logger: Logger,
  ) {
    this.lbMaps = countingLBMaps(kernelLBMaps(datapath));
    this.lbOperations = new LBOperations({ tables: cp.lb, maps: this.lbMaps, defaultAlgorithm: config.lbAlgorithm });
    const reconcilerLogger = logger.child({ component: 'reconciler' });
    this.lbReconciler = newLBReconciler({ db: cp.db, tables: cp.lb, operations: this.lbOperations, registry, logger: reconcilerLogger });
    this.policyReconcilers = policyReconcilers(cp.db, cp.policy, datapath.maps, { registry, logger: reconcilerLogger });
  }

  /**
   * Loads the datapath under the pin root and restores the load-balancing
   * state from its maps. Throws the loader's typed errors
   * (EnvironmentError, PinnedMapMismatchError, LayoutDriftError, BpfError
   * with the verifier log); on failure nothing stays open.
   */
  static load(cp: ControlPlane, config: AgentConfig, registry: Registry, logger: Logger): DatapathPlane {
    const log = logger.child({ component: 'datapath' });
    const datapath = loadDatapath({
      pinRoot: config.bpfRoot,
      config: { defaultLbAlgorithm: config.lbAlgorithm, maglevTableSize: config.maglevTableSize },
      logger: kernelLogger(log),
    });
    try {
      const plane = new DatapathPlane(datapath, cp, config, registry, log);
      const restored = plane.lbOperations.state;
      log.info({ pinRoot: config.bpfRoot, frontends: restored.byAddress.size }, 'datapath loaded; load-balancing state restored from the pinned maps');
      return plane;
    } catch (err) {
      datapath.close();
      throw err;
    }
  }

  /** Every reconciler of this plane, for status and convergence. */
  get reconcilers(): readonly Reconciler<never>[] {
    return [this.lbReconciler, this.policyReconcilers.ipcache, this.policyReconcilers.endpointPolicies] as unknown as Reconciler<never>[];
  }

  /** Starts the reconcilers (once). Register every source's initializer first, or they prune early. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.lbReconciler.start();
    this.policyReconcilers.start();
  }

  /**
   * Attaches to the devices (adopting pinned links). Throws
   * XdpOnVethError, DatapathConfigError or BpfError; links made before a
   * failure stay.
   */
  attach(config: AgentConfig): readonly AttachedLink[] {
    if (config.devices.length === 0) return (this.attached = []);
    this.attached = this.datapath.attach(
      config.devices.map((ifname) => ({ ifname })),
      { mode: config.attachMode, xdpMode: config.xdpMode, forceXdpOnVeth: config.forceXdpOnVeth },
    );
    return this.attached;
  }

  /** Stops the reconcilers after their round in flight; closes this process's fds. Pins and links stay. */
  async stop(): Promise<void> {
    if (this.started) await Promise.all([this.lbReconciler.stop(), this.policyReconcilers.stop()]);
    this.datapath.close();
  }

  /** Entries per map (counted with a key walk; stops counting at a million). */
  mapEntryCounts(): MapEntryCounts {
    const m = this.datapath.maps;
    const count = (map: { keys(): Iterable<unknown> }) => {
      let n = 0;
      for (const _ of map.keys()) if (++n >= COUNT_LIMIT) break;
      return n;
    };
    return {
      flg_lb4_services: count(m.lb4Services.map),
      flg_lb4_backends: count(m.lb4Backends.map),
      flg_lb4_reverse_nat: count(m.lb4ReverseNat.map),
      flg_lb4_maglev: count(m.lb4Maglev.map),
      flg_lb4_source_range: count(m.lb4SourceRange.map),
      flg_lb_affinity_match: count(m.lbAffinityMatch.map),
      flg_ct4: count(m.ct4.map),
      flg_ipcache: count(m.ipcache.map),
      flg_endpoints: count(m.endpoints.map),
      flg_policy: count(m.policy.map),
    };
  }
}
