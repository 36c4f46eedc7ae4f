// What the load-balancing operations remember between calls: per address,
// the map entries it holds (what was written, or found in the pinned maps
// at start, packed into numbers), and per backend address its ID, reference
// count and the revision last written. Every field describes the maps as they are, so
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
  numberToIPv4,
  protocolOf,
  SCOPE_EXTERNAL,
  SCOPE_INTERNAL,
} from './lb-maps.js';

/** The Maglev table is in the map but its content is unknown (restored): compare before writing. */
export const MAGLEV_RESTORED = '<restored>';

/**
 * Map values are remembered packed into numbers (an address's state is a
 * few numbers, not a handful of objects): UNKNOWN means "not in the map, or
 * not known to be exactly what we would write", so the next write happens.
 */
export const UNKNOWN = -1;

/** count, qcount and the 16 flag bits of a services-map value (48 bits). */
export function packCounts(v: Lb4Service): number {
  return v.count + v.qcount * 0x10000 + (v.flags | (v.flags2 << 8)) * 0x100000000;
}

/** A slot (count and qcount 0): backend ID and flags (48 bits); UNKNOWN for anything else. */
export function packSlot(v: Lb4Service, id: number): number {
  if (v.count !== 0 || v.qcount !== 0 || v.revNatIndex !== id) return UNKNOWN;
  return v.backendId + (v.flags | (v.flags2 << 8)) * 0x100000000;
}

/** port, protocol and state of a backend value (cluster, zone and padding must be 0); UNKNOWN otherwise. */
export function packBackendRest(v: Lb4Backend): number {
  if (v.clusterId !== 0 || v.zone !== 0 || (v.pad ?? 0) !== 0) return UNKNOWN;
  return v.port + v.proto * 0x10000 + v.flags * 0x1000000;
}

/** A backend address's entry in the backends map. */
export interface BackendState {
  /** The backend address key (l3n4AddrKeyString). */
  readonly key: string;
  readonly address: L3n4Addr;
  readonly id: number;
  /** The address as the codecs take it. */
  readonly ip: number;
  /** How many frontend states reference it. At 0 the entry and ID are released. */
  refCount: number;
  /** The backends-table revision last written; -1 when none this run. */
  revision: number;
  /** The map's value, packed (address, packBackendRest); UNKNOWN when not in the map or not known. */
  valueIp: number;
  valueRest: number;
}

/** The entries of one frontend address: master, slots, rev-NAT, source ranges, affinity, Maglev. */
export interface FrontendState {
  /** The address key (l3n4AddrKeyString). */
  readonly key: string;
  readonly address: L3n4Addr;
  /** The services-map key fields. */
  readonly ip: number;
  readonly proto: number;
  readonly scope: number;
  /** Service ID = reverse-NAT index. */
  readonly id: number;
  /** For a NodePort expansion: the surrogate frontend that owns it. */
  readonly owner: FrontendState | undefined;
  /** The master entry: its first word and packCounts, or UNKNOWN. */
  masterWord: number;
  masterCounts: number;
  /** slots[i] holds slot i + 1 (packSlot, or UNKNOWN); the length is the number of slots that may be in the map. */
  slots: number[];
  /** The rev-NAT entry is in the map with this address. */
  revNat: boolean;
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

/** The services-map key of an address state and slot. */
export function serviceKeyOf(st: FrontendState, slot: number): Lb4Key {
  return { address: st.ip, dport: st.address.port, backendSlot: slot, proto: st.proto, scope: st.scope };
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

/** The IPv4 address of an address key (bytes 12-15 of the v4-mapped form) as the codecs take it. */
export function ipv4OfKey(key: string): number {
  return ((key.charCodeAt(12) << 24) | (key.charCodeAt(13) << 16) | (key.charCodeAt(14) << 8) | key.charCodeAt(15)) >>> 0;
}

/** The entries of one address found in the services map at start. */
export interface RestoredService {
  readonly id: number;
  readonly masterWord: number;
  readonly masterCounts: number;
  readonly slots: number[];
}

/** Everything read from the pinned maps at start, consumed as frontends claim it. */
export interface Restored {
  readonly services: Map<string, RestoredService>;
  readonly backends: Map<string, { readonly id: number; readonly valueIp: number; readonly valueRest: number }>;
  readonly revNat: Map<number, Lb4ReverseNat>;
  readonly affinity: Map<number, Set<number>>;
  readonly sourceRanges: Map<number, Map<string, Lb4SrcRangeKey>>;
  readonly maglev: Set<number>;
}

/** Nothing restored. */
export function emptyRestored(): Restored {
  return { services: new Map(), backends: new Map(), revNat: new Map(), affinity: new Map(), sourceRanges: new Map(), maglev: new Set() };
}

/** Reads the maps into a Restored (entries this control plane never writes are left for prune). */
export function readRestored(maps: LBMaps): Restored {
  const r = emptyRestored();
  const masters: [string, Lb4Service][] = [];
  const slots: [string, Lb4Key, Lb4Service][] = [];
  for (const [key, value] of maps.services.entries()) {
    const addr = addressOfServiceKey(key);
    if (addr === undefined || value.revNatIndex === 0) continue;
    if (key.backendSlot === 0) masters.push([l3n4AddrKeyString(addr), value]);
    else slots.push([l3n4AddrKeyString(addr), key, value]);
  }
  // The master names the address's ID; slots of an address without one are left for prune.
  for (const [k, v] of masters) r.services.set(k, { id: v.revNatIndex, masterWord: v.backendId, masterCounts: packCounts(v), slots: [] });
  for (const [k, key, v] of slots) {
    const s = r.services.get(k);
    if (s === undefined) continue;
    while (s.slots.length < key.backendSlot) s.slots.push(UNKNOWN);
    s.slots[key.backendSlot - 1] = packSlot(v, s.id);
  }
  for (const [id, value] of maps.backends.entries()) {
    const address = addressOfBackend(value);
    if (address === undefined || id === 0) continue;
    const k = l3n4AddrKeyString(address);
    if (!r.backends.has(k)) r.backends.set(k, { id, valueIp: value.address, valueRest: packBackendRest(value) });
  }
  for (const [id, value] of maps.revNat.entries()) r.revNat.set(id, value);
  for (const [key] of maps.affinityMatch.entries()) {
    let set = r.affinity.get(key.revNatId);
    if (set === undefined) r.affinity.set(key.revNatId, (set = new Set()));
    set.add(key.backendId);
  }
  for (const [key] of maps.sourceRange.entries()) {
    let m = r.sourceRanges.get(key.revNatId);
    if (m === undefined) r.sourceRanges.set(key.revNatId, (m = new Map<string, Lb4SrcRangeKey>()));
    m.set(sourceRangeCIDR(key), key);
  }
  for (const id of maps.maglev.ids()) r.maglev.add(id);
  return r;
}

/** `10.0.0.0/8` for a source-range key (prefix length minus the 32 bits of rev-NAT ID and padding). */
export function sourceRangeCIDR(key: Lb4SrcRangeKey): string {
  return `${numberToIPv4(key.addr)}/${key.prefixlen - 32}`;
}
