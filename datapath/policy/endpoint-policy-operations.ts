// Reconciler operations for the endpoint-policies table: per local endpoint,
// its policy map (an inner LPM_TRIE of flg_policy), its flg_endpoints entry
// (host-side ifindex -> endpoint id, identity, enforced directions), and the
// node-wide flg_policy_state count that switches policy work on in the
// datapath at all.
//
// Order, so a packet never sees enforcement without the entries behind it:
// policy map first, then the endpoint entry, then the count. Removal goes
// the other way round. Batches install and remove policy maps with one
// outer-map syscall each (see endpoint-policy-map.ts for why that matters).
import type { BatchEntry, BatchOperations, Operations } from '../../reconcilers/index.js';
import type { ReadTxn } from '../../statedb/index.js';
import type { EndpointPolicyRow } from '../../tables/index.js';
import type { DatapathMaps } from '../loader/index.js';
import {
  deleteEndpointPolicyMap,
  deleteEndpointPolicyMaps,
  endpointPolicyMapIds,
  hasEndpointPolicyMap,
  installPolicyMaps,
  syncEndpointPolicyMap,
  type PolicyMapContents,
  type PolicyMapUpdateMode,
} from './endpoint-policy-map.js';
import { policyMapEntries } from './policy-map-entries.js';

/** Mirrors FLG_EP_F_* in bpf/include/flagella/maps.h. */
export const ENDPOINT_FLAG_INGRESS = 1 << 0;
export const ENDPOINT_FLAG_EGRESS = 1 << 1;

export interface EndpointPolicyOperationsOptions {
  /** How a changed policy map is applied (see endpoint-policy-map.ts); default 'diff'. */
  readonly mode?: PolicyMapUpdateMode;
}

export function endpointFlags(row: Pick<EndpointPolicyRow, 'enforced'>): number {
  return (row.enforced.ingress ? ENDPOINT_FLAG_INGRESS : 0) | (row.enforced.egress ? ENDPOINT_FLAG_EGRESS : 0);
}

/**
 * update, delete and prune are idempotent; deleting what is missing
 * succeeds. Failures throw BpfError or PolicyMapFullError and the engine
 * retries the row; a half-applied update is completed by the retry (which
 * reads the live map back). A row being refreshed is also checked against
 * the live map, so drift is repaired; otherwise a diff is taken against
 * what this process last wrote.
 */
export class EndpointPolicyOperations implements Operations<EndpointPolicyRow>, BatchOperations<EndpointPolicyRow> {
  private readonly maps: Pick<DatapathMaps, 'endpoints' | 'policy' | 'policyState'>;
  private readonly mode: PolicyMapUpdateMode;
  /** What this process last wrote to each endpoint's policy map. */
  private readonly written = new Map<number, PolicyMapContents>();
  /** Enforcement flags per host ifindex, as written to flg_endpoints. */
  private readonly flagsByIfindex = new Map<number, number>();
  /** Which endpoint (table key) an ifindex was last written for, so a late delete of a replaced pod leaves its successor alone. */
  private readonly ownerByIfindex = new Map<number, string>();
  /** Where each endpoint was last written, to clear its old interface and map when it moves. */
  private readonly placeByEndpoint = new Map<string, { ifindex: number; endpointId: number }>();
  /** Endpoints in flagsByIfindex with a direction enforced. */
  private enforcing = 0;
  private writtenCount = -1;

  /**
   * Reads the endpoints already in flg_endpoints (pinned state of an
   * earlier run), so the enforcement count stays right before every row
   * has been reconciled again. Throws BpfError.
   */
  constructor(maps: Pick<DatapathMaps, 'endpoints' | 'policy' | 'policyState'>, opts: EndpointPolicyOperationsOptions = {}) {
    this.maps = maps;
    this.mode = opts.mode ?? 'diff';
    for (const [ifindex, info] of maps.endpoints.getAll()) this.setFlags(ifindex, info.flags);
  }

  update(_txn: ReadTxn, _revision: number, row: EndpointPolicyRow): void {
    const desired = policyMapEntries(row.entries);
    const known = row.status.kind === 'refreshing' ? undefined : this.written.get(row.endpointId);
    this.written.delete(row.endpointId); // unknown until the write succeeds
    syncEndpointPolicyMap(this.maps.policy, row.endpointId, desired, this.mode, known);
    this.written.set(row.endpointId, desired);
    this.publish(row);
  }

  /** New endpoints' maps go in with one batch; existing maps change one by one (cheap in diff mode). */
  updateBatch(txn: ReadTxn, entries: readonly BatchEntry<EndpointPolicyRow>[]): void {
    const fresh: { entry: BatchEntry<EndpointPolicyRow>; desired: PolicyMapContents }[] = [];
    for (const entry of entries) {
      const row = entry.object;
      try {
        if (this.written.has(row.endpointId) || hasEndpointPolicyMap(this.maps.policy, row.endpointId)) this.update(txn, entry.revision, row);
        else fresh.push({ entry, desired: policyMapEntries(row.entries) });
      } catch (err) {
        entry.error = err;
      }
    }
    if (fresh.length === 0) return;
    try {
      installPolicyMaps(
        this.maps.policy,
        fresh.map(({ entry, desired }) => [entry.object.endpointId, desired] as const),
      );
    } catch {
      for (const { entry } of fresh) this.attempt(entry, () => this.update(txn, entry.revision, entry.object));
      return;
    }
    for (const { entry, desired } of fresh) {
      this.written.set(entry.object.endpointId, desired);
      this.attempt(entry, () => this.publish(entry.object));
    }
  }

  delete(_txn: ReadTxn, _revision: number, row: EndpointPolicyRow): void {
    if (!this.unpublish(row)) return;
    deleteEndpointPolicyMap(this.maps.policy, row.endpointId);
    this.written.delete(row.endpointId);
  }

  deleteBatch(txn: ReadTxn, entries: readonly BatchEntry<EndpointPolicyRow>[]): void {
    const maps: BatchEntry<EndpointPolicyRow>[] = [];
    for (const entry of entries) this.attempt(entry, () => this.unpublish(entry.object) && maps.push(entry));
    try {
      deleteEndpointPolicyMaps(
        this.maps.policy,
        maps.map((e) => e.object.endpointId),
      );
      for (const e of maps) this.written.delete(e.object.endpointId);
    } catch {
      for (const entry of maps) this.attempt(entry, () => this.delete(txn, entry.revision, entry.object));
    }
  }

  /** Removes endpoint entries and policy maps no row explains, then rewrites the count from what is left. */
  prune(_txn: ReadTxn, desired: Iterable<EndpointPolicyRow>): void {
    const ifindexes = new Set<number>();
    const ids = new Set<number>();
    for (const row of desired) {
      ifindexes.add(row.ifindex);
      ids.add(row.endpointId);
    }
    const staleInterfaces = [...this.maps.endpoints.keys()].filter((ifindex) => !ifindexes.has(ifindex));
    for (const ifindex of staleInterfaces) this.removeInterface(ifindex);
    this.flagsByIfindex.clear();
    this.enforcing = 0;
    for (const [ifindex, info] of this.maps.endpoints.getAll()) this.setFlags(ifindex, info.flags);
    this.writtenCount = -1;
    this.writeCount();
    const staleMaps = endpointPolicyMapIds(this.maps.policy).filter((id) => !ids.has(id));
    deleteEndpointPolicyMaps(this.maps.policy, staleMaps);
    for (const id of staleMaps) this.written.delete(id);
  }

  /** The endpoint entry and the count, once the endpoint's policy map holds its entries. */
  private publish(row: EndpointPolicyRow): void {
    const flags = endpointFlags(row);
    this.maps.endpoints.put(row.ifindex, { endpointId: row.endpointId, secIdentity: row.identity, flags });
    this.setFlags(row.ifindex, flags);
    this.ownerByIfindex.set(row.ifindex, row.endpoint);
    const previous = this.placeByEndpoint.get(row.endpoint);
    this.placeByEndpoint.set(row.endpoint, { ifindex: row.ifindex, endpointId: row.endpointId });
    if (previous !== undefined && previous.ifindex !== row.ifindex && this.ownerByIfindex.get(previous.ifindex) === row.endpoint) {
      this.removeInterface(previous.ifindex);
    }
    this.writeCount();
    if (previous !== undefined && previous.endpointId !== row.endpointId) {
      deleteEndpointPolicyMap(this.maps.policy, previous.endpointId);
      this.written.delete(previous.endpointId);
    }
  }

  /** Removes the endpoint entry and updates the count. False when the interface belongs to another endpoint since (leave its map too). */
  private unpublish(row: EndpointPolicyRow): boolean {
    const owner = this.ownerByIfindex.get(row.ifindex);
    if (owner !== undefined && owner !== row.endpoint) return false;
    this.removeInterface(row.ifindex);
    this.placeByEndpoint.delete(row.endpoint);
    this.writeCount();
    return true;
  }

  private removeInterface(ifindex: number): void {
    this.maps.endpoints.delete(ifindex, { idempotent: true });
    this.setFlags(ifindex, undefined);
    this.ownerByIfindex.delete(ifindex);
  }

  private setFlags(ifindex: number, flags: number | undefined): void {
    if ((this.flagsByIfindex.get(ifindex) ?? 0) !== 0) this.enforcing--;
    if (flags === undefined) this.flagsByIfindex.delete(ifindex);
    else this.flagsByIfindex.set(ifindex, flags);
    if ((flags ?? 0) !== 0) this.enforcing++;
  }

  /** flg_policy_state = endpoints with a direction enforced; written only when it changes. */
  private writeCount(): void {
    if (this.enforcing === this.writtenCount) return;
    this.maps.policyState.put(0, { enforcingEndpoints: this.enforcing });
    this.writtenCount = this.enforcing;
  }

  private attempt(entry: BatchEntry<EndpointPolicyRow>, op: () => unknown): void {
    try {
      op();
    } catch (err) {
      entry.error = err;
    }
  }
}
