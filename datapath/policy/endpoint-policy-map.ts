// The per-endpoint policy maps: flg_policy (HASH_OF_MAPS, endpoint id ->
// inner LPM_TRIE). Making an endpoint's inner map hold a desired set of
// entries, reading it back, installing and removing maps.
//
// Two ways to change a map that exists (test/bench/policy-datapath.bench.ts
// measures both):
//   'diff' writes the new and changed keys into the live map, then deletes
//          the stale ones. Cost follows the change. While it runs, packets
//          see the old entries beside the new ones: never a denial of what
//          both versions allow, at worst a moment of what only the old one
//          allowed.
//   'swap' builds a fresh inner map with the whole set and replaces the
//          outer entry: packets see the old set or the new, never a mix.
//          But every syscall that replaces or deletes an outer entry waits
//          for an RCU grace period (the kernel makes sure no program still
//          uses the old inner map): ~10 ms each on our VMs, whatever the size.
// 'diff' is the default: a policy change touching hundreds of endpoints
// would otherwise wait out hundreds of grace periods. New maps (and
// removals) are installed in batches, one grace period per batch.
import { BpfMap, TypedMap, type MapSpec } from '../kernel/index.js';
import { flgPolicySpec, PolicyEntryCodec, PolicyKeyCodec, type PolicyEntry as PolicyMapValue, type PolicyKey } from '../maps/layouts.generated.js';
import { POLICY_MAP_MAX_ENTRIES, policyKeyText, samePolicyValue, type PolicyMapEntry } from './policy-map-entries.js';

export type PolicyMapUpdateMode = 'swap' | 'diff';

/** The contents of one policy map, by policyKeyText. */
export type PolicyMapContents = ReadonlyMap<string, PolicyMapEntry>;

export interface PolicyMapSyncResult {
  /** False when the map already held exactly the desired entries (nothing written). */
  readonly changed: boolean;
  /** Keys written (new or with a changed value) and keys removed. */
  readonly written: number;
  readonly removed: number;
  /** How the change was applied: a new map (also the first time) or in place. */
  readonly applied: 'none' | 'swap' | 'diff';
}

/** A desired set that does not fit an inner map. */
export class PolicyMapFullError extends Error {
  override readonly name = 'PolicyMapFullError';
  constructor(
    readonly endpointId: number,
    readonly entries: number,
  ) {
    super(`policy of endpoint ${endpointId} needs ${entries} map entries, more than the ${POLICY_MAP_MAX_ENTRIES} an endpoint's policy map holds`);
  }
}

const innerSpec = flgPolicySpec.inner as MapSpec<PolicyKey, PolicyMapValue>;

function outerKey(endpointId: number): Buffer {
  const key = Buffer.alloc(flgPolicySpec.keySize);
  flgPolicySpec.key.encode(endpointId, key, 0);
  return key;
}

function openInner(policy: TypedMap<number, number>, endpointId: number): TypedMap<PolicyKey, PolicyMapValue> | undefined {
  const id = policy.map.innerMapId(outerKey(endpointId));
  if (id === undefined) return undefined;
  return new TypedMap(BpfMap.fromId(id), PolicyKeyCodec, PolicyEntryCodec);
}

function readAll(inner: TypedMap<PolicyKey, PolicyMapValue>): Map<string, PolicyMapEntry> {
  const out = new Map<string, PolicyMapEntry>();
  for (const [key, value] of inner.entries()) out.set(policyKeyText(key), { key, value });
  return out;
}

/** True when the endpoint has a policy map. Throws BpfError. */
export function hasEndpointPolicyMap(policy: TypedMap<number, number>, endpointId: number): boolean {
  return policy.map.innerMapId(outerKey(endpointId)) !== undefined;
}

/** The entries of an endpoint's policy map, or undefined when it has none. Throws BpfError. */
export function readEndpointPolicyMap(policy: TypedMap<number, number>, endpointId: number): Map<string, PolicyMapEntry> | undefined {
  const inner = openInner(policy, endpointId);
  if (inner === undefined) return undefined;
  try {
    return readAll(inner);
  } finally {
    inner.close();
  }
}

/** Endpoint ids that have a policy map. */
export function endpointPolicyMapIds(policy: TypedMap<number, number>): number[] {
  return [...policy.keys()];
}

/** What turns `current` into `desired`: entries to write (new or changed) and keys to remove. Pure. */
export function planPolicyMapChange(current: PolicyMapContents, desired: PolicyMapContents): { writes: PolicyMapEntry[]; stale: PolicyMapEntry[] } {
  const writes: PolicyMapEntry[] = [];
  for (const [text, entry] of desired) {
    const have = current.get(text);
    if (have === undefined || !samePolicyValue(have.value, entry.value)) writes.push(entry);
  }
  const stale: PolicyMapEntry[] = [];
  for (const [text, entry] of current) if (!desired.has(text)) stale.push(entry);
  return { writes, stale };
}

/**
 * Makes the endpoint's policy map hold exactly `desired` (from
 * policyMapEntries), creating the map if the endpoint has none. `known` is
 * what the caller last wrote there: given, the live map is not read back
 * (pass undefined to verify against the kernel). Idempotent: a map already
 * equal is left alone. Throws PolicyMapFullError (nothing written) or
 * BpfError; after a BpfError in 'diff' mode the map may hold part of the
 * change, and calling again (without `known`) completes it.
 */
export function syncEndpointPolicyMap(
  policy: TypedMap<number, number>,
  endpointId: number,
  desired: PolicyMapContents,
  mode: PolicyMapUpdateMode = 'diff',
  known?: PolicyMapContents,
): PolicyMapSyncResult {
  if (desired.size > POLICY_MAP_MAX_ENTRIES) throw new PolicyMapFullError(endpointId, desired.size);
  const inner = openInner(policy, endpointId);
  if (inner === undefined) {
    installPolicyMaps(policy, [[endpointId, desired]]);
    return { changed: true, written: desired.size, removed: 0, applied: 'swap' };
  }
  try {
    const { writes, stale } = planPolicyMapChange(known ?? readAll(inner), desired);
    if (writes.length === 0 && stale.length === 0) return { changed: false, written: 0, removed: 0, applied: 'none' };
    if (mode === 'swap') {
      installPolicyMaps(policy, [[endpointId, desired]]);
    } else {
      for (const { key, value } of writes) inner.put(key, value);
      for (const { key } of stale) inner.delete(key, { idempotent: true });
    }
    return { changed: true, written: writes.length, removed: stale.length, applied: mode };
  } finally {
    inner.close();
  }
}

/**
 * Builds a fresh inner map per endpoint and swaps them all in with one
 * batch update of the outer map (one RCU grace period for the lot).
 * Throws PolicyMapFullError before anything is written, or BpfError (some
 * endpoints of the batch may then be installed; installing again is safe).
 */
export function installPolicyMaps(policy: TypedMap<number, number>, maps: readonly (readonly [number, PolicyMapContents])[]): void {
  for (const [endpointId, entries] of maps) if (entries.size > POLICY_MAP_MAX_ENTRIES) throw new PolicyMapFullError(endpointId, entries.size);
  const fresh: TypedMap<PolicyKey, PolicyMapValue>[] = [];
  try {
    for (const [endpointId, entries] of maps) {
      const inner = TypedMap.create(innerSpec, { name: `flg_pol_${endpointId}`.slice(0, 15) });
      fresh.push(inner);
      for (const { key, value } of entries.values()) inner.put(key, value);
    }
    if (fresh.length === 1) policy.map.setInnerMap(outerKey(maps[0]![0]), fresh[0]!.map);
    else if (fresh.length > 1) policy.putBatch(maps.map(([endpointId], i) => [endpointId, fresh[i]!.map.fd] as const));
  } finally {
    for (const inner of fresh) inner.close();
  }
}

/** Removes an endpoint's policy map. Idempotent: true when there was one. Throws BpfError. */
export function deleteEndpointPolicyMap(policy: TypedMap<number, number>, endpointId: number): boolean {
  return policy.delete(endpointId, { idempotent: true });
}

/** Removes several endpoints' policy maps in one batch (one RCU grace period). Idempotent. Throws BpfError. */
export function deleteEndpointPolicyMaps(policy: TypedMap<number, number>, endpointIds: readonly number[]): number {
  if (endpointIds.length === 0) return 0;
  if (endpointIds.length === 1) return deleteEndpointPolicyMap(policy, endpointIds[0]!) ? 1 : 0;
  return policy.deleteBatch(endpointIds, { idempotent: true });
}
