// A backend: one address (ip, port, protocol) that serves a service.
import type { L3n4Addr } from './l3n4-addr.js';

/**
 * Order matters: slots are sorted by state. active: usable; terminating:
 * used only when nothing is active (KEP-1669); quarantined: kept in the
 * trailing inactive slots; maintenance: kept in the backends map, given no slot.
 */
export type BackendState = 'active' | 'terminating' | 'quarantined' | 'maintenance';
export const BACKEND_STATES: readonly BackendState[] = ['active', 'terminating', 'quarantined', 'maintenance'];

/** The Maglev weight of a backend when its source gives none. */
export const DEFAULT_BACKEND_WEIGHT = 100;

/** A backend row: readonly plain data, JSON-serialisable. */
export interface Backend {
  /** `namespace/name` of the service it serves. */
  readonly serviceName: string;
  /** Always external scope. */
  readonly address: L3n4Addr;
  /** Service port names this address serves, sorted; empty when unnamed. */
  readonly portNames: readonly string[];
  /** Maglev weight, 1..65535; default 100. */
  readonly weight: number;
  /** Node the backend runs on ('' when unknown); used by the Local traffic policies. */
  readonly nodeName: string;
  /** Topology zone ('' when unknown). */
  readonly zone: string;
  /** Zones this backend is hinted for (topology-aware routing), sorted. */
  readonly forZones: readonly string[];
  readonly state: BackendState;
  /** Where it came from: `k8s`, `file`, `local-api`, ... */
  readonly source: string;
}
