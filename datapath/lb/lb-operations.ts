// The reconciler operations for the frontends table (reference §4):
// frontends into the load-balancing maps. update writes, in this order:
// orphaned backends out, backends (once per revision), slots (active first,
// then terminating/quarantined; maintenance backends get none), affinity
// matches, the Maglev table, source ranges, reverse NAT, the master entry
// last, then slots the set no longer needs. NodePort surrogates expand to
// one entry set per node address. IDs are allocated before any map write,
// so retries after a fault reuse them and allocation order is the order
// frontends were first seen.
import type { Operations } from '../../reconcilers/index.js';
import {
  expandNodePort,
  frontendFlagBits,
  frontendLBAlgorithm,
  ipFamily,
  isSurrogateAddress,
  l3n4AddrKeyString,
  parsePrefix,
  type Frontend,
  type FrontendParams,
  type L3n4Addr,
  type LBAlgorithm,
  type LBTables,
  type NodeAddress,
  ServiceFlag,
} from '../../tables/index.js';
import type { ReadTxn } from '../../statedb/index.js';
import { AFFINITY_TIMEOUT_MASK, ipv4ToNumber, LB_ALGORITHM_CODE, LB_ALGORITHM_SHIFT, type Lb4SrcRangeKey, type LBMaps } from './lb-maps.js';
import { LBMapState } from './lb-map-state.js';
import { pruneMaps } from './lb-prune.js';
import type { BackendState, FrontendState } from './lb-state.js';
import { Maglev } from './maglev.js';

export interface LBOperationsOptions {
  /** Node addresses (NodePort expansion) and frontends (addresses a LoadBalancer/ExternalIPs frontend owns). */
  readonly tables: LBTables;
  readonly maps: LBMaps;
  /** The agent's algorithm (`--bpf-lb-algorithm`); default random. Maglev applies to NodePort, LoadBalancer, ExternalIPs, HostPort. */
  readonly defaultAlgorithm?: LBAlgorithm;
  /** Honour the per-service lb-algorithm annotation; default true. */
  readonly algorithmAnnotation?: boolean;
  /** ClusterIP reachable from outside the cluster (routable; Maglev may apply); default false. */
  readonly externalClusterIP?: boolean;
  /** Check source ranges on every frontend type, not only LoadBalancer; default false. */
  readonly sourceRangesAllTypes?: boolean;
  /** base64 Maglev seed; the table size is the maps' (maps.maglev.tableSize). */
  readonly maglevSeed?: string;
}

/** Operations<Frontend> for the reconciler; construct once per process, on the pinned maps (it restores from them). */
export class LBOperations implements Operations<Frontend> {
  readonly state: LBMapState;
  private readonly maglev: Maglev;
  private readonly flagOptions: { readonly externalClusterIP: boolean; readonly sourceRangesAllTypes: boolean };

  /** Reads the maps to restore IDs and entries. Throws the maps' read errors, or MaglevError for a bad size or seed. */
  constructor(private readonly opts: LBOperationsOptions) {
    this.maglev = new Maglev({ tableSize: opts.maps.maglev.tableSize, ...(opts.maglevSeed ? { seed: opts.maglevSeed } : {}) });
    this.state = new LBMapState(opts.maps);
    this.flagOptions = { externalClusterIP: opts.externalClusterIP ?? false, sourceRangesAllTypes: opts.sourceRangesAllTypes ?? false };
  }

  /** The ID of the frontend at `address` (0 when none), e.g. for the row's display. */
  idOf(address: L3n4Addr): number {
    return this.state.byAddress.get(l3n4AddrKeyString(address))?.id ?? 0;
  }

  /**
   * Writes the frontend (and its NodePort expansions) into the maps.
   * Idempotent; compares before writing, so a repeat writes nothing. An
   * IPv6 frontend is a no-op (the datapath is IPv4 only). Throws the first
   * failing map operation's error (the reconciler retries; everything
   * before it is recorded and not redone) or IDExhaustedError.
   */
  update(txn: ReadTxn, _revision: number, fe: Frontend): void {
    if (ipFamily(fe.address.ip) !== 4) return;
    const s = this.state;
    // IDs first, in a fixed order (frontend, backends, expansions), before
    // any map operation can fail.
    const st = s.stateFor(fe.address, undefined);
    const backends = fe.backends.map((b) => s.backendFor(b.backend.address));
    const expansions = this.expansionsOf(txn, fe);
    const expStates = expansions.map((exp) => s.stateFor(exp.address, st));
    this.write(st, fe, fe, backends);
    expansions.forEach((exp, i) => this.write(expStates[i]!, exp, fe, backends));
    if (st.expansions !== undefined && st.expansions.size > expansions.length) {
      const keep = new Set(expStates);
      for (const exp of [...st.expansions.values()]) if (!keep.has(exp)) s.deleteState(exp);
    }
  }

  /**
   * Removes every entry of the frontend and its expansions, and frees their
   * IDs. A frontend never written (or already deleted) succeeds at once;
   * deleting entries already gone succeeds. Retried after a failure, it
   * continues where it stopped.
   */
  delete(_txn: ReadTxn, _revision: number, fe: Frontend): void {
    const st = this.state.byAddress.get(l3n4AddrKeyString(fe.address));
    if (st === undefined || st.owner !== undefined) return;
    this.state.deleteState(st);
  }

  /**
   * Removes from the maps whatever no desired frontend explains: entries
   * restored at start that nothing claimed, addresses of frontends no longer
   * in the table, slots beyond a frontend's count, backends, rev-NAT,
   * source ranges, affinity and Maglev entries of unknown IDs. Collects the
   * keys first, then deletes. Continues past failures and throws an
   * AggregateError of them at the end (the next prune retries).
   */
  prune(_txn: ReadTxn, desired: Iterable<Frontend>): void {
    pruneMaps(this.state, desired);
  }

  /** NodePort/HostPort surrogates: one clone per node address, skipping addresses a primary frontend owns. */
  private expansionsOf(txn: ReadTxn, fe: Frontend): FrontendParams[] {
    if (!isSurrogateAddress(fe.address) || (fe.type !== 'NodePort' && fe.type !== 'HostPort')) return [];
    const { nodeAddresses, frontends } = this.opts.tables;
    const nodes: NodeAddress[] = [];
    for (const e of nodeAddresses.all(txn)) nodes.push(e.object);
    return expandNodePort(fe, nodes, (addr) => frontends.get(txn, frontends.primary.query(addr)) !== undefined);
  }

  /** One address's entries, in the reference order; `fe` carries the service and the selected backends. */
  private write(st: FrontendState, params: FrontendParams, fe: Frontend, backends: readonly BackendState[]): void {
    const s = this.state;
    const svc = fe.service;
    const master = frontendFlagBits(params, svc, this.flagOptions);
    // Slots carry the master's flags without the source-range bits; quarantined ones add their bit.
    const slotFlags = master & ~(ServiceFlag.SourceRange | ServiceFlag.SourceRangeDeny);
    const quarantinedFlags = slotFlags | ServiceFlag.Quarantined;
    const slotCount = fe.activeCount + fe.inactiveCount;

    // Orphans first, to make room.
    if (st.backends.length > 0) {
      const wanted = new Set(backends);
      for (const bs of [...st.backends]) if (!wanted.has(bs)) s.unreference(st, bs);
    }
    const affinity: number[] = [];
    for (let i = 0; i < backends.length; i++) {
      const { backend, revision } = fe.backends[i]!;
      const bs = backends[i]!;
      s.writeBackend(bs, backend, revision);
      s.reference(st, bs);
      if (i >= slotCount) continue; // maintenance: an entry, no slot
      s.writeSlot(st, i + 1, bs.id, backend.state === 'quarantined' ? quarantinedFlags : slotFlags);
      if (svc.sessionAffinity && backend.state === 'active') affinity.push(bs.id);
    }
    s.setAffinity(st, affinity);

    const algorithm = frontendLBAlgorithm(params, svc, {
      defaultAlgorithm: this.opts.defaultAlgorithm ?? 'random',
      annotations: this.opts.algorithmAnnotation ?? true,
      externalClusterIP: this.opts.externalClusterIP ?? false,
    });
    if (algorithm === 'maglev' && fe.activeCount > 0) {
      const active = fe.backends.slice(0, fe.activeCount).map((b, i) => ({ id: backends[i]!.id, address: b.backend.address, weight: b.backend.weight }));
      const fingerprint = active.map((b) => `${b.id}:${l3n4AddrKeyString(b.address)}:${b.weight}`).join(',');
      s.writeMaglev(st, fingerprint, () => this.maglev.table(active));
    } else {
      s.deleteMaglev(st);
    }

    s.setSourceRanges(st, (master & ServiceFlag.SourceRange) !== 0 ? sourceRangeKeys(svc.sourceRanges, st.id) : NO_RANGES);
    s.writeRevNat(st);
    const algorithmCode = algorithm === 'maglev' ? LB_ALGORITHM_CODE.maglev : this.explicitRandom(svc.lbAlgorithm) ? LB_ALGORITHM_CODE.random : LB_ALGORITHM_CODE.undef;
    const affinityTimeout = svc.sessionAffinity ? svc.sessionAffinityTimeoutSeconds & AFFINITY_TIMEOUT_MASK : 0;
    s.writeMaster(st, ((algorithmCode << LB_ALGORITHM_SHIFT) | affinityTimeout) >>> 0, fe.activeCount, fe.inactiveCount, master);
    s.shrinkSlots(st, slotCount);
  }

  /**
   * Random is written explicitly (not left to the datapath's default) when
   * the service asks for it or when the default is Maglev: a frontend
   * Maglev does not apply to must not inherit it.
   */
  private explicitRandom(annotated: LBAlgorithm | undefined): boolean {
    if ((this.opts.defaultAlgorithm ?? 'random') === 'maglev') return true;
    return (this.opts.algorithmAnnotation ?? true) && annotated === 'random';
  }
}

const NO_RANGES: ReadonlyMap<string, Lb4SrcRangeKey> = new Map();

/** The IPv4 source-range keys of a service for one rev-NAT ID. */
function sourceRangeKeys(ranges: readonly string[], id: number): Map<string, Lb4SrcRangeKey> {
  const out = new Map<string, Lb4SrcRangeKey>();
  for (const cidr of ranges) {
    const p = parsePrefix(cidr);
    if (p.family !== 4) continue;
    out.set(cidr, { prefixlen: 32 + p.bits, revNatId: id, pad: 0, addr: ipv4ToNumber(p.ip) });
  }
  return out;
}
