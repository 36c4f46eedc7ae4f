// Kubernetes objects for the policy table and controller tests: builders
// for pods, namespaces and policies, and a DB with the policy tables, a
// writer and a controller wired up. Not a test file.
import type { V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import { parse } from 'yaml';
import { DB } from '../../statedb/index.js';
import {
  newPolicyTables,
  PolicyController,
  PolicyWriter,
  type InterfaceResolver,
  type Labels,
  type PolicyControllerOptions,
  type PolicyObjectChange,
  type PolicyTables,
} from '../../tables/index.js';

export const NODE = 'node-a';

export interface PodSpec {
  ns: string;
  name: string;
  labels?: Labels;
  ip: string;
  node?: string;
  /** Host-side interface (annotation); default `veth-<name>` for local pods. */
  iface?: string;
  ports?: { name: string; port: number; protocol?: string }[];
}

export function pod(p: PodSpec): V1Pod {
  const node = p.node ?? NODE;
  return {
    metadata: {
      namespace: p.ns,
      name: p.name,
      labels: p.labels ?? {},
      annotations: node === NODE ? { 'flagella.io/host-interface': p.iface ?? `v-${p.name}`.slice(0, 15) } : {},
    },
    spec: { nodeName: node, containers: [{ name: 'c', ports: (p.ports ?? []).map((x) => ({ name: x.name, containerPort: x.port, protocol: x.protocol ?? 'TCP' })) }] },
    status: { phase: 'Running', podIP: p.ip, podIPs: [{ ip: p.ip }] },
  };
}

export function namespace(name: string, labels: Labels = {}): V1Namespace {
  return { metadata: { name, labels: { 'kubernetes.io/metadata.name': name, ...labels } } };
}

export function networkPolicy(yaml: string): V1NetworkPolicy {
  return parse(yaml) as V1NetworkPolicy;
}

/** Every interface exists, with an ifindex derived from its name (stable, unique enough for tests). */
export const fakeInterfaces: InterfaceResolver = {
  ifindex: (name) => 1000 + [...name].reduce((h, c) => (h * 31 + c.charCodeAt(0)) % 100000, 7),
  routeInterface: () => undefined,
};

export interface Cluster {
  db: DB;
  tables: PolicyTables;
  writer: PolicyWriter;
  controller: PolicyController;
  apply(...changes: PolicyObjectChange[]): void;
}

export function cluster(opts: PolicyControllerOptions & { db?: DB; tables?: PolicyTables } = {}): Cluster {
  const db = opts.db ?? new DB();
  const tables = opts.tables ?? newPolicyTables(db);
  const writer = new PolicyWriter(db, tables, { nodeName: NODE, interfaces: fakeInterfaces });
  const controller = new PolicyController(db, tables, opts);
  return {
    db,
    tables,
    writer,
    controller,
    apply(...changes) {
      const report = writer.apply(changes);
      const [first] = report.errors;
      if (first !== undefined) throw first;
    },
  };
}

export const upsert = {
  pod: (p: PodSpec): PolicyObjectChange => ({ kind: 'Pod', op: 'upsert', object: pod(p) }),
  ns: (name: string, labels: Labels = {}): PolicyObjectChange => ({ kind: 'Namespace', op: 'upsert', object: namespace(name, labels) }),
  policy: (yaml: string): PolicyObjectChange => ({ kind: 'NetworkPolicy', op: 'upsert', object: networkPolicy(yaml) }),
};

export const remove = {
  pod: (ns: string, name: string): PolicyObjectChange => ({ kind: 'Pod', op: 'delete', object: { metadata: { namespace: ns, name } } }),
  policy: (ns: string, name: string): PolicyObjectChange => ({ kind: 'NetworkPolicy', op: 'delete', object: { metadata: { namespace: ns, name } } }),
};
