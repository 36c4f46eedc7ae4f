// Packet tests of network policy need skb->ifindex to name an endpoint's
// host-side interface. BPF_PROG_TEST_RUN takes the ifindex from the
// __sk_buff context, and the kernel resolves it to a device of the caller's
// network namespace; so a PolicyBed makes a namespace holding veth pairs
// (both ends inside it) and runs the programs from inside it (setns on this
// thread). It also writes endpoints, ipcache entries and policy maps the way
// the reconcilers do, through datapath/policy.
import {
  deleteEndpointPolicyMap,
  ifindexOf,
  ipcacheKey,
  ipcacheValue,
  policyMapEntries,
  syncEndpointPolicyMap,
  withNetns,
  type Datapath,
  type PolicyMapRule,
} from '../../datapath/index.js';
import { openTestDatapath, TC_ACT_OK, TC_ACT_SHOT } from './datapath-fixture.js';
import { NetTopology, type Netns } from './netns.js';

/** struct __sk_buff: only ifindex (offset 40) is set; the kernel wants the rest zero. */
const SKB_CTX_SIZE = 192;
const SKB_IFINDEX_OFFSET = 40;

export const EP_F_INGRESS = 1 << 0;
export const EP_F_EGRESS = 1 << 1;

export interface PolicyRun {
  verdict: 'pass' | 'drop';
  out: Buffer;
}

export interface BedEndpoint {
  /** Host-side interface index: the flg_endpoints key and (here) the endpoint id. */
  ifindex: number;
  identity: number;
}

export class PolicyBed {
  readonly dp: Datapath & { dispose(): void };
  private readonly topo: NetTopology;
  private readonly ns: Netns;
  private readonly ifindexes: number[] = [];

  /** A datapath and a namespace with `interfaces` veth pairs. Call dispose() in a finally. */
  constructor(interfaces = 3) {
    this.topo = new NetTopology(`pb${Math.floor(Math.random() * 1e6)}`);
    try {
      this.ns = this.topo.namespace('bed');
      for (let i = 0; i < interfaces; i++) {
        this.topo.veth({ ns: this.ns, name: `hv${i}` }, { ns: this.ns, name: `pv${i}` });
        this.ifindexes.push(ifindexOf(`hv${i}`, this.ns.name));
      }
      this.dp = openTestDatapath();
    } catch (err) {
      this.topo.destroy();
      throw err;
    }
  }

  /** The namespace the interfaces live in (run programs inside it: withNetns). */
  get nsName(): string {
    return this.ns.name;
  }

  /** The ifindex of host-side interface i. */
  ifindex(i: number): number {
    const index = this.ifindexes[i];
    if (index === undefined) throw new Error(`the bed has no interface ${i}`);
    return index;
  }

  /** Registers interface i as an endpoint (id = ifindex) with enforcement flags. */
  endpoint(i: number, identity: number, flags: number): BedEndpoint {
    const ifindex = this.ifindex(i);
    this.dp.maps.endpoints.put(ifindex, { endpointId: ifindex, secIdentity: identity, flags });
    return { ifindex, identity };
  }

  /** Sets how many endpoints enforce policy (0 switches policy off). */
  enforcing(count: number): void {
    this.dp.maps.policyState.put(0, { enforcingEndpoints: count });
  }

  ipcache(prefix: string, identity: number): void {
    this.dp.maps.ipcache.put(ipcacheKey(prefix), ipcacheValue(identity));
  }

  /** Replaces the endpoint's policy map with these rules. */
  policy(ep: BedEndpoint, rules: readonly PolicyMapRule[]): void {
    syncEndpointPolicyMap(this.dp.maps.policy, ep.ifindex, policyMapEntries(rules));
  }

  removePolicyMap(ep: BedEndpoint): void {
    deleteEndpointPolicyMap(this.dp.maps.policy, ep.ifindex);
  }

  /** Runs a frame through tc ingress (from the endpoint) or tc egress (to it) of an interface. */
  run(hook: 'ingress' | 'egress', ifindex: number, frame: Uint8Array): PolicyRun {
    const prog = hook === 'ingress' ? this.dp.programs.tcIngress : this.dp.programs.tcEgress;
    const ctx = Buffer.alloc(SKB_CTX_SIZE);
    ctx.writeUInt32LE(ifindex, SKB_IFINDEX_OFFSET);
    const res = withNetns(this.ns.name, () => prog.testRun({ data: frame, ctx }));
    if (res.retval !== TC_ACT_OK && res.retval !== TC_ACT_SHOT) throw new Error(`unexpected tc verdict ${res.retval}`);
    return { verdict: res.retval === TC_ACT_OK ? 'pass' : 'drop', out: res.data };
  }

  /** A packet the endpoint sends (its egress policy). */
  send(ep: BedEndpoint, frame: Uint8Array): PolicyRun {
    return this.run('ingress', ep.ifindex, frame);
  }

  /** A packet delivered to the endpoint (its ingress policy). */
  deliver(ep: BedEndpoint, frame: Uint8Array): PolicyRun {
    return this.run('egress', ep.ifindex, frame);
  }

  dispose(): void {
    try {
      this.dp.dispose();
    } finally {
      this.topo.destroy();
    }
  }
}
