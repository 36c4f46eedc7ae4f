// The policy controller's in-memory model: what it last saw of every input
// (endpoints, namespace labels, valid policies), the identities it holds
// for them, and the ipcache claims they make. Applying an input change
// updates the model and records, in a Delta, what it may affect. Pure: no
// tables, no I/O; the controller reads inputs and writes outputs.
import type { Labels } from '../labels.js';
import type { PolicyContext, PolicyEndpoint } from './endpoint-policy.js';
import { policyCIDRPrefixes } from './endpoint-policy.js';
import { canonicalLabels, endpointIdentityLabels, ReservedIdentity, type IdentityAllocator } from './identity.js';
import { IpcacheClaims } from './ipcache-claims.js';
import type { NetworkPolicy } from './network-policy.js';
import type { PolicyChange } from './policy-recompute.js';
import type { EndpointRow } from './policy-tables.js';

/** What a batch of input changes may affect. */
export interface Delta {
  readonly changes: PolicyChange[];
  /** Endpoints to recompute whatever the changes say (placement: local, interface). */
  readonly recompute: Set<string>;
  /** ipcache prefixes whose winner may have changed. */
  readonly prefixes: Set<string>;
  /** Identity ids allocated or released. */
  readonly identities: Set<number>;
  /** Endpoints whose identity must be worked out again. */
  readonly needsIdentity: Set<string>;
}

export function emptyDelta(): Delta {
  return { changes: [], recompute: new Set(), prefixes: new Set(), identities: new Set(), needsIdentity: new Set() };
}

interface TrackedEndpoint {
  /** The latest row seen or written by the controller. */
  row: EndpointRow;
  identityKey: string;
  identity: number;
  view: PolicyEndpoint;
}

function hostPrefix(ip: string): string {
  return `${ip}/${ip.includes(':') ? 128 : 32}`;
}

function sameLabels(a: Labels | undefined, b: Labels | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const ka = Object.keys(a);
  return ka.length === Object.keys(b).length && ka.every((k) => b[k] === a[k]);
}

function sameView(a: PolicyEndpoint, b: PolicyEndpoint): boolean {
  return a.identity === b.identity && a.namespace === b.namespace && sameLabels(a.labels, b.labels) && JSON.stringify(a.namedPorts) === JSON.stringify(b.namedPorts);
}

export class PolicyModel {
  readonly claims = new IpcacheClaims();
  private readonly endpoints = new Map<string, TrackedEndpoint>();
  private readonly byNamespace = new Map<string, Set<string>>();
  private readonly namespaceLabels = new Map<string, Labels>();
  private readonly policies = new Map<string, NetworkPolicy>();
  private cidrIdentities = new Map<string, number>();

  constructor(
    readonly allocator: IdentityAllocator,
    hostAddresses: readonly string[] = [],
  ) {
    for (const ip of hostAddresses) this.claims.set(hostPrefix(ip), 'host', { identity: ReservedIdentity.Host, source: 'host', owner: '', local: true });
  }

  /** The row the model last saw for an endpoint (the controller compares change rows with it). */
  endpointRow(id: string): EndpointRow | undefined {
    return this.endpoints.get(id)?.row;
  }

  endpointIds(): IterableIterator<string> {
    return this.endpoints.keys();
  }

  /** The policy view of a tracked endpoint (identity assigned). */
  endpointView(id: string): PolicyEndpoint | undefined {
    return this.endpoints.get(id)?.view;
  }

  setNamespace(name: string, labels: Labels | undefined, delta: Delta): void {
    const before = this.namespaceLabels.get(name);
    if (sameLabels(before, labels)) return;
    if (labels === undefined) this.namespaceLabels.delete(name);
    else this.namespaceLabels.set(name, labels);
    delta.changes.push({ kind: 'namespace', name, before: before ?? {}, after: labels ?? {} });
    // Namespace labels are part of every member pod's identity.
    for (const id of this.byNamespace.get(name) ?? []) delta.needsIdentity.add(id);
  }

  /** A valid policy, or undefined for a deleted or invalid one (which enforces nothing). */
  setPolicy(name: string, policy: NetworkPolicy | undefined, delta: Delta): void {
    const before = this.policies.get(name);
    if (before === policy) return;
    if (policy === undefined) this.policies.delete(name);
    else this.policies.set(name, policy);
    delta.changes.push({ kind: 'policy', ...(before ? { before } : {}), ...(policy ? { after: policy } : {}) });
  }

  /** A new or changed endpoint row (its identity is worked out by assignIdentities), or a deletion. */
  setEndpoint(id: string, row: EndpointRow | undefined, delta: Delta): void {
    const tracked = this.endpoints.get(id);
    if (row === undefined) {
      if (tracked === undefined) return;
      this.endpoints.delete(id);
      this.byNamespace.get(tracked.row.namespace)?.delete(id);
      this.unclaimIPs(id, tracked.row.ips, delta);
      this.allocator.release(tracked.identity);
      delta.identities.add(tracked.identity);
      delta.changes.push({ kind: 'endpoint', before: tracked.view });
      delta.recompute.add(id);
      return;
    }
    if (tracked === undefined) {
      this.endpoints.set(id, { row, identityKey: '', identity: 0, view: { id, namespace: row.namespace, labels: row.labels, identity: 0, namedPorts: row.namedPorts } });
      let members = this.byNamespace.get(row.namespace);
      if (members === undefined) this.byNamespace.set(row.namespace, (members = new Set()));
      members.add(id);
    } else {
      const old = tracked.row;
      if (old.local !== row.local || old.hostInterface?.ifindex !== row.hostInterface?.ifindex || old.hostInterface?.name !== row.hostInterface?.name) {
        delta.recompute.add(id);
      }
      if (old.ips.join() !== row.ips.join() || old.local !== row.local) {
        this.unclaimIPs(id, old.ips, delta);
        tracked.identityKey = ''; // re-claims the new IPs in assignIdentities
      }
      tracked.row = row;
    }
    delta.needsIdentity.add(id);
  }

  /**
   * Works out the identity of every endpoint in delta.needsIdentity:
   * acquires the identity of its label set (pod labels, namespace,
   * namespace labels), releases the old one, claims its IPs, and records
   * an endpoint change when its policy view changed. Returns the endpoints
   * whose row must be rewritten with a new identity. Throws
   * IdentityExhaustedError (the model is then as before for that endpoint).
   */
  assignIdentities(delta: Delta): EndpointRow[] {
    const rewrite: EndpointRow[] = [];
    for (const id of delta.needsIdentity) {
      const tracked = this.endpoints.get(id);
      if (tracked === undefined) continue;
      const { row } = tracked;
      const labels = endpointIdentityLabels(row.namespace, row.labels, this.namespaceLabels.get(row.namespace) ?? {});
      const key = canonicalLabels(labels);
      if (key !== tracked.identityKey) {
        const allocation = this.allocator.acquire(labels);
        if (tracked.identity !== 0) this.allocator.release(tracked.identity);
        delta.identities.add(allocation.id).add(tracked.identity);
        tracked.identityKey = key;
        tracked.identity = allocation.id;
        for (const ip of row.ips) {
          this.claims.set(hostPrefix(ip), `endpoint:${id}`, { identity: allocation.id, source: 'endpoint', owner: id, local: row.local });
          delta.prefixes.add(hostPrefix(ip));
        }
      }
      const view: PolicyEndpoint = { id, namespace: row.namespace, labels: row.labels, identity: tracked.identity, namedPorts: row.namedPorts };
      if (!sameView(view, tracked.view)) {
        delta.changes.push({ kind: 'endpoint', ...(tracked.view.identity !== 0 ? { before: tracked.view } : {}), after: view });
        tracked.view = view;
      }
      if (row.identity !== tracked.identity) rewrite.push(row);
    }
    return rewrite;
  }

  /** Records that the controller rewrote an endpoint row (with its identity), so the change it causes is recognised. */
  rowRewritten(row: EndpointRow): void {
    const tracked = this.endpoints.get(row.id);
    if (tracked !== undefined) tracked.row = row;
  }

  /** The identity of a tracked endpoint (0 when unknown). */
  identityOf(id: string): number {
    return this.endpoints.get(id)?.identity ?? 0;
  }

  /**
   * After policies changed: acquires identities for the CIDRs they now
   * use, releases those of CIDRs no longer used, and updates their claims.
   * Records a cidr-identities change when the map changed. Throws
   * IdentityExhaustedError.
   */
  refreshCIDRs(delta: Delta): void {
    const wanted = policyCIDRPrefixes(this.policies.values());
    const next = new Map<string, number>();
    let changed = false;
    for (const prefix of wanted) {
      const known = this.cidrIdentities.get(prefix);
      if (known !== undefined) {
        next.set(prefix, known);
        continue;
      }
      const allocation = this.allocator.acquireCIDR(prefix);
      next.set(prefix, allocation.id);
      delta.identities.add(allocation.id);
      changed = true;
      if (allocation.id !== ReservedIdentity.World) {
        this.claims.set(prefix, 'cidr', { identity: allocation.id, source: 'cidr', owner: '', local: false });
        delta.prefixes.add(prefix);
      }
    }
    for (const [prefix, id] of this.cidrIdentities) {
      if (next.has(prefix)) continue;
      this.allocator.release(id);
      delta.identities.add(id);
      this.claims.remove(prefix, 'cidr');
      delta.prefixes.add(prefix);
      changed = true;
    }
    this.cidrIdentities = next;
    if (changed) delta.changes.push({ kind: 'cidr-identities' });
  }

  /** The context policy computation reads: every endpoint with an identity, valid policies, namespaces, CIDRs. */
  context(): PolicyContext {
    const endpoints: PolicyEndpoint[] = [];
    for (const t of this.endpoints.values()) if (t.identity !== 0) endpoints.push(t.view);
    return { policies: [...this.policies.values()], endpoints, namespaceLabels: this.namespaceLabels, cidrIdentities: this.cidrIdentities };
  }

  private unclaimIPs(id: string, ips: readonly string[], delta: Delta): void {
    for (const ip of ips) {
      this.claims.remove(hostPrefix(ip), `endpoint:${id}`);
      delta.prefixes.add(hostPrefix(ip));
    }
  }
}
