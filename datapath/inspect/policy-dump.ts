// The policy maps decoded for `flagella policy dump`: every endpoint of
// flg_endpoints with what it enforces and the entries of its policy map
// (flg_policy[endpoint id], an LPM trie), the ipcache, and the global
// enforcement count. Pure over the maps' contents.
import type { TypedMap } from '../kernel/index.js';
import { protocolOf } from '../lb/lb-maps.js';
import type { EndpointInfo, FlgPolicyState, IpcacheKey, PolicyEntry, PolicyKey, RemoteEndpointInfo } from '../maps/layouts.generated.js';
import { ENDPOINT_FLAG_EGRESS, ENDPOINT_FLAG_INGRESS } from '../policy/endpoint-policy-operations.js';
import { readEndpointPolicyMap } from '../policy/endpoint-policy-map.js';
import { ipcacheKeyPrefix } from '../policy/ipcache-entry.js';
import { POLICY_DIRECTION_EGRESS, POLICY_FLAG_DENY } from '../policy/policy-map-entries.js';
import { POLICY_KEY_STATIC_PREFIX } from '../policy/port-prefixes.js';

/** One policy-map entry, decoded. */
export interface PolicyDumpEntry {
  readonly direction: 'ingress' | 'egress';
  /** The peer's security identity; 0 = any peer. */
  readonly identity: number;
  /** "TCP", "UDP", "any", or "PROTO(n)". */
  readonly protocol: string;
  /** "any", one port "80", or an aligned block "8000-8031" (a range is several blocks). */
  readonly ports: string;
  readonly verdict: 'allow' | 'deny';
  readonly precedence: number;
  /** The key's LPM prefix length (40 + protocol and port bits). */
  readonly prefixLength: number;
  /** L7 redirect port; 0 = none. */
  readonly proxyPort: number;
}

export interface EndpointPolicyDump {
  /** The flg_endpoints key: the host-side interface. */
  readonly ifindex: number;
  /** The key of its policy map in flg_policy. */
  readonly endpointId: number;
  readonly identity: number;
  readonly enforcesIngress: boolean;
  readonly enforcesEgress: boolean;
  /** Its policy map's entries in key order, or null when it has no policy map. */
  readonly entries: readonly PolicyDumpEntry[] | null;
}

export interface IpcacheDumpEntry {
  readonly prefix: string;
  readonly identity: number;
}

export interface PolicyDump {
  /** flg_policy_state: endpoints enforcing some direction; 0 = the datapath does no policy work. */
  readonly enforcingEndpoints: number;
  readonly endpoints: readonly EndpointPolicyDump[];
  /** Policy maps no endpoint refers to (left over, or written before their endpoint). */
  readonly unreferencedPolicyMaps: readonly number[];
  readonly ipcache: readonly IpcacheDumpEntry[];
}

export interface PolicyDumpMaps {
  readonly endpoints: TypedMap<number, EndpointInfo>;
  readonly policy: TypedMap<number, number>;
  readonly ipcache: TypedMap<IpcacheKey, RemoteEndpointInfo>;
  readonly policyState: TypedMap<number, FlgPolicyState>;
}

/** One key and value of a policy map as the datapath reads them. */
export function decodePolicyEntry(key: PolicyKey, value: PolicyEntry): PolicyDumpEntry {
  const l4Bits = key.prefixlen - POLICY_KEY_STATIC_PREFIX;
  let protocol = 'any';
  let ports = 'any';
  if (l4Bits >= 8) {
    protocol = protocolOf(key.protocol) ?? `PROTO(${key.protocol})`;
    const portBits = Math.min(16, l4Bits - 8);
    if (portBits > 0) {
      const size = 2 ** (16 - portBits);
      const lo = key.dport - (key.dport % size);
      ports = size === 1 ? String(lo) : `${lo}-${lo + size - 1}`;
    }
  }
  return {
    direction: (key.egress & 1) === POLICY_DIRECTION_EGRESS ? 'egress' : 'ingress',
    identity: key.secLabel,
    protocol,
    ports,
    verdict: (value.flags & POLICY_FLAG_DENY) !== 0 ? 'deny' : 'allow',
    precedence: value.precedence,
    prefixLength: key.prefixlen,
    proxyPort: value.proxyPort,
  };
}

// Direction, identity, protocol, first port: how a reader scans a policy.
function compareEntries(a: PolicyDumpEntry, b: PolicyDumpEntry): number {
  const firstPort = (p: string) => (p === 'any' ? -1 : Number(p.split('-')[0]));
  return (
    a.direction.localeCompare(b.direction) ||
    a.identity - b.identity ||
    a.protocol.localeCompare(b.protocol) ||
    firstPort(a.ports) - firstPort(b.ports)
  );
}

/** Reads every map once and decodes it. Throws BpfError. */
export function dumpPolicy(maps: PolicyDumpMaps): PolicyDump {
  const endpoints: EndpointPolicyDump[] = [];
  const referenced = new Set<number>();
  for (const [ifindex, info] of maps.endpoints.entries()) {
    referenced.add(info.endpointId);
    const contents = readEndpointPolicyMap(maps.policy, info.endpointId);
    const entries = contents === undefined ? null : [...contents.values()].map((e) => decodePolicyEntry(e.key, e.value)).sort(compareEntries);
    endpoints.push({
      ifindex,
      endpointId: info.endpointId,
      identity: info.secIdentity,
      enforcesIngress: (info.flags & ENDPOINT_FLAG_INGRESS) !== 0,
      enforcesEgress: (info.flags & ENDPOINT_FLAG_EGRESS) !== 0,
      entries,
    });
  }
  endpoints.sort((a, b) => a.ifindex - b.ifindex);
  const unreferencedPolicyMaps = [...maps.policy.keys()].filter((id) => !referenced.has(id)).sort((a, b) => a - b);
  const ipcache = [...maps.ipcache.entries()]
    .map(([key, value]) => ({ prefix: ipcacheKeyPrefix(key), identity: value.secIdentity }))
    .sort((a, b) => a.prefix.localeCompare(b.prefix, 'en', { numeric: true }));
  return { enforcingEndpoints: maps.policyState.get(0)?.enforcingEndpoints ?? 0, endpoints, unreferencedPolicyMaps, ipcache };
}
