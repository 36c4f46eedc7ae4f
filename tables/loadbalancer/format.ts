// Column headers and row cells for `db show` of the load-balancing tables
// (reference §2). The table renderer aligns them; these decide the text.
import type { Backend } from './backend.js';
import type { FrontendParams } from './frontend.js';
import { formatL3n4Addr, type L3n4Addr } from './l3n4-addr.js';
import type { Service } from './service.js';

export const SERVICE_COLUMNS = ['Name', 'Source', 'PortNames', 'TrafficPolicy', 'Flags'] as const;
export const FRONTEND_COLUMNS = ['Address', 'Type', 'ServiceName', 'PortName', 'Backends', 'Status', 'Since', 'Error'] as const;
export const BACKEND_COLUMNS = ['Service', 'Address', 'Source', 'State', 'Weight', 'PortNames', 'NodeName'] as const;

/** How many backend addresses a frontend row lists before `+ N more ...`. */
export const MAX_LISTED_BACKENDS = 5;

/** The reconciler status as text, supplied by whoever owns the status field. */
export interface StatusCells {
  readonly status: string;
  readonly since: string;
  readonly error: string;
}

/** Cells for SERVICE_COLUMNS. */
export function serviceRow(svc: Service): string[] {
  const portNames = Object.entries(svc.portNames)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([name, port]) => `${name}=${port}`)
    .join(', ');
  const trafficPolicy =
    svc.extTrafficPolicy === svc.intTrafficPolicy
      ? svc.extTrafficPolicy
      : `Ext=${svc.extTrafficPolicy}, Int=${svc.intTrafficPolicy}`;
  return [svc.name, svc.source, portNames, trafficPolicy, serviceFlagsText(svc)];
}

/** The Flags cell: a sorted, comma-separated list of the service's notable settings. */
export function serviceFlagsText(svc: Service): string {
  const flags: string[] = [];
  if (svc.sessionAffinity) flags.push(`SessionAffinity=${formatDuration(svc.sessionAffinityTimeoutSeconds)}`);
  if (svc.sourceRanges.length > 0) flags.push(`SourceRanges=${svc.sourceRanges.join(',')}`);
  if (svc.sourceRangesPolicy === 'deny') flags.push('SourceRangesPolicy=deny');
  if (svc.healthCheckNodePort !== 0) flags.push(`HealthCheckNodePort=${svc.healthCheckNodePort}`);
  if (svc.lbAlgorithm !== undefined) flags.push(`ExplicitLBAlgorithm=${svc.lbAlgorithm}`);
  if (svc.trafficDistribution !== '') flags.push(`TrafficDistribution=${svc.trafficDistribution}`);
  if (svc.loadBalancerClass !== '') flags.push(`LoadBalancerClass=${svc.loadBalancerClass}`);
  if (svc.headless) flags.push('Headless');
  return flags.sort().join(', ');
}

/**
 * Cells for FRONTEND_COLUMNS. `backends` are the selected ones in slot
 * order (at most MAX_LISTED_BACKENDS are listed, then `+ N more ...`);
 * status cells are empty when not given.
 */
export function frontendRow(
  fe: FrontendParams,
  backends: readonly (Backend | L3n4Addr)[],
  status: StatusCells = { status: '', since: '', error: '' },
): string[] {
  return [
    formatL3n4Addr(fe.address),
    fe.type,
    fe.serviceName,
    fe.portName,
    backendsText(backends),
    status.status,
    status.since,
    status.error,
  ];
}

/** `a, b, c, d, e + 2 more ...` */
export function backendsText(backends: readonly (Backend | L3n4Addr)[]): string {
  const addrs = backends.map((b) => formatL3n4Addr('address' in b ? b.address : b));
  const listed = addrs.slice(0, MAX_LISTED_BACKENDS).join(', ');
  const more = addrs.length - MAX_LISTED_BACKENDS;
  return more > 0 ? `${listed} + ${more} more ...` : listed;
}

/** Cells for BACKEND_COLUMNS. */
export function backendRow(be: Backend): string[] {
  return [be.serviceName, formatL3n4Addr(be.address), be.source, be.state, String(be.weight), be.portNames.join(', '), be.nodeName];
}

/** Seconds as Go prints a time.Duration: `3h0m0s`, `1m30s`, `45s`, `0s`. */
export function formatDuration(totalSeconds: number): string {
  const s = Math.max(0, Math.floor(totalSeconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  if (h > 0) return `${h}h${m}m${sec}s`;
  if (m > 0) return `${m}m${sec}s`;
  return `${sec}s`;
}
