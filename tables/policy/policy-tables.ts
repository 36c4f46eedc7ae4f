// The network-policy tables: their rows and their statedb definitions.
//
//   endpoints          every pod we know (local ones are enforced here;
//                      remote ones are peers and ipcache entries)   input
//   namespaces         namespace labels                             input
//   policies           NetworkPolicy rows, or the error of a bad one input
//   identities         id <-> canonical label set (durable)         computed
//   ipcache            prefix -> identity (reconciled)               computed
//   endpoint-policies  per local endpoint: enforcement and entries   computed, reconciled
//
// Inputs are written by PolicyWriter (policy-writer.ts); the computed
// tables by PolicyController (policy-controller.ts) only. Every row is
// plain JSON-serialisable data (the Status of reconciled rows has toJSON).
import type { Status } from '../../reconcilers/index.js';
import { Keys, nonUniqueIndex, uniqueIndex, type DB } from '../../statedb/index.js';
import type { Labels } from '../labels.js';
import type { NamedPort, PolicyEntry } from './endpoint-policy.js';
import type { IdentityKind } from './identity.js';
import type { NetworkPolicy } from './network-policy.js';

/** A pod, as policy needs it. */
export interface EndpointRow {
  /** `namespace/name`. */
  readonly id: string;
  readonly namespace: string;
  readonly podName: string;
  /** The node the pod runs on ('' when not scheduled or unknown). */
  readonly node: string;
  /** On this node: its policy is enforced here (when its interface is known). */
  readonly local: boolean;
  /** Canonical pod IPs (IPv4 and/or IPv6). */
  readonly ips: readonly string[];
  readonly labels: Labels;
  readonly namedPorts: readonly NamedPort[];
  /** Local pods: the host-side interface (name and ifindex); null when unknown or remote. */
  readonly hostInterface: { readonly name: string; readonly ifindex: number } | null;
  /** Security identity; 0 until the policy controller assigns it. */
  readonly identity: number;
}

export interface NamespaceRow {
  readonly name: string;
  readonly labels: Labels;
}

/** A NetworkPolicy: the parsed policy, or (policy null) the error that made it invalid. */
export interface PolicyRow {
  /** `namespace/name`. */
  readonly name: string;
  readonly namespace: string;
  readonly policy: NetworkPolicy | null;
  /** Why the object was rejected (field path and problem); null when valid. An invalid policy enforces nothing. */
  readonly error: string | null;
}

export type IdentityRowKind = IdentityKind | 'reserved';

export interface IdentityRow {
  readonly id: number;
  readonly kind: IdentityRowKind;
  /** Canonical label string (`key=value,...`), `cidr:<prefix>`, or `reserved:<name>`. */
  readonly labels: string;
}

export type IpcacheSource = 'endpoint' | 'cidr' | 'host';

export interface IpcacheRow {
  /** Canonical prefix: `10.0.1.5/32`, `10.0.0.0/8`. */
  readonly prefix: string;
  readonly identity: number;
  /** What claimed the prefix: a pod's IP, a CIDR a policy uses, or this node. */
  readonly source: IpcacheSource;
  /** The endpoint id for `endpoint`, '' otherwise. */
  readonly owner: string;
  readonly status: Status;
}

/** What the datapath enforces for one local endpoint. */
export interface EndpointPolicyRow {
  /** Endpoint id (`namespace/name`). */
  readonly endpoint: string;
  /** Datapath endpoint id (flg_policy key): the host-side ifindex, stable while the interface lives. */
  readonly endpointId: number;
  /** Host-side interface (flg_endpoints key). */
  readonly ifindex: number;
  readonly interfaceName: string;
  readonly identity: number;
  readonly enforced: { readonly ingress: boolean; readonly egress: boolean };
  /** Canonical (see canonicalEntries). */
  readonly entries: readonly PolicyEntry[];
  readonly status: Status;
}

export function makeEndpointsTable(db: DB) {
  return db.newTable({
    name: 'endpoints',
    primary: uniqueIndex('id', Keys.string, (e: EndpointRow) => e.id),
    secondary: {
      namespace: nonUniqueIndex('namespace', Keys.string, (e: EndpointRow) => e.namespace),
      local: nonUniqueIndex('local', Keys.bool, (e: EndpointRow) => e.local),
    },
    header: ['Endpoint', 'Node', 'IPs', 'Identity', 'Interface', 'Labels'],
    row: (e) => [e.id, e.local ? `${e.node} (local)` : e.node, e.ips.join(','), String(e.identity), e.hostInterface ? `${e.hostInterface.name}#${e.hostInterface.ifindex}` : '-', labelsText(e.labels)],
  });
}

export function makeNamespacesTable(db: DB) {
  return db.newTable({
    name: 'namespaces',
    primary: uniqueIndex('name', Keys.string, (n: NamespaceRow) => n.name),
    header: ['Namespace', 'Labels'],
    row: (n) => [n.name, labelsText(n.labels)],
  });
}

export function makePoliciesTable(db: DB) {
  return db.newTable({
    name: 'policies',
    primary: uniqueIndex('name', Keys.string, (p: PolicyRow) => p.name),
    secondary: { namespace: nonUniqueIndex('namespace', Keys.string, (p: PolicyRow) => p.namespace) },
    header: ['Policy', 'Types', 'Error'],
    row: (p) => [p.name, p.policy?.policyTypes.join(',') ?? '-', p.error ?? ''],
  });
}

/**
 * Durable: identities are stable across restarts when the agent opens a
 * store for the DB (openStore); without one the table is in memory like
 * any other and PolicyController restores from whatever rows it holds.
 */
export function makeIdentitiesTable(db: DB) {
  return db.newTable({
    name: 'identities',
    primary: uniqueIndex('id', Keys.u32, (i: IdentityRow) => i.id),
    secondary: { labels: uniqueIndex('labels', Keys.string, (i: IdentityRow) => i.labels) },
    durable: true,
    header: ['Identity', 'Kind', 'Labels'],
    row: (i) => [String(i.id), i.kind, i.labels],
  });
}

export function makeIpcacheTable(db: DB) {
  return db.newTable({
    name: 'ipcache',
    primary: uniqueIndex('prefix', Keys.string, (r: IpcacheRow) => r.prefix),
    secondary: { identity: nonUniqueIndex('identity', Keys.u32, (r: IpcacheRow) => r.identity) },
    header: ['Prefix', 'Identity', 'Source', 'Status'],
    row: (r) => [r.prefix, String(r.identity), r.owner === '' ? r.source : `${r.source} ${r.owner}`, r.status.toString()],
  });
}

export function makeEndpointPoliciesTable(db: DB) {
  return db.newTable({
    name: 'endpoint-policies',
    primary: uniqueIndex('endpoint', Keys.string, (r: EndpointPolicyRow) => r.endpoint),
    secondary: { endpointId: uniqueIndex('endpoint-id', Keys.u32, (r: EndpointPolicyRow) => r.endpointId) },
    header: ['Endpoint', 'Id', 'Identity', 'Enforced', 'Entries', 'Status'],
    row: (r) => [r.endpoint, String(r.endpointId), String(r.identity), enforcedText(r.enforced), String(r.entries.length), r.status.toString()],
  });
}

/** Every policy table, created in one DB. */
export interface PolicyTables {
  readonly endpoints: ReturnType<typeof makeEndpointsTable>;
  readonly namespaces: ReturnType<typeof makeNamespacesTable>;
  readonly policies: ReturnType<typeof makePoliciesTable>;
  readonly identities: ReturnType<typeof makeIdentitiesTable>;
  readonly ipcache: ReturnType<typeof makeIpcacheTable>;
  readonly endpointPolicies: ReturnType<typeof makeEndpointPoliciesTable>;
}

/** Creates the six policy tables. Throws DuplicateTableError when the DB already has one of them. */
export function newPolicyTables(db: DB): PolicyTables {
  return {
    endpoints: makeEndpointsTable(db),
    namespaces: makeNamespacesTable(db),
    policies: makePoliciesTable(db),
    identities: makeIdentitiesTable(db),
    ipcache: makeIpcacheTable(db),
    endpointPolicies: makeEndpointPoliciesTable(db),
  };
}

function labelsText(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((k) => `${k}=${labels[k]}`)
    .join(',');
}

function enforcedText(e: { readonly ingress: boolean; readonly egress: boolean }): string {
  const parts = [e.ingress ? 'ingress' : '', e.egress ? 'egress' : ''].filter(Boolean);
  return parts.length === 0 ? 'none' : parts.join('+');
}
