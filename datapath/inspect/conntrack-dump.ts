// flg_ct4 decoded for `flagella ct list`: one entry per tracked flow side,
// named as bpf/include/flagella/maps.h defines them. Pure over the map's
// entries, apart from reading the monotonic clock for ages.
import type { TypedMap } from '../kernel/index.js';
import { numberToIPv4, protocolOf } from '../lb/lb-maps.js';
import type { Ct4Entry, Ct4Key } from '../maps/layouts.generated.js';

/** ct4_key.flags (FLG_CT_KEY_*). */
const KEY_KINDS = [
  [1 << 0, 'service'],
  [1 << 1, 'reply'],
  [1 << 2, 'egress'],
  [1 << 3, 'ingress'],
] as const;

/** ct4_entry.flags (FLG_CT_F_*). */
const ENTRY_FLAGS = [
  [1 << 0, 'seen-reply'],
  [1 << 1, 'closing'],
  [1 << 8, 'policy-enforced'],
] as const;

/** ct4_entry.policy_match (FLG_POLICY_MATCH_*). */
const POLICY_MATCHES = ['none', 'l3-only', 'l3-proto', 'l3-l4', 'all', 'proto-only', 'l4-only'] as const;


/** One flg_ct4 entry, decoded. Addresses and ports are those of the packets the key matches. */
export interface ConntrackEntry {
  /** What the entry tracks; several kinds when several key flags are set, "unknown" for none. */
  readonly kind: string;
  readonly protocol: string;
  readonly source: string;
  readonly sourcePort: number;
  readonly destination: string;
  readonly destinationPort: number;
  /** service/reply: the backend chosen and the service (rev-NAT index); 0 otherwise. */
  readonly backendId: number;
  readonly revNatIndex: number;
  /** egress/ingress: the other side's security identity and which policy entry let the flow in. */
  readonly peerIdentity: number;
  readonly policyMatch: string;
  readonly flags: readonly string[];
  /** Seconds until the entry expires (negative: expired, not yet evicted). */
  readonly expiresIn: number;
  /** Seconds since the entry was created. */
  readonly age: number;
}

/** CLOCK_MONOTONIC in whole seconds, the clock of the datapath's lifetimes. */
export function monotonicSeconds(): number {
  return Number(process.hrtime.bigint() / 1_000_000_000n);
}

function names(bits: number, table: readonly (readonly [number, string])[]): string[] {
  const out: string[] = table.filter(([bit]) => (bits & bit) !== 0).map(([, name]) => name);
  const known = table.reduce((m, [bit]) => m | bit, 0);
  const rest = bits & ~known;
  if (rest !== 0) out.push(`0x${rest.toString(16)}`);
  return out;
}

/** One entry decoded; `now` is monotonicSeconds() (given, so a dump uses one instant). */
export function decodeConntrack(key: Ct4Key, value: Ct4Entry, now: number): ConntrackEntry {
  const kinds = names(key.flags, KEY_KINDS);
  return {
    kind: kinds.length === 0 ? 'unknown' : kinds.join('+'),
    protocol: protocolOf(key.proto) ?? `PROTO(${key.proto})`,
    source: numberToIPv4(key.saddr),
    sourcePort: key.sport,
    destination: numberToIPv4(key.daddr),
    destinationPort: key.dport,
    backendId: value.backendId,
    revNatIndex: value.revNatIndex,
    peerIdentity: value.peerIdentity,
    policyMatch: POLICY_MATCHES[value.policyMatch] ?? `match(${value.policyMatch})`,
    flags: names(value.flags, ENTRY_FLAGS),
    expiresIn: value.lifetime - now,
    age: now - value.created,
  };
}

const KIND_ORDER: Record<string, number> = { service: 0, reply: 1, egress: 2, ingress: 3 };

/**
 * Every entry of flg_ct4, decoded, sorted by kind, then source, destination
 * and ports. Reads the map once (entries may come and go meanwhile: an LRU
 * map changes under traffic). Throws BpfError.
 */
export function dumpConntrack(ct4: TypedMap<Ct4Key, Ct4Entry>, now = monotonicSeconds()): ConntrackEntry[] {
  const out: ConntrackEntry[] = [];
  for (const [key, value] of ct4.entries()) out.push(decodeConntrack(key, value, now));
  const ipKey = (ip: string) => ip.split('.').map((o) => o.padStart(3, '0')).join('.');
  return out.sort(
    (a, b) =>
      (KIND_ORDER[a.kind] ?? 9) - (KIND_ORDER[b.kind] ?? 9) ||
      ipKey(a.source).localeCompare(ipKey(b.source)) ||
      ipKey(a.destination).localeCompare(ipKey(b.destination)) ||
      a.sourcePort - b.sourcePort ||
      a.destinationPort - b.destinationPort ||
      a.protocol.localeCompare(b.protocol),
  );
}
