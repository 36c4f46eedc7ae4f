// The map entries the operations hold, and the single steps that change
// them. Each step compares before it writes (a write happens only when the
// map's bytes would change) and records the new state only after the map
// operation succeeded, so any step may fail and be retried.
import { l3n4AddrKeyString, type L3n4Addr } from '../../tables/index.js';
import { IDAllocator } from './id-allocator.js';
import {
  type Lb4Backend,
  type Lb4ReverseNat,
  type Lb4Service,
  type Lb4SrcRangeKey,
  type LBMaps,
  sameBackendValue,
  sameRevNat,
  sameService,
} from './lb-maps.js';
import { MAGLEV_RESTORED, readRestored, serviceMapKey, type BackendState, type FrontendState, type Restored } from './lb-state.js';

/** Service IDs (rev-NAT indexes) are u16 without 0 and 0xffff; backend IDs u32 without 0 and 0xffffffff. */
export const SERVICE_ID_LIMIT = 0xffff;
export const BACKEND_ID_LIMIT = 0xffffffff;

export class LBMapState {
  readonly serviceIds = new IDAllocator('service IDs', 1, SERVICE_ID_LIMIT);
  readonly backendIds = new IDAllocator('backend IDs', 1, BACKEND_ID_LIMIT);
  /** Every address with entries (frontends and NodePort expansions), by address key. */
  readonly byAddress = new Map<string, FrontendState>();
  /** The same states by service ID. */
  readonly byId = new Map<number, FrontendState>();
  readonly backends = new Map<string, BackendState>();
  /** What the maps held at start and no frontend has claimed yet. */
  restored: Restored;

  constructor(readonly maps: LBMaps) {
    this.restored = readRestored(maps);
    for (const [key, s] of this.restored.services) this.serviceIds.restore(key, s.id);
    for (const [key, b] of this.restored.backends) this.backendIds.restore(key, b.id);
  }

  /**
   * The state of an address, created (with its ID, and whatever the maps
   * held for it at start) when new. An address held by another owner
   * (an expansion taken over by a LoadBalancer frontend, or the reverse)
   * has its entries deleted first. Throws IDExhaustedError, or a map error
   * from that deletion.
   */
  stateFor(address: L3n4Addr, owner: FrontendState | undefined): FrontendState {
    const key = l3n4AddrKeyString(address);
    const existing = this.byAddress.get(key);
    if (existing !== undefined) {
      if (existing.owner === owner) return existing;
      this.deleteState(existing);
    }
    const id = this.serviceIds.acquire(key);
    const restored = this.restored.services.get(key);
    const st: FrontendState = {
      key,
      address,
      mapKey: serviceMapKey(address),
      id,
      owner,
      master: undefined,
      slots: [],
      revNat: undefined,
      sourceRanges: undefined,
      affinity: undefined,
      maglev: undefined,
      backends: [],
      expansions: undefined,
    };
    if (restored !== undefined && restored.id === id) {
      this.restored.services.delete(key);
      st.master = restored.master;
      st.slots = restored.slots;
      st.revNat = this.restored.revNat.get(id);
      this.restored.revNat.delete(id);
      st.sourceRanges = this.restored.sourceRanges.get(id);
      this.restored.sourceRanges.delete(id);
      st.affinity = this.restored.affinity.get(id);
      this.restored.affinity.delete(id);
      if (this.restored.maglev.delete(id)) st.maglev = MAGLEV_RESTORED;
    }
    this.byAddress.set(key, st);
    this.byId.set(id, st);
    if (owner !== undefined) (owner.expansions ??= new Map()).set(key, st);
    return st;
  }

  /** The state of a backend address, created with its ID (restored or new) and no references. Throws IDExhaustedError. */
  backendFor(address: L3n4Addr): BackendState {
    const key = l3n4AddrKeyString(address);
    let bs = this.backends.get(key);
    if (bs !== undefined) return bs;
    const id = this.backendIds.acquire(key);
    const restored = this.restored.backends.get(key);
    let value: Lb4Backend | undefined;
    if (restored !== undefined && restored.id === id) {
      value = restored.value;
      this.restored.backends.delete(key);
    }
    bs = { key, address, id, refCount: 0, revision: -1, value };
    this.backends.set(key, bs);
    return bs;
  }

  /** Writes the backend entry unless this revision (or a newer one) was written already or the bytes are the same. */
  writeBackend(bs: BackendState, value: Lb4Backend, revision: number): void {
    if (bs.value !== undefined && revision <= bs.revision) return;
    if (!sameBackendValue(bs.value, value)) this.maps.backends.put(bs.id, value);
    bs.value = value;
    bs.revision = revision;
  }

  /** Records that st references bs (after its entry is in the map). */
  reference(st: FrontendState, bs: BackendState): void {
    if (st.backends.includes(bs)) return;
    st.backends.push(bs);
    bs.refCount++;
  }

  /**
   * Drops st's reference to bs: its affinity-match entry goes, and when no
   * other address references bs, its backend entry and ID too.
   */
  unreference(st: FrontendState, bs: BackendState): void {
    if (st.affinity?.has(bs.id)) {
      this.maps.affinityMatch.delete({ backendId: bs.id, revNatId: st.id });
      st.affinity.delete(bs.id);
    }
    if (bs.refCount <= 1) this.releaseBackend(bs);
    const i = st.backends.indexOf(bs);
    if (i >= 0) st.backends.splice(i, 1);
    bs.refCount = Math.max(0, bs.refCount - 1);
  }

  /** Deletes a backend's entry and frees its ID (the caller made sure nothing references it). */
  releaseBackend(bs: BackendState): void {
    if (this.backends.get(bs.key) !== bs) return;
    this.maps.backends.delete(bs.id);
    bs.value = undefined;
    this.backends.delete(bs.key);
    this.backendIds.release(bs.key);
  }

  writeSlot(st: FrontendState, slot: number, value: Lb4Service): void {
    if (sameService(st.slots[slot - 1], value)) return;
    this.maps.services.put({ ...st.mapKey, backendSlot: slot }, value);
    st.slots[slot - 1] = value;
  }

  /** Deletes slots above `count`, highest first. */
  shrinkSlots(st: FrontendState, count: number): void {
    while (st.slots.length > count) {
      this.maps.services.delete({ ...st.mapKey, backendSlot: st.slots.length });
      st.slots.length--;
    }
  }

  writeMaster(st: FrontendState, value: Lb4Service): void {
    if (sameService(st.master, value)) return;
    this.maps.services.put(st.mapKey, value);
    st.master = value;
  }

  writeRevNat(st: FrontendState, value: Lb4ReverseNat): void {
    if (sameRevNat(st.revNat, value)) return;
    this.maps.revNat.put(st.id, value);
    st.revNat = value;
  }

  /** Makes the affinity-match entries of st exactly `backendIds`. */
  setAffinity(st: FrontendState, backendIds: readonly number[]): void {
    for (const id of backendIds) {
      if (st.affinity?.has(id)) continue;
      this.maps.affinityMatch.put({ backendId: id, revNatId: st.id }, 1);
      (st.affinity ??= new Set()).add(id);
    }
    if (st.affinity === undefined || st.affinity.size === backendIds.length) return;
    const keep = new Set(backendIds);
    for (const id of [...st.affinity]) {
      if (keep.has(id)) continue;
      this.maps.affinityMatch.delete({ backendId: id, revNatId: st.id });
      st.affinity.delete(id);
    }
  }

  /** Makes the source-range entries of st exactly `ranges` (CIDR text -> key): new ones first, then the gone ones. */
  setSourceRanges(st: FrontendState, ranges: ReadonlyMap<string, Lb4SrcRangeKey>): void {
    for (const [cidr, key] of ranges) {
      if (st.sourceRanges?.has(cidr)) continue;
      this.maps.sourceRange.put(key, 1);
      (st.sourceRanges ??= new Map()).set(cidr, key);
    }
    if (st.sourceRanges === undefined || st.sourceRanges.size === ranges.size) return;
    for (const [cidr, key] of [...st.sourceRanges]) {
      if (ranges.has(cidr)) continue;
      this.maps.sourceRange.delete(key);
      st.sourceRanges.delete(cidr);
    }
  }

  /**
   * Installs the Maglev table `fingerprint` names, computing it only when
   * the fingerprint changed; a restored table is compared entry by entry
   * first and kept when equal.
   */
  writeMaglev(st: FrontendState, fingerprint: string, compute: () => Uint32Array): void {
    if (st.maglev === fingerprint) return;
    const table = compute();
    if (st.maglev === MAGLEV_RESTORED && sameTable(this.maps.maglev.get(st.id), table)) {
      st.maglev = fingerprint;
      return;
    }
    this.maps.maglev.set(st.id, table);
    st.maglev = fingerprint;
  }

  deleteMaglev(st: FrontendState): void {
    if (st.maglev === undefined) return;
    this.maps.maglev.delete(st.id);
    st.maglev = undefined;
  }

  /**
   * Deletes every entry of an address (master first, so the datapath stops
   * choosing it, then slots, rev-NAT, source ranges, Maglev, affinity and
   * the backends only it referenced), then frees its ID. Expansions of a
   * surrogate go first. Retried after a failure, it continues.
   */
  deleteState(st: FrontendState): void {
    if (st.expansions !== undefined) for (const exp of [...st.expansions.values()]) this.deleteState(exp);
    this.maps.services.delete(st.mapKey);
    st.master = undefined;
    this.shrinkSlots(st, 0);
    this.maps.revNat.delete(st.id);
    st.revNat = undefined;
    this.setSourceRanges(st, EMPTY_RANGES);
    this.deleteMaglev(st);
    this.setAffinity(st, []);
    for (const bs of [...st.backends]) this.unreference(st, bs);
    this.byAddress.delete(st.key);
    this.byId.delete(st.id);
    this.serviceIds.release(st.key);
    st.owner?.expansions?.delete(st.key);
  }
}

const EMPTY_RANGES: ReadonlyMap<string, Lb4SrcRangeKey> = new Map();

function sameTable(a: Uint32Array | undefined, b: Uint32Array): boolean {
  if (a === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
