// Reconciler operations for the endpoint-policies table: per local endpoint,
// its policy map (an inner LPM_TRIE of flg_policy), its flg_endpoints entry
// (host-side ifindex -> endpoint id, identity, enforced directions), and the
// node-wide flg_policy_state count that switches policy work on in the
// datapath at all.
//
// Order, so a packet never sees enforcement without the entries behind it:
// policy map first, then the endpoint entry, then the count. Removal goes
// the other way round.
import type { Operations } from '../../reconcilers/index.js';
import type { ReadTxn } from '../../statedb/index.js';
import type { EndpointPolicyRow } from '../../tables/index.js';
import type { DatapathMaps } from '../loader/index.js';
import { deleteEndpointPolicyMap, endpointPolicyMapIds, syncEndpointPolicyMap, type PolicyMapUpdateMode } from './endpoint-policy-map.js';
import { policyMapEntries } from './policy-map-entries.js';

/** Mirrors FLG_EP_F_* in bpf/include/flagella/maps.h. */
export const ENDPOINT_FLAG_INGRESS = 1 << 0;
export const ENDPOINT_FLAG_EGRESS = 1 << 1;

export interface EndpointPolicyOperationsOptions {
  /** How a changed policy map is applied (see endpoint-policy-map.ts); default 'swap'. */
  readonly mode?: PolicyMapUpdateMode;
}

export function endpointFlags(row: Pick<EndpointPolicyRow, 'enforced'>): number {
  return (row.enforced.ingress ? ENDPOINT_FLAG_INGRESS : 0) | (row.enforced.egress ? ENDPOINT_FLAG_EGRESS : 0);
}

/**
 * update, delete and prune are idempotent; deleting what is missing
 * succeeds. Failures throw BpfError or PolicyMapFullError and the engine
 * retries the row; a half-applied update is completed by the retry.
 */
export class EndpointPolicyOperations implements Operations<EndpointPolicyRow> {
  private readonly maps: Pick<DatapathMaps, 'endpoints' | 'policy' | 'policyState'>;
  private readonly mode: PolicyMapUpdateMode;
  /** Enforcement flags per host ifindex, as written to flg_endpoints. */
  private readonly flagsByIfindex = new Map<number, number>();
  /** Which endpoint (table key) an ifindex was last written for, so a late delete of a replaced pod leaves its successor alone. */
  private readonly ownerByIfindex = new Map<number, string>();
  /** Where each endpoint was last written, to clear its old interface and map when it moves. */
  private readonly placeByEndpoint = new Map<string, { ifindex: number; endpointId: number }>();
  private writtenCount = -1;

  /**
   * Reads the endpoints already in flg_endpoints (pinned state of an
   * earlier run), so the enforcement count stays right before every row
   * has been reconciled again. Throws BpfError.
   */
  constructor(maps: Pick<DatapathMaps, 'endpoints' | 'policy' | 'policyState'>, opts: EndpointPolicyOperationsOptions = {}) {
    this.maps = maps;
    this.mode = opts.mode ?? 'swap';
    for (const [ifindex, info] of maps.endpoints.getAll()) this.flagsByIfindex.set(ifindex, info.flags);
  }

  update(_txn: ReadTxn, _revision: number, row: EndpointPolicyRow): void {
    syncEndpointPolicyMap(this.maps.policy, row.endpointId, policyMapEntries(row.entries), this.mode);
    const flags = endpointFlags(row);
    this.maps.endpoints.put(row.ifindex, { endpointId: row.endpointId, secIdentity: row.identity, flags });
    this.flagsByIfindex.set(row.ifindex, flags);
    this.ownerByIfindex.set(row.ifindex, row.endpoint);
    const previous = this.placeByEndpoint.get(row.endpoint);
    this.placeByEndpoint.set(row.endpoint, { ifindex: row.ifindex, endpointId: row.endpointId });
    if (previous !== undefined && previous.ifindex !== row.ifindex && this.ownerByIfindex.get(previous.ifindex) === row.endpoint) {
      this.removeInterface(previous.ifindex);
    }
    this.writeCount();
    if (previous !== undefined && previous.endpointId !== row.endpointId) deleteEndpointPolicyMap(this.maps.policy, previous.endpointId);
  }

  delete(_txn: ReadTxn, _revision: number, row: EndpointPolicyRow): void {
    const owner = this.ownerByIfindex.get(row.ifindex);
    if (owner !== undefined && owner !== row.endpoint) return; // the interface went to another endpoint since
    this.removeInterface(row.ifindex);
    this.writeCount();
    deleteEndpointPolicyMap(this.maps.policy, row.endpointId);
    this.placeByEndpoint.delete(row.endpoint);
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
    for (const [ifindex, info] of this.maps.endpoints.getAll()) this.flagsByIfindex.set(ifindex, info.flags);
    this.writtenCount = -1;
    this.writeCount();
    for (const id of endpointPolicyMapIds(this.maps.policy).filter((id) => !ids.has(id))) deleteEndpointPolicyMap(this.maps.policy, id);
  }

  private removeInterface(ifindex: number): void {
    this.maps.endpoints.delete(ifindex, { idempotent: true });
    this.flagsByIfindex.delete(ifindex);
    this.ownerByIfindex.delete(ifindex);
  }

  /** flg_policy_state = endpoints with a direction enforced; written only when it changes. */
  private writeCount(): void {
    let count = 0;
    for (const flags of this.flagsByIfindex.values()) if (flags !== 0) count++;
    if (count === this.writtenCount) return;
    this.maps.policyState.put(0, { enforcingEndpoints: count });
    this.writtenCount = count;
  }
}
