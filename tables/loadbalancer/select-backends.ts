// Which backends a frontend uses, in slot order (reference §3 "Backend
// selection" and §4.2 steps 8-11). Pure: the writer evaluates it whenever a
// frontend is refreshed, the reconciler turns the result into slots.
import { ipFamily } from '../net/ip-address.js';
import type { Backend, BackendState } from './backend.js';
import type { FrontendParams } from './frontend.js';
import { l3n4AddrKeyString } from './lb-keys.js';
import type { Service } from './service.js';

/** The node the selection runs on: Local traffic policies keep its backends. */
export interface LocalNode {
  readonly name: string;
}

export interface BackendSelection {
  /**
   * Slot order: active, then terminating, then quarantined, each by address
   * and port. Maintenance backends are here only with `includeMaintenance`,
   * after all the others (they get no slot: activeCount + inactiveCount
   * excludes them).
   */
  readonly backends: readonly Backend[];
  /**
   * The first `activeCount` backends are the ones new connections pick
   * from. When nothing is active the terminating backends count as active
   * (KEP-1669: serve terminating endpoints rather than drop).
   */
  readonly activeCount: number;
  /** The trailing backends kept for existing connections only. */
  readonly inactiveCount: number;
}

const STATE_RANK: Record<BackendState, number> = { active: 0, terminating: 1, quarantined: 2, maintenance: 3 };

/**
 * True when only this node's backends may serve the frontend: the internal
 * scope and ClusterIP follow the internal traffic policy, every other
 * external frontend the external one.
 */
export function localBackendsOnly(frontend: FrontendParams, service: Service): boolean {
  const policy =
    frontend.address.scope === 'internal' || frontend.type === 'ClusterIP' ? service.intTrafficPolicy : service.extTrafficPolicy;
  return policy === 'Local';
}

export interface SelectOptions {
  /**
   * Also return the matching maintenance backends (at the end, uncounted):
   * the reconciler keeps their backends-map entries so established flows
   * survive flapping readiness. Default false.
   */
  readonly includeMaintenance?: boolean;
}

/**
 * Selects and orders the service's backends for one frontend: same L4
 * protocol (any for an ANY frontend) and IP family; when both name ports,
 * the backend's names include the frontend's; only backends on `node` (or
 * on no known node) under a Local policy. Pure; never throws.
 */
export function selectBackends(
  frontend: FrontendParams,
  service: Service,
  backends: Iterable<Backend>,
  node: LocalNode,
  opts: SelectOptions = {},
): BackendSelection {
  const family = ipFamily(frontend.address.ip);
  const protocol = frontend.address.protocol;
  const localOnly = localBackendsOnly(frontend, service);
  const chosen: { backend: Backend; key: string }[] = [];
  const includeMaintenance = opts.includeMaintenance === true;
  for (const be of backends) {
    if (be.state === 'maintenance' && !includeMaintenance) continue;
    if (protocol !== 'ANY' && be.address.protocol !== protocol) continue;
    if (ipFamily(be.address.ip) !== family) continue;
    if (frontend.portName !== '' && be.portNames.length > 0 && !be.portNames.includes(frontend.portName)) continue;
    if (localOnly && be.nodeName !== '' && be.nodeName !== node.name) continue;
    chosen.push({ backend: be, key: '' });
  }
  if (chosen.length > 1) {
    for (const c of chosen) c.key = l3n4AddrKeyString(c.backend.address);
    chosen.sort((a, b) => STATE_RANK[a.backend.state] - STATE_RANK[b.backend.state] || (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }
  let active = 0;
  let terminating = 0;
  let maintenance = 0;
  for (const { backend } of chosen) {
    if (backend.state === 'active') active++;
    else if (backend.state === 'terminating') terminating++;
    else if (backend.state === 'maintenance') maintenance++;
  }
  const activeCount = active > 0 ? active : terminating;
  return { backends: chosen.map((c) => c.backend), activeCount, inactiveCount: chosen.length - maintenance - activeCount };
}
