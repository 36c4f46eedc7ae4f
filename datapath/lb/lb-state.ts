// What the load-balancing operations remember between calls: per address,
// the map entries it holds (what was written, or found in the pinned maps
// at start), and per backend address its ID, reference count and the
// revision last written. Every field describes the maps as they are, so
// a retry after a partial failure resumes exactly where the last attempt
// stopped, and nothing is written twice.
import { l3n4AddrKeyString, type L3n4Addr } from '../../tables/index.js';
import {
  type Lb4Backend,
  type Lb4Key,
  type Lb4ReverseNat,
  type Lb4Service,
  type Lb4SrcRangeKey,
  type LBMaps,
  ipv4ToNumber,
  numberToIPv4,
  PROTOCOL_NUMBER,
  protocolOf,
  SCOPE_EXTERNAL,
  SCOPE_INTERNAL,
} from './lb-maps.js';

/** The Maglev table is in the map but its content is unknown (restored): compare before writing. */
export const MAGLEV_RESTORED = '<restored>';

/** A backend address's entry in the backends map. */
export interface BackendState {
  /** The backend address key (l3n4AddrKeyString). */
  readonly key: string;
  readonly address: L3n4Addr;
  readonly id: number;
  /** How many frontend states reference it. At 0 the entry and ID are released. */
  refCount: number;
  /** The backends-table revision last written; -1 when none this run. */
  revision: number;
  /** The map's value (written or restored); undefined when not in the map. */
  value: Lb4Backend | undefined;
}

/** The entries of one frontend address: master, slots, rev-NAT, source ranges, affinity, Maglev. */
export interface FrontendState {
  /** The address key (l3n4AddrKeyString). */
  readonly key: string;
  readonly address: L3n4Addr;
  /** The services-map key with slot 0. */
  readonly mapKey: Lb4Key;
  /** Service ID = reverse-NAT index. */
  readonly id: number;
  /** For a NodePort expansion: the surrogate frontend that owns it. */
  readonly owner: FrontendState | undefined;
  master: Lb4Service | undefined;
  /** slots[i] holds slot i + 1; the length is the number of slots that may be in the map. */
  slots: (Lb4Service | undefined)[];
  revNat: Lb4ReverseNat | undefined;
  /** Source-range keys in the map, by CIDR text. */
  sourceRanges: Map<string, Lb4SrcRangeKey> | undefined;
  /** Backend IDs with an affinity-match entry for this service. */
  affinity: Set<number> | undefined;
  /** Fingerprint of the Maglev table in the map, MAGLEV_RESTORED, or undefined for none. */
  maglev: string | undefined;
  /** Backends this address references (each counted once in its refCount). */
  backends: BackendState[];
  /** Surrogates only: expansions by address key. */
  expansions: Map<string, FrontendState> | undefined;
}

/** A services-map key as an L3n4Addr, or undefined for entries this control plane never writes (wildcards, IPv6...). */
export function addressOfServiceKey(key: Lb4Key): L3n4Addr | undefined {
  const protocol = protocolOf(key.proto);
  if (protocol === undefined || protocol === 'ANY' || key.dport === 0) return undefined;
  if (key.scope !== SCOPE_EXTERNAL && key.scope !== SCOPE_INTERNAL) return undefined;
  return { ip: numberToIPv4(key.address), port: key.dport, protocol, scope: key.scope === SCOPE_INTERNAL ? 'internal' : 'external' };
}

/** A backend value's address (always external scope), or undefined for an unknown protocol. */
export function addressOfBackend(value: Lb4Backend): L3n4Addr | undefined {
  const protocol = protocolOf(value.proto);
  if (protocol === undefined) return undefined;
  return { ip: numberToIPv4(value.address), port: value.port, protocol, scope: 'external' };
}

/** The services-map key (slot 0) of an IPv4 address. */
export function serviceMapKey(addr: L3n4Addr): Lb4Key {
  return {
    address: ipv4ToNumber(addr.ip),
    dport: addr.port,
    backendSlot: 0,
    proto: PROTOCOL_NUMBER[addr.protocol],
    scope: addr.scope === 'internal' ? SCOPE_INTERNAL : SCOPE_EXTERNAL,
  };
}

/** The entries of one address found in the services map at start. */
export interface RestoredService {
  readonly id: number;
  readonly master: Lb4Service | undefined;
  readonly slots: (Lb4Service | undefined)[];
}

/** Everything read from the pinned maps at start, consumed as frontends claim it. */
export interface Restored {
  readonly services: Map<string, RestoredService>;
  readonly backends: Map<string, { readonly id: number; readonly value: Lb4Backend; readonly address: L3n4Addr }>;
  readonly revNat: Map<number, Lb4ReverseNat>;
  readonly affinity: Map<number, Set<number>>;
  readonly sourceRanges: Map<number, Map<string, Lb4SrcRangeKey>>;
  readonly maglev: Set<number>;
}

/** Reads the maps into a Restored (entries this control plane never writes are left for prune). */
export function readRestored(maps: LBMaps): Restored {
  const services = new Map<string, { id: number; master: Lb4Service | undefined; slots: (Lb4Service | undefined)[] }>();
  for (const [key, value] of maps.services.entries()) {
    const addr = addressOfServiceKey(key);
    if (addr === undefined || value.revNatIndex === 0) continue;
    const k = l3n4AddrKeyString(addr);
    let s = services.get(k);
    if (s === undefined) services.set(k, (s = { id: value.revNatIndex, master: undefined, slots: [] }));
    if (key.backendSlot === 0) {
      s.master = value;
      s.id = value.revNatIndex;
    } else {
      s.slots[key.backendSlot - 1] = value;
    }
  }
  const backends = new Map<string, { id: number; value: Lb4Backend; address: L3n4Addr }>();
  for (const [id, value] of maps.backends.entries()) {
    const address = addressOfBackend(value);
    if (address === undefined || id === 0) continue;
    const k = l3n4AddrKeyString(address);
    if (!backends.has(k)) backends.set(k, { id, value, address });
  }
  const revNat = new Map(maps.revNat.entries());
  const affinity = new Map<number, Set<number>>();
  for (const [key] of maps.affinityMatch.entries()) {
    let set = affinity.get(key.revNatId);
    if (set === undefined) affinity.set(key.revNatId, (set = new Set()));
    set.add(key.backendId);
  }
  const sourceRanges = new Map<number, Map<string, Lb4SrcRangeKey>>();
  for (const [key] of maps.sourceRange.entries()) {
    let m = sourceRanges.get(key.revNatId);
    if (m === undefined) sourceRanges.set(key.revNatId, (m = new Map<string, Lb4SrcRangeKey>()));
    m.set(sourceRangeCIDR(key), key);
  }
  return { services, backends, revNat, affinity, sourceRanges, maglev: new Set(maps.maglev.ids()) };
}

/** `10.0.0.0/8` for a source-range key (prefix length minus the 32 bits of rev-NAT ID and padding). */
export function sourceRangeCIDR(key: Lb4SrcRangeKey): string {
  return `${numberToIPv4(key.addr)}/${key.prefixlen - 32}`;
}
