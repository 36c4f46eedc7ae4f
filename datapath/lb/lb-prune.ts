// Prune (reference §4.4): the maps against what the operations hold. What
// no desired frontend explains is deleted (keys collected first, then
// deleted, in batches where the map supports them); what the operations believe is in a map but is not, or differs,
// is forgotten, so the next update or refresh writes it again.
import { l3n4AddrKeyString, type Frontend } from '../../tables/index.js';
import { errorMessage } from '../../reconcilers/index.js';
import type { Lb4Key, Lb4SrcRangeKey, LbAffinityMatch } from './lb-maps.js';
import type { LBMapState } from './lb-map-state.js';
import {
  addressOfServiceKey,
  emptyRestored,
  packBackendRest,
  packCounts,
  packSlot,
  sourceRangeCIDR,
  UNKNOWN,
  type BackendState,
  type FrontendState,
} from './lb-state.js';

/** See LBOperations.prune. Throws AggregateError of the failed operations after attempting all. */
export function pruneMaps(s: LBMapState, desired: Iterable<Frontend>): void {
  const errors: unknown[] = [];
  const attempt = (fn: () => void) => {
    try {
      fn();
    } catch (err) {
      errors.push(err);
    }
  };
  const wanted = new Set<string>();
  for (const fe of desired) wanted.add(l3n4AddrKeyString(fe.address));
  for (const st of [...s.byAddress.values()]) {
    if (st.owner === undefined && !wanted.has(st.key)) attempt(() => s.deleteState(st));
  }
  // Reservations from the maps at start that no frontend claimed.
  s.serviceIds.forgetRestored();
  s.backendIds.forgetRestored();
  s.restored = emptyRestored();
  for (const bs of [...s.backends.values()]) if (bs.refCount === 0) attempt(() => s.releaseBackend(bs));

  pruneServices(s, attempt);
  pruneBackends(s, attempt);
  pruneByServiceId(s, attempt);
  if (errors.length > 0) {
    throw new AggregateError(errors, `prune: ${errors.length} map operation(s) failed, first: ${errorMessage(errors[0])}`);
  }
}

type Attempt = (fn: () => void) => void;

function pruneServices(s: LBMapState, attempt: Attempt): void {
  const stale: Lb4Key[] = [];
  const seen = new Set<FrontendState>();
  const seenSlots = new Map<FrontendState, Set<number>>();
  for (const [key, value] of s.maps.services.entries()) {
    const addr = addressOfServiceKey(key);
    const st = addr === undefined ? undefined : s.byAddress.get(l3n4AddrKeyString(addr));
    if (st === undefined || key.backendSlot > st.slots.length) {
      stale.push(key);
    } else if (key.backendSlot === 0) {
      seen.add(st);
      // A master that differs from what the state says is rewritten by the next update (or refresh).
      if (st.masterWord !== value.backendId || st.masterCounts !== packCounts(value) || value.revNatIndex !== st.id) st.masterWord = UNKNOWN;
    } else {
      let slots = seenSlots.get(st);
      if (slots === undefined) seenSlots.set(st, (slots = new Set()));
      slots.add(key.backendSlot);
      if (st.slots[key.backendSlot - 1] !== packSlot(value, st.id)) st.slots[key.backendSlot - 1] = UNKNOWN;
    }
  }
  attempt(() => s.maps.services.deleteMany(stale));
  for (const st of s.byAddress.values()) {
    if (!seen.has(st)) st.masterWord = UNKNOWN;
    const slots = seenSlots.get(st);
    for (let i = 0; i < st.slots.length; i++) if (!slots?.has(i + 1)) st.slots[i] = UNKNOWN;
  }
}

function pruneBackends(s: LBMapState, attempt: Attempt): void {
  const stale: number[] = [];
  const seen = new Set<number>();
  for (const [id, value] of s.maps.backends.entries()) {
    const key = s.backendIds.keyOf(id);
    const bs = key === undefined ? undefined : s.backends.get(key);
    if (bs === undefined || bs.id !== id) {
      stale.push(id);
      continue;
    }
    seen.add(id);
    if (bs.valueIp !== value.address || bs.valueRest !== packBackendRest(value)) forgetBackend(bs);
  }
  attempt(() => s.maps.backends.deleteMany(stale));
  for (const bs of s.backends.values()) if (!seen.has(bs.id)) forgetBackend(bs);
}

function forgetBackend(bs: BackendState): void {
  bs.valueIp = UNKNOWN;
  bs.valueRest = UNKNOWN;
  bs.revision = -1;
}

/** Rev-NAT, source ranges, affinity matches and Maglev tables: keyed by service ID. */
function pruneByServiceId(s: LBMapState, attempt: Attempt): void {
  const revNatSeen = new Set<number>();
  const staleRevNat: number[] = [];
  for (const [id, value] of s.maps.revNat.entries()) {
    const st = s.byId.get(id);
    if (st === undefined) staleRevNat.push(id);
    else {
      revNatSeen.add(id);
      if (value.address !== st.ip || value.port !== st.address.port) st.revNat = false;
    }
  }
  attempt(() => s.maps.revNat.deleteMany(staleRevNat));

  const staleRanges: Lb4SrcRangeKey[] = [];
  const rangesSeen = new Set<string>();
  for (const [key] of s.maps.sourceRange.entries()) {
    const cidr = sourceRangeCIDR(key);
    if (s.byId.get(key.revNatId)?.sourceRanges?.has(cidr) !== true) staleRanges.push(key);
    else rangesSeen.add(`${key.revNatId} ${cidr}`);
  }
  attempt(() => s.maps.sourceRange.deleteMany(staleRanges));

  const staleAffinity: LbAffinityMatch[] = [];
  const affinitySeen = new Set<string>();
  for (const [key] of s.maps.affinityMatch.entries()) {
    if (s.byId.get(key.revNatId)?.affinity?.has(key.backendId) !== true) staleAffinity.push(key);
    else affinitySeen.add(`${key.revNatId} ${key.backendId}`);
  }
  attempt(() => s.maps.affinityMatch.deleteMany(staleAffinity));

  const maglevSeen = new Set<number>();
  for (const id of s.maps.maglev.ids()) {
    if (s.byId.get(id)?.maglev === undefined) attempt(() => s.maps.maglev.delete(id));
    else maglevSeen.add(id);
  }

  // What a state holds but the maps do not: forget it, so the next update writes it.
  for (const st of s.byAddress.values()) {
    if (!revNatSeen.has(st.id)) st.revNat = false;
    if (st.maglev !== undefined && !maglevSeen.has(st.id)) st.maglev = undefined;
    if (st.sourceRanges !== undefined) for (const cidr of [...st.sourceRanges.keys()]) if (!rangesSeen.has(`${st.id} ${cidr}`)) st.sourceRanges.delete(cidr);
    if (st.affinity !== undefined) for (const id of [...st.affinity]) if (!affinitySeen.has(`${st.id} ${id}`)) st.affinity.delete(id);
  }
}
