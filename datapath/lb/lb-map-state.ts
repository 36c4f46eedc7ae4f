// The map entries the operations hold, and the single steps that change
// them. Each step compares before it writes (a write happens only when the
// map's bytes would change) and records the new state only after the map
// operation succeeded, so any step may fail and be retried.
import { l3n4AddrKeyString, type Backend, type L3n4Addr } from '../../tables/index.js';
import { IDAllocator } from './id-allocator.js';
import { BACKEND_STATE_CODE, PROTOCOL_NUMBER, SCOPE_EXTERNAL, SCOPE_INTERNAL, type Lb4SrcRangeKey, type LBMaps } from './lb-maps.js';
import {
  ipv4OfKey,
  MAGLEV_RESTORED,
  readRestored,
  serviceKeyOf,
  UNKNOWN,
  type BackendState,
  type FrontendState,
  type Restored,
} from './lb-state.js';

/** Service IDs (rev-NAT indexes) are u16 without 0 and 0xffff; backend IDs u32 without 0 and 0xffffffff. */
export const SERVICE_ID_LIMIT = 0xffff;
export const BACKEND_ID_LIMIT = 0xffffffff;

const TWO_32 = 0x100000000;

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
    const st: FrontendState = {
      key,
      address,
      ip: ipv4OfKey(key),
      proto: PROTOCOL_NUMBER[address.protocol],
      scope: address.scope === 'internal' ? SCOPE_INTERNAL : SCOPE_EXTERNAL,
      id,
      owner,
      masterWord: UNKNOWN,
      masterCounts: UNKNOWN,
      slots: [],
      revNat: false,
      sourceRanges: undefined,
      affinity: undefined,
      maglev: undefined,
      backends: [],
      expansions: undefined,
    };
    const restored = this.restored.services.get(key);
    if (restored !== undefined && restored.id === id) this.claimRestored(st, restored.masterWord, restored.masterCounts, restored.slots);
    this.byAddress.set(key, st);
    this.byId.set(id, st);
    if (owner !== undefined) (owner.expansions ??= new Map()).set(key, st);
    return st;
  }

  /** Takes over what the maps held at start for st's address and ID. */
  private claimRestored(st: FrontendState, masterWord: number, masterCounts: number, slots: number[]): void {
    const r = this.restored;
    r.services.delete(st.key);
    st.masterWord = masterWord;
    st.masterCounts = masterCounts;
    st.slots = slots;
    const revNat = r.revNat.get(st.id);
    st.revNat = revNat !== undefined && revNat.address === st.ip && revNat.port === st.address.port;
    r.revNat.delete(st.id);
    st.sourceRanges = r.sourceRanges.get(st.id);
    r.sourceRanges.delete(st.id);
    st.affinity = r.affinity.get(st.id);
    r.affinity.delete(st.id);
    if (r.maglev.delete(st.id)) st.maglev = MAGLEV_RESTORED;
  }

  /** The state of a backend address, created with its ID (restored or new) and no references. Throws IDExhaustedError. */
  backendFor(address: L3n4Addr): BackendState {
    const key = l3n4AddrKeyString(address);
    let bs = this.backends.get(key);
    if (bs !== undefined) return bs;
    const id = this.backendIds.acquire(key);
    const restored = this.restored.backends.get(key);
    bs = { key, address, id, ip: ipv4OfKey(key), refCount: 0, revision: -1, valueIp: UNKNOWN, valueRest: UNKNOWN };
    if (restored !== undefined && restored.id === id) {
      bs.valueIp = restored.valueIp;
      bs.valueRest = restored.valueRest;
      this.restored.backends.delete(key);
    }
    this.backends.set(key, bs);
    return bs;
  }

  /** Writes the backend entry unless this revision (or a newer one) was written already or the bytes are the same. */
  writeBackend(bs: BackendState, backend: Backend, revision: number): void {
    if (bs.valueIp !== UNKNOWN && revision <= bs.revision) return;
    const proto = PROTOCOL_NUMBER[backend.address.protocol];
    const flags = BACKEND_STATE_CODE[backend.state];
    const rest = backend.address.port + proto * 0x10000 + flags * 0x1000000;
    if (bs.valueIp !== bs.ip || bs.valueRest !== rest) {
      this.maps.backends.put(bs.id, { address: bs.ip, port: backend.address.port, proto, flags, clusterId: 0, zone: 0, pad: 0 });
    }
    bs.valueIp = bs.ip;
    bs.valueRest = rest;
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
    bs.valueIp = UNKNOWN;
    this.backends.delete(bs.key);
    this.backendIds.release(bs.key);
  }

  /** Writes slot `slot` (1-based) pointing to backendId with the 16 flag bits. */
  writeSlot(st: FrontendState, slot: number, backendId: number, flags: number): void {
    const packed = backendId + flags * TWO_32;
    if (st.slots[slot - 1] === packed) return;
    this.maps.services.put(serviceKeyOf(st, slot), { backendId, count: 0, revNatIndex: st.id, flags: flags & 0xff, flags2: flags >>> 8, qcount: 0 });
    while (st.slots.length < slot - 1) st.slots.push(UNKNOWN);
    st.slots[slot - 1] = packed;
  }

  /** Deletes slots above `count`, highest first. */
  shrinkSlots(st: FrontendState, count: number): void {
    while (st.slots.length > count) {
      this.maps.services.delete(serviceKeyOf(st, st.slots.length));
      st.slots.length--;
    }
  }

  /** Writes the master entry (slot 0): first word (algorithm, affinity timeout), counts and flags. */
  writeMaster(st: FrontendState, word: number, count: number, qcount: number, flags: number): void {
    const counts = count + qcount * 0x10000 + flags * TWO_32;
    if (st.masterWord === word && st.masterCounts === counts) return;
    this.maps.services.put(serviceKeyOf(st, 0), { backendId: word, count, revNatIndex: st.id, flags: flags & 0xff, flags2: flags >>> 8, qcount });
    st.masterWord = word;
    st.masterCounts = counts;
  }

  /** Writes the reverse-NAT entry: the address's IP and port under its ID. */
  writeRevNat(st: FrontendState): void {
    if (st.revNat) return;
    this.maps.revNat.put(st.id, { address: st.ip, port: st.address.port });
    st.revNat = true;
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
    this.maps.services.delete(serviceKeyOf(st, 0));
    st.masterWord = UNKNOWN;
    st.masterCounts = UNKNOWN;
    this.shrinkSlots(st, 0);
    this.maps.revNat.delete(st.id);
    st.revNat = false;
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
