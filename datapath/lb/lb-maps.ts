// The load-balancing maps as the reconciler operations see them: typed
// keys and values (the layouts generated from the datapath's BTF), one
// small interface that the kernel maps, the in-memory maps and the
// fault-injecting and counting wrappers all implement.
import type { L4Protocol } from '../../tables/index.js';
import type { Lb4Backend, Lb4Key, Lb4ReverseNat, Lb4Service, Lb4SrcRangeKey, LbAffinityMatch } from '../maps/layouts.generated.js';

export type { Lb4Backend, Lb4Key, Lb4ReverseNat, Lb4Service, Lb4SrcRangeKey, LbAffinityMatch };

/** One map. Every method is synchronous; failures throw (BpfError for the kernel). */
export interface LBMap<K, V> {
  /** The map's name, for errors and counters. */
  readonly name: string;
  get(key: K): V | undefined;
  /** Inserts or replaces. */
  put(key: K, value: V): void;
  /** Deletes key; deleting a missing key succeeds and returns false. */
  delete(key: K): boolean;
  /** Deletes many keys (batched where the map supports it); missing keys are skipped. Throws on the first failure. */
  deleteMany(keys: readonly K[]): void;
  /** Every entry, read before returning (safe to delete while iterating the result). */
  entries(): [K, V][];
}

/** Maglev lookup tables: rev-NAT index (host order) -> M backend IDs. */
export interface MaglevMap {
  readonly name: string;
  /** The table size M every table has. */
  readonly tableSize: number;
  get(revNatIndex: number): Uint32Array | undefined;
  /** Replaces the service's table atomically (the datapath sees the old or the new one). */
  set(revNatIndex: number, table: Uint32Array): void;
  /** Deleting a missing table succeeds and returns false. */
  delete(revNatIndex: number): boolean;
  /** Rev-NAT indexes that have a table. */
  ids(): number[];
}

/** Every load-balancing map (IPv4: the datapath has no IPv6 maps). */
export interface LBMaps {
  readonly services: LBMap<Lb4Key, Lb4Service>;
  readonly backends: LBMap<number, Lb4Backend>;
  readonly revNat: LBMap<number, Lb4ReverseNat>;
  readonly affinityMatch: LBMap<LbAffinityMatch, number>;
  readonly sourceRange: LBMap<Lb4SrcRangeKey, number>;
  readonly maglev: MaglevMap;
}

/** IPPROTO numbers of the services key and backend value; 0 is the wildcard (ANY). */
export const PROTOCOL_NUMBER: Readonly<Record<L4Protocol, number>> = { TCP: 6, UDP: 17, SCTP: 132, ANY: 0 };

/** The L4Protocol of an IPPROTO number, or undefined for one the datapath never uses. */
export function protocolOf(num: number): L4Protocol | undefined {
  switch (num) {
    case 6:
      return 'TCP';
    case 17:
      return 'UDP';
    case 132:
      return 'SCTP';
    case 0:
      return 'ANY';
    default:
      return undefined;
  }
}

/** Backend states as the datapath's backend flags hold them (BE_STATE_*). */
export const BACKEND_STATE_CODE = { active: 0, terminating: 1, quarantined: 2, maintenance: 3 } as const;
export const BACKEND_STATE_NAMES = ['active', 'terminating', 'quarantined', 'maintenance'] as const;

/** Master-entry algorithm values (upper 8 bits of the first word). */
export const LB_ALGORITHM_CODE = { undef: 0, random: 1, maglev: 2 } as const;
export const LB_ALGORITHM_NAMES = ['undef', 'random', 'maglev'] as const;
export const LB_ALGORITHM_SHIFT = 24;
export const AFFINITY_TIMEOUT_MASK = 0xffffff;

/** Scope byte of the services key. */
export const SCOPE_EXTERNAL = 0;
export const SCOPE_INTERNAL = 1;

/** A canonical IPv4 address as the numeric value the generated codecs take for __be32 fields. */
export function ipv4ToNumber(ip: string): number {
  const p = ip.split('.');
  return ((+p[0]! << 24) | (+p[1]! << 16) | (+p[2]! << 8) | +p[3]!) >>> 0;
}

/** The dotted form of a __be32 field's numeric value. */
export function numberToIPv4(n: number): string {
  return `${n >>> 24}.${(n >>> 16) & 0xff}.${(n >>> 8) & 0xff}.${n & 0xff}`;
}
