// The computed policy of one endpoint: which (direction, peer identity,
// protocol, port range) are allowed, and in which directions it is
// restricted at all. This is what the policy-map reconciler writes.
import type { Labels } from '../labels.js';
import { parsePrefix, prefixContains, type Prefix } from '../net/prefix.js';
import { selectorMatches } from './label-selector.js';
import { ReservedIdentity } from './identity.js';
import type { IPBlockPeer, NetworkPolicy, PodsPeer, PolicyPort, PolicyProtocol, PolicyRule } from './network-policy.js';

export type PolicyDirection = 'ingress' | 'egress';

/** IP protocol numbers of the policy protocols (0 = any). */
export const IP_PROTOCOL: Readonly<Record<PolicyProtocol, number>> = { TCP: 6, UDP: 17, SCTP: 132 };

/** The label every namespace carries with its own name (set by the API server since 1.21). */
export const NAMESPACE_NAME_LABEL = 'kubernetes.io/metadata.name';

export interface NamedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: PolicyProtocol;
}

/** A pod as policy sees it: as subject (the endpoint enforced) or as peer. */
export interface PolicyEndpoint {
  /** Unique key, e.g. `namespace/pod`. */
  readonly id: string;
  readonly namespace: string;
  readonly labels: Labels;
  readonly identity: number;
  /** Container ports with names, for named ports in rules. */
  readonly namedPorts: readonly NamedPort[];
}

/** Everything a policy computation reads. */
export interface PolicyContext {
  readonly policies: readonly NetworkPolicy[];
  /** All pods known (local and remote): the candidates for peers. */
  readonly endpoints: readonly PolicyEndpoint[];
  /** Namespace name -> labels. Missing namespaces have no labels but their name label. */
  readonly namespaceLabels: ReadonlyMap<string, Labels>;
  /** Canonical prefix -> CIDR identity, for every prefix in the ipcache. */
  readonly cidrIdentities: ReadonlyMap<string, number>;
}

/** One allowed (direction, peer, protocol, ports) tuple. */
export interface PolicyEntry {
  readonly direction: PolicyDirection;
  /** 0 = any peer. */
  readonly peerIdentity: number;
  /** IP protocol number; 0 = any (then the ports are 0..65535). */
  readonly protocol: number;
  readonly portLo: number;
  readonly portHi: number;
}

export interface EndpointPolicy {
  /** A direction no policy selects the endpoint for is not restricted: everything is allowed. */
  readonly enforced: { readonly ingress: boolean; readonly egress: boolean };
  /** Canonical: sorted, overlapping and adjacent ranges merged, no entry covered by an any-protocol entry. */
  readonly entries: readonly PolicyEntry[];
}

/** Namespace labels as selectors see them: with the namespace's name label. */
export function namespaceLabelsFor(ctx: Pick<PolicyContext, 'namespaceLabels'>, namespace: string): Labels {
  return { ...(ctx.namespaceLabels.get(namespace) ?? {}), [NAMESPACE_NAME_LABEL]: namespace };
}

/** True when the policy applies to the endpoint (same namespace, pod selector matches). */
export function policySelects(policy: NetworkPolicy, endpoint: Pick<PolicyEndpoint, 'namespace' | 'labels'>): boolean {
  return policy.namespace === endpoint.namespace && selectorMatches(policy.podSelector, endpoint.labels);
}

/** Memoises namespaceLabelsFor over one context (a new object per call was the hot spot). */
export function namespaceLabelsLookup(ctx: Pick<PolicyContext, 'namespaceLabels'>): (namespace: string) => Labels {
  const cache = new Map<string, Labels>();
  return (namespace) => {
    let labels = cache.get(namespace);
    if (labels === undefined) {
      labels = namespaceLabelsFor(ctx, namespace);
      cache.set(namespace, labels);
    }
    return labels;
  };
}

/** True when a pods peer of `policy` matches the endpoint; `nsLabels` gives a namespace's labels (see namespaceLabelsLookup). */
export function podsPeerMatches(
  peer: PodsPeer,
  policy: NetworkPolicy,
  endpoint: Pick<PolicyEndpoint, 'namespace' | 'labels'>,
  nsLabels: (namespace: string) => Labels,
): boolean {
  const inNamespace =
    peer.namespaceSelector === null
      ? endpoint.namespace === policy.namespace
      : selectorMatches(peer.namespaceSelector, nsLabels(endpoint.namespace));
  return inNamespace && selectorMatches(peer.podSelector, endpoint.labels);
}

/** Every CIDR prefix the policies reference (ipBlock cidrs and excepts): they need identities and ipcache entries. Sorted. */
export function policyCIDRPrefixes(policies: Iterable<NetworkPolicy>): string[] {
  const out = new Set<string>();
  for (const p of policies) {
    for (const rule of [...p.ingress, ...p.egress]) {
      if (rule.peers === 'any') continue;
      for (const peer of rule.peers) {
        if (peer.kind !== 'ipBlock') continue;
        out.add(peer.cidr);
        for (const e of peer.except) out.add(e);
      }
    }
  }
  return [...out].sort();
}

/** Computes one endpoint's policy. For many endpoints over one context, a PolicyResolver shares the peer work. */
export function computeEndpointPolicy(endpoint: PolicyEndpoint, ctx: PolicyContext): EndpointPolicy {
  return new PolicyResolver(ctx).compute(endpoint);
}

/** Peers of one rule, resolved against the context. */
interface ResolvedPeers {
  /** null: any peer. */
  readonly identities: readonly number[] | null;
  /** The pods matched (for named ports on egress); every pod for 'any'. */
  readonly pods: readonly PolicyEndpoint[];
}

/**
 * Computes endpoint policies over one context, caching the resolution of
 * each rule's peers (which does not depend on the subject endpoint). The
 * context must not change while the resolver is in use; make a new one
 * per snapshot.
 */
export class PolicyResolver {
  private readonly peerCache = new Map<PolicyRule, ResolvedPeers>();
  /** Egress entries of a rule do not depend on the subject: computed once per rule. */
  private readonly egressCache = new Map<PolicyRule, readonly PolicyEntry[]>();
  /**
   * Results by (selecting policies, named ports): the pods of one workload
   * share both, so they share one computation.
   */
  private readonly resultCache = new Map<string, EndpointPolicy>();
  private readonly policyIndex: ReadonlyMap<NetworkPolicy, number>;
  private readonly cidrPrefixes: readonly { prefix: Prefix; identity: number }[];
  private readonly nsLabels: (namespace: string) => Labels;

  constructor(private readonly ctx: PolicyContext) {
    this.cidrPrefixes = [...ctx.cidrIdentities].map(([text, identity]) => ({ prefix: parsePrefix(text), identity }));
    this.policyIndex = new Map(ctx.policies.map((p, i) => [p, i]));
    this.nsLabels = namespaceLabelsLookup(ctx);
  }

  /** The policies that select the endpoint. */
  selectingPolicies(endpoint: Pick<PolicyEndpoint, 'namespace' | 'labels'>): NetworkPolicy[] {
    return this.ctx.policies.filter((p) => policySelects(p, endpoint));
  }

  /**
   * The union of what every policy selecting the endpoint allows. Named
   * ports resolve on the destination: the endpoint itself for ingress, each
   * peer pod for egress. When pods sharing an identity disagree on a named
   * port, the union of their ports is allowed for that identity: the
   * datapath sees identities, not pods, so no narrower choice is exact.
   * Pure for a given context; never throws.
   */
  compute(endpoint: PolicyEndpoint): EndpointPolicy {
    const selecting = this.selectingPolicies(endpoint);
    const key = `${selecting.map((p) => this.policyIndex.get(p)).join(',')}|${namedPortsKey(endpoint.namedPorts)}`;
    const cached = this.resultCache.get(key);
    if (cached !== undefined) return cached;
    const entries: PolicyEntry[] = [];
    const enforced = { ingress: false, egress: false };
    for (const policy of selecting) {
      for (const type of policy.policyTypes) {
        const direction: PolicyDirection = type === 'Ingress' ? 'ingress' : 'egress';
        enforced[direction] = true;
        if (direction === 'ingress') {
          for (const rule of policy.ingress) this.ruleEntries(policy, rule, direction, endpoint, entries);
        } else {
          for (const rule of policy.egress) entries.push(...this.egressEntries(policy, rule, endpoint));
        }
      }
    }
    const result: EndpointPolicy = { enforced, entries: canonicalEntries(entries) };
    this.resultCache.set(key, result);
    return result;
  }

  private egressEntries(policy: NetworkPolicy, rule: PolicyRule, subject: PolicyEndpoint): readonly PolicyEntry[] {
    let entries = this.egressCache.get(rule);
    if (entries === undefined) {
      const out: PolicyEntry[] = [];
      this.ruleEntries(policy, rule, 'egress', subject, out);
      entries = canonicalEntries(out);
      this.egressCache.set(rule, entries);
    }
    return entries;
  }

  private ruleEntries(policy: NetworkPolicy, rule: PolicyRule, direction: PolicyDirection, subject: PolicyEndpoint, out: PolicyEntry[]): void {
    const peers = this.resolvePeers(policy, rule);
    const peerIds = peers.identities ?? [0];
    const ports: readonly PolicyPort[] | 'any' = rule.ports;
    if (ports === 'any') {
      for (const peerIdentity of peerIds) out.push({ direction, peerIdentity, protocol: 0, portLo: 0, portHi: 65535 });
      return;
    }
    for (const port of ports) {
      const protocol = IP_PROTOCOL[port.protocol];
      if (typeof port.port !== 'string') {
        const [portLo, portHi] = port.port === null ? [0, 65535] : [port.port, port.endPort ?? port.port];
        for (const peerIdentity of peerIds) out.push({ direction, peerIdentity, protocol, portLo, portHi });
      } else if (direction === 'ingress') {
        for (const p of resolveNamed(subject.namedPorts, port.port, port.protocol)) {
          for (const peerIdentity of peerIds) out.push({ direction, peerIdentity, protocol, portLo: p, portHi: p });
        }
      } else {
        // Egress: the port is the peer's. Only pods have named ports, so a
        // named port never matches an ipBlock peer.
        for (const pod of peers.pods) {
          for (const p of resolveNamed(pod.namedPorts, port.port, port.protocol)) {
            out.push({ direction, peerIdentity: pod.identity, protocol, portLo: p, portHi: p });
          }
        }
      }
    }
  }

  private resolvePeers(policy: NetworkPolicy, rule: PolicyRule): ResolvedPeers {
    let resolved = this.peerCache.get(rule);
    if (resolved !== undefined) return resolved;
    if (rule.peers === 'any') {
      resolved = { identities: null, pods: this.ctx.endpoints };
    } else {
      const ids = new Set<number>();
      const pods: PolicyEndpoint[] = [];
      for (const peer of rule.peers) {
        if (peer.kind === 'ipBlock') {
          for (const id of this.ipBlockIdentities(peer)) ids.add(id);
          continue;
        }
        for (const ep of this.ctx.endpoints) {
          if (podsPeerMatches(peer, policy, ep, this.nsLabels)) {
            ids.add(ep.identity);
            pods.push(ep);
          }
        }
      }
      resolved = { identities: [...ids].sort((a, b) => a - b), pods };
    }
    this.peerCache.set(rule, resolved);
    return resolved;
  }

  /**
   * CIDR identities allowed by an ipBlock: those whose prefix lies inside
   * the block and inside no except. Exact under the ipcache's
   * longest-prefix match, because the block and every except are themselves
   * ipcache prefixes with identities: an address resolves to the longest
   * prefix containing it, which lies inside the block exactly when the
   * address does (the block is a candidate) and inside an except exactly
   * when the address is in that except (the except is a candidate too).
   * A /0 block also allows World, what addresses nothing else claims
   * resolve to. Pod addresses resolve to pod identities and are not
   * allowed by ipBlocks, as Kubernetes advises.
   */
  private ipBlockIdentities(peer: IPBlockPeer): number[] {
    const block = parsePrefix(peer.cidr);
    const excepts = peer.except.map(parsePrefix);
    const ids: number[] = block.bits === 0 ? [ReservedIdentity.World] : [];
    for (const { prefix, identity } of this.cidrPrefixes) {
      if (prefixContains(block, prefix) && !excepts.some((e) => prefixContains(e, prefix))) ids.push(identity);
    }
    return ids;
  }
}

function namedPortsKey(namedPorts: readonly NamedPort[]): string {
  return namedPorts.map((np) => `${np.name}/${np.protocol}/${np.port}`).join(',');
}

function resolveNamed(namedPorts: readonly NamedPort[], name: string, protocol: PolicyProtocol): number[] {
  const ports: number[] = [];
  for (const np of namedPorts) if (np.name === name && np.protocol === protocol) ports.push(np.port);
  return ports;
}

const DIRECTION_ORDER: Record<PolicyDirection, number> = { ingress: 0, egress: 1 };

/**
 * Sorts entries by direction, peer, protocol and port; merges overlapping
 * or adjacent ranges of the same (direction, peer, protocol); drops entries
 * covered by an any-protocol entry for the same (direction, peer).
 */
export function canonicalEntries(entries: readonly PolicyEntry[]): PolicyEntry[] {
  const sorted = [...entries].sort(
    (a, b) =>
      DIRECTION_ORDER[a.direction] - DIRECTION_ORDER[b.direction] ||
      a.peerIdentity - b.peerIdentity ||
      a.protocol - b.protocol ||
      a.portLo - b.portLo ||
      a.portHi - b.portHi,
  );
  const out: PolicyEntry[] = [];
  let anyProtocolFor = '';
  for (const e of sorted) {
    const group = `${e.direction}/${e.peerIdentity}`;
    if (e.protocol === 0) anyProtocolFor = group;
    else if (anyProtocolFor === group) continue;
    const last = out[out.length - 1];
    if (last !== undefined && last.direction === e.direction && last.peerIdentity === e.peerIdentity && last.protocol === e.protocol && e.portLo <= last.portHi + 1) {
      if (e.portHi > last.portHi) out[out.length - 1] = { ...last, portHi: e.portHi };
      continue;
    }
    out.push(e);
  }
  return out;
}
