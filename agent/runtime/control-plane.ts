// The agent's state database and the writers into it: the load-balancing,
// policy and API tables (durable ones created before the store opens), one
// LBWriter per source (each writer keeps its own EndpointSlices and
// backends, tagged with its source), one PolicyWriter, and the sinks each
// source writes through.
import type { Registry } from 'prom-client';
import { DB, openStore, prometheusMetrics, type DurableStore } from '../../statedb/index.js';
import {
  LBWriter,
  newLBTables,
  newPolicyTables,
  PolicyController,
  PolicyWriter,
  systemInterfaceResolver,
  type InterfaceResolver,
  type LBTables,
  type NodeAddress,
  type PolicyTables,
} from '../../tables/index.js';
import { ifindexOf } from '../../datapath/index.js';
import { newApiTables, type ApiTables } from '../api/index.js';
import type { Logger } from '../observability/index.js';
import { DispatchSink, type ObjectSink, type SinkRoutes } from '../sources/index.js';
import { PolicyDriver } from './policy-driver.js';
import { PolicySink } from './policy-sink.js';
import { RejectionTracker } from './rejections.js';

export interface ControlPlaneOptions {
  readonly nodeName: string;
  readonly nodeAddresses: readonly NodeAddress[];
  readonly registry: Registry;
  readonly logger: Logger;
}

/**
 * Host interfaces of local pods, looked up in the agent's own network
 * namespace (if_nametoindex), since /sys shows the namespace that mounted it.
 */
const agentInterfaces: InterfaceResolver = {
  ifindex(name) {
    try {
      return ifindexOf(name);
    } catch {
      return undefined;
    }
  },
  routeInterface: (ip) => systemInterfaceResolver.routeInterface(ip),
};

export class ControlPlane {
  readonly db: DB;
  readonly lb: LBTables;
  readonly policy: PolicyTables;
  readonly api: ApiTables;
  readonly rejections = new RejectionTracker();
  readonly policyWriter: PolicyWriter;
  private readonly lbWriters = new Map<string, LBWriter>();
  private policyState: { controller: PolicyController; driver: PolicyDriver } | undefined;

  /** Creates the DB (metrics on `registry`) and every table. */
  constructor(private readonly opts: ControlPlaneOptions) {
    this.db = new DB({ metrics: prometheusMetrics(opts.registry) });
    this.lb = newLBTables(this.db);
    this.policy = newPolicyTables(this.db);
    this.api = newApiTables(this.db);
    this.policyWriter = new PolicyWriter(this.db, this.policy, { nodeName: opts.nodeName, interfaces: agentInterfaces });
  }

  /**
   * Opens the durable store at `path` (restoring the API tables and the
   * identities). Throws the store's typed errors (unreadable,
   * incompatible) naming the file.
   */
  openStore(path: string, sync: boolean): DurableStore {
    const store = openStore(this.db, path, { sync });
    for (const r of store.restored) this.opts.logger.info({ table: r.table, rows: r.rows, revision: r.revision }, 'restored durable table');
    return store;
  }

  /** Writes this node's addresses (before any reconciler runs, so NodePort frontends expand from the start). */
  setNodeAddresses(addresses: readonly NodeAddress[]): void {
    this.lbWriter('local').write((w) => w.setNodeAddresses(addresses));
  }

  /** The load-balancing writer of a source (created on first use). */
  lbWriter(source: string): LBWriter {
    let w = this.lbWriters.get(source);
    if (w === undefined) {
      w = new LBWriter(this.db, this.lb, { nodeName: this.opts.nodeName, source });
      this.lbWriters.set(source, w);
    }
    return w;
  }

  /**
   * The sink a source writes through: Services and EndpointSlices to its
   * LBWriter, Pods, Namespaces and NetworkPolicies to the policy writer,
   * and this node's Node to its LBWriter when `nodeObjects` (the node's
   * addresses then come from the cluster). Per-object rejections are
   * recorded under the source's name; conflicts are retried through its
   * LBWriter.
   */
  sinkFor(source: string, opts: { nodeObjects: boolean }): ObjectSink & { readonly kinds: readonly string[] } {
    const lb = this.lbWriter(source);
    const policy = new PolicySink(this.policyWriter, (name) => this.policy.policies.get(this.db.readTxn(), this.policy.policies.primary.query(name))?.error ?? undefined);
    const routes: SinkRoutes = { Service: lb, EndpointSlice: lb, Pod: policy, Namespace: policy, NetworkPolicy: policy };
    if (opts.nodeObjects) routes.Node = lb;
    const dispatch = new DispatchSink(routes, { unrouted: 'ignore' });
    return Object.assign(this.rejections.wrap(source, dispatch, lb), { kinds: dispatch.kinds });
  }

  /**
   * Creates the policy controller (after the store opened: it restores
   * identities from the durable table) and its driver (not started).
   */
  createPolicyController(): { controller: PolicyController; driver: PolicyDriver } {
    if (this.policyState !== undefined) return this.policyState;
    const hostAddresses = this.opts.nodeAddresses.map((a) => a.ip);
    const controller = new PolicyController(this.db, this.policy, { hostAddresses });
    const driver = new PolicyDriver(this.db, this.policy, controller, this.opts.logger.child({ component: 'policy' }));
    this.policyState = { controller, driver };
    return this.policyState;
  }
}
