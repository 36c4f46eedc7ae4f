// The per-endpoint policy maps: flg_policy (HASH_OF_MAPS, endpoint id ->
// inner LPM_TRIE). Making an endpoint's inner map hold a desired set of
// entries, reading it back, removing it.
//
// Two ways to change a map that exists (test/bench/policy-datapath.bench.ts
// measures both):
//   'swap' builds a fresh inner map with the whole set and replaces the
//          outer entry in one update: packets see the old set or the new,
//          never a mix; cost grows with the whole set.
//   'diff' writes the new and changed keys, then deletes the stale ones, in
//          the live map: cost grows with the change only, but for a moment
//          packets see the new entries beside the old ones.
// 'swap' is the default: policy changes are rare next to packets, and an
// atomic switch is the property worth paying for (the numbers show the
// price is small at typical sizes). Either way an unchanged set writes
// nothing.
import { BpfMap, TypedMap, type MapSpec } from '../kernel/index.js';
import { flgPolicySpec, PolicyEntryCodec, PolicyKeyCodec, type PolicyEntry as PolicyMapValue, type PolicyKey } from '../maps/layouts.generated.js';
import { POLICY_MAP_MAX_ENTRIES, policyKeyText, samePolicyValue, type PolicyMapEntry } from './policy-map-entries.js';

export type PolicyMapUpdateMode = 'swap' | 'diff';

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

/**
 * Makes the endpoint's policy map hold exactly `desired` (from
 * policyMapEntries), creating the map if the endpoint has none. Idempotent:
 * a map already equal is left alone. Throws PolicyMapFullError (nothing
 * written) or BpfError; after a BpfError in 'diff' mode the map may hold
 * part of the change, and calling again completes it.
 */
export function syncEndpointPolicyMap(
  policy: TypedMap<number, number>,
  endpointId: number,
  desired: ReadonlyMap<string, PolicyMapEntry>,
  mode: PolicyMapUpdateMode = 'swap',
): PolicyMapSyncResult {
  if (desired.size > POLICY_MAP_MAX_ENTRIES) throw new PolicyMapFullError(endpointId, desired.size);
  const inner = openInner(policy, endpointId);
  if (inner === undefined) {
    installFresh(policy, endpointId, desired);
    return { changed: true, written: desired.size, removed: 0, applied: 'swap' };
  }
  try {
    const current = readAll(inner);
    const writes: PolicyMapEntry[] = [];
    for (const [text, entry] of desired) {
      const have = current.get(text);
      if (have === undefined || !samePolicyValue(have.value, entry.value)) writes.push(entry);
    }
    const stale = [...current.keys()].filter((text) => !desired.has(text));
    if (writes.length === 0 && stale.length === 0) return { changed: false, written: 0, removed: 0, applied: 'none' };
    if (mode === 'swap') {
      installFresh(policy, endpointId, desired);
    } else {
      for (const { key, value } of writes) inner.put(key, value);
      for (const text of stale) inner.delete(current.get(text)!.key, { idempotent: true });
    }
    return { changed: true, written: writes.length, removed: stale.length, applied: mode };
  } finally {
    inner.close();
  }
}

/** Builds a new inner map holding `entries` and swaps it in with one outer update. */
function installFresh(policy: TypedMap<number, number>, endpointId: number, entries: ReadonlyMap<string, PolicyMapEntry>): void {
  const fresh = TypedMap.create(innerSpec, { name: `flg_pol_${endpointId}`.slice(0, 15) });
  try {
    for (const { key, value } of entries.values()) fresh.put(key, value);
    policy.map.setInnerMap(outerKey(endpointId), fresh.map);
  } finally {
    fresh.close();
  }
}

/** Removes an endpoint's policy map. Idempotent: true when there was one. Throws BpfError. */
export function deleteEndpointPolicyMap(policy: TypedMap<number, number>, endpointId: number): boolean {
  return policy.delete(endpointId, { idempotent: true });
}
