// A small cluster shared by the policy tests: three namespaces, pods with
// identities and named ports, and CIDR identities. Not a test file.
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { parse } from 'yaml';
import {
  fromNetworkPolicy,
  type EndpointPolicy,
  type Labels,
  type NetworkPolicy,
  type PolicyContext,
  type PolicyEndpoint,
} from '../../tables/index.js';

export const NAMESPACES = new Map<string, Labels>([
  ['shop', { team: 'a' }],
  ['dev', { team: 'b' }],
  ['ops', { team: 'ops' }],
]);

export const ID = { web: 1001, db: 1002, shopClient: 1003, devClient: 1004, tester: 1005, monitor: 1006 } as const;

export const ENDPOINTS: PolicyEndpoint[] = [
  { id: 'shop/web-1', namespace: 'shop', labels: { app: 'web' }, identity: ID.web, namedPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }] },
  // Same identity as web-1, but its named port disagrees.
  { id: 'shop/web-2', namespace: 'shop', labels: { app: 'web' }, identity: ID.web, namedPorts: [{ name: 'http', port: 8081, protocol: 'TCP' }] },
  { id: 'shop/db', namespace: 'shop', labels: { app: 'db' }, identity: ID.db, namedPorts: [{ name: 'pg', port: 5432, protocol: 'TCP' }] },
  { id: 'shop/client', namespace: 'shop', labels: { app: 'client' }, identity: ID.shopClient, namedPorts: [] },
  { id: 'dev/client', namespace: 'dev', labels: { app: 'client' }, identity: ID.devClient, namedPorts: [] },
  { id: 'dev/tester', namespace: 'dev', labels: { app: 'tester', role: 'tester' }, identity: ID.tester, namedPorts: [] },
  { id: 'ops/monitor', namespace: 'ops', labels: { app: 'monitor' }, identity: ID.monitor, namedPorts: [{ name: 'metrics', port: 9090, protocol: 'TCP' }] },
];

export const CIDR = {
  ten: 0x1000001, // 10.0.0.0/8
  tenOne: 0x1000002, // 10.1.0.0/16
  tenOneTwo: 0x1000003, // 10.1.2.0/24
  tenTwo: 0x1000004, // 10.2.0.0/16
  private192: 0x1000005, // 192.168.0.0/16
  v6: 0x1000006, // fd00::/8
} as const;

export const CIDR_IDENTITIES = new Map<string, number>([
  ['10.0.0.0/8', CIDR.ten],
  ['10.1.0.0/16', CIDR.tenOne],
  ['10.1.2.0/24', CIDR.tenOneTwo],
  ['10.2.0.0/16', CIDR.tenTwo],
  ['192.168.0.0/16', CIDR.private192],
  ['fd00::/8', CIDR.v6],
]);

export function policy(yaml: string): NetworkPolicy {
  return fromNetworkPolicy(parse(yaml) as V1NetworkPolicy);
}

export function context(policies: NetworkPolicy[], endpoints: PolicyEndpoint[] = ENDPOINTS): PolicyContext {
  return { policies, endpoints, namespaceLabels: NAMESPACES, cidrIdentities: CIDR_IDENTITIES };
}

export function endpoint(id: string): PolicyEndpoint {
  const ep = ENDPOINTS.find((e) => e.id === id);
  if (ep === undefined) throw new Error(`no endpoint ${id}`);
  return ep;
}

const PROTO: Record<number, string> = { 0: 'any', 6: 'TCP', 17: 'UDP', 132: 'SCTP' };

/** `in 1003 TCP 80`, `eg 0 any 0-65535`: one line per entry. */
export function lines(result: EndpointPolicy): string[] {
  return result.entries.map((e) => {
    const ports = e.portLo === e.portHi ? `${e.portLo}` : `${e.portLo}-${e.portHi}`;
    return `${e.direction === 'ingress' ? 'in' : 'eg'} ${e.peerIdentity} ${PROTO[e.protocol] ?? e.protocol} ${ports}`;
  });
}
