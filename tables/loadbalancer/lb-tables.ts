// The load-balancing tables (reference §2): services, frontends (the table
// the datapath reconciler drives), backends and this node's addresses. Only
// LBWriter writes services, frontends and backends, so the cross-table
// references stay consistent; the reconciler writes only frontend statuses.
import { formatDuration as formatMs, type Status } from '../../reconcilers/index.js';
import { Keys, nonUniqueIndex, uniqueIndex, type DB, type Table } from '../../statedb/index.js';
import type { Backend } from './backend.js';
import { BACKEND_COLUMNS, backendRow, backendsText, SERVICE_COLUMNS, serviceRow } from './format.js';
import type { FrontendParams } from './frontend.js';
import { formatL3n4Addr, type L3n4Addr } from './l3n4-addr.js';
import { backendKeyType, l3n4AddrKeyType, type BackendKey } from './lb-keys.js';
import type { NodeAddress } from './node-address.js';
import type { Service } from './service.js';

/** A selected backend with the backends-table revision it was selected at. */
export interface FrontendBackend {
  readonly backend: Backend;
  /** The backend row's revision: the reconciler rewrites a backend's map entry once per revision. */
  readonly revision: number;
}

/**
 * A frontend row: the conversion's parameters plus everything the reconciler
 * needs, so it never has to look further (except node addresses for
 * NodePort expansion).
 */
export interface Frontend extends FrontendParams {
  /** The owning service as of the last write (re-pointed whenever the service changes). */
  readonly service: Service;
  /**
   * Slot order (see selectBackends): the first activeCount are selectable,
   * the next inactiveCount are kept for existing flows, the rest are
   * maintenance backends (a backends-map entry, no slot).
   */
  readonly backends: readonly FrontendBackend[];
  readonly activeCount: number;
  readonly inactiveCount: number;
  /** The datapath reconciler's status. */
  readonly status: Status;
  /** The service / reverse-NAT ID the reconciler assigned (0 until reconciled); for display. */
  readonly id: number;
}

/** Column titles of `db show frontends`. */
export const FRONTEND_TABLE_COLUMNS = ['Address', 'Type', 'ServiceName', 'PortName', 'ID', 'Backends', 'Status', 'Since', 'Error'] as const;
/** Column titles of `db show node-addresses`. */
export const NODE_ADDRESS_COLUMNS = ['Address', 'NodePort', 'Primary', 'DeviceName'] as const;

export type ServicesTable = Table<Service, string, Record<never, never>>;
export type FrontendsTable = Table<Frontend, L3n4Addr, { service: ReturnType<typeof frontendServiceIndex> }>;
export type BackendsTable = Table<Backend, BackendKey, { address: ReturnType<typeof backendAddressIndex> }>;
export type NodeAddressesTable = Table<NodeAddress, string | Uint8Array, Record<never, never>>;

export interface LBTables {
  readonly services: ServicesTable;
  readonly frontends: FrontendsTable;
  readonly backends: BackendsTable;
  readonly nodeAddresses: NodeAddressesTable;
}

function frontendServiceIndex() {
  return nonUniqueIndex('service', Keys.string, (f: Frontend) => f.serviceName);
}

function backendAddressIndex() {
  return nonUniqueIndex('address', l3n4AddrKeyType, (b: Backend) => b.address);
}

/** Cells of FRONTEND_TABLE_COLUMNS; `now` for the Since column. */
export function frontendTableRow(fe: Frontend, now: number = Date.now()): string[] {
  const status = fe.status;
  const kind = status.kind.charAt(0).toUpperCase() + status.kind.slice(1);
  return [
    formatL3n4Addr(fe.address),
    fe.type,
    fe.serviceName,
    fe.portName,
    fe.id === 0 ? '' : String(fe.id),
    // Maintenance backends (after the slots) keep a map entry but serve nothing: not listed.
    backendsText(fe.backends.slice(0, fe.activeCount + fe.inactiveCount).map((b) => b.backend)),
    kind,
    `${formatMs(Math.max(0, now - status.updatedAt))} ago`,
    status.error ?? '',
  ];
}

/** The JSON form of a frontend row: the service by name only, backends by address. */
export function frontendToJSON(fe: Frontend): unknown {
  return {
    address: formatL3n4Addr(fe.address),
    type: fe.type,
    serviceName: fe.serviceName,
    portName: fe.portName,
    servicePort: fe.servicePort,
    id: fe.id,
    backends: fe.backends.map((b) => ({ address: formatL3n4Addr(b.backend.address), state: b.backend.state, revision: b.revision })),
    activeCount: fe.activeCount,
    inactiveCount: fe.inactiveCount,
    status: fe.status.toJSON(),
  };
}

/** Cells of NODE_ADDRESS_COLUMNS. */
export function nodeAddressRow(a: NodeAddress): string[] {
  return [a.ip, String(a.nodePort), String(a.primary), a.device];
}

/**
 * Creates the four tables in db: `services` (by name), `frontends` (by
 * address; secondary `service`), `backends` (by service, address and
 * source; secondary `address`) and `node-addresses` (by IP). Throws
 * DuplicateTableError when db already has them.
 */
export function newLBTables(db: DB): LBTables {
  const services = db.newTable({
    name: 'services',
    primary: uniqueIndex('name', Keys.string, (s: Service) => s.name),
    header: SERVICE_COLUMNS,
    row: serviceRow,
  });
  const frontends = db.newTable({
    name: 'frontends',
    primary: uniqueIndex('address', l3n4AddrKeyType, (f: Frontend) => f.address),
    secondary: { service: frontendServiceIndex() },
    header: FRONTEND_TABLE_COLUMNS,
    row: (f) => frontendTableRow(f),
    toJSON: frontendToJSON,
  });
  const backends = db.newTable({
    name: 'backends',
    primary: uniqueIndex('key', backendKeyType, (b: Backend): BackendKey => b),
    secondary: { address: backendAddressIndex() },
    header: BACKEND_COLUMNS,
    row: backendRow,
  });
  const nodeAddresses = db.newTable({
    name: 'node-addresses',
    primary: uniqueIndex('address', Keys.ip, (a: NodeAddress) => a.ip),
    header: NODE_ADDRESS_COLUMNS,
    row: nodeAddressRow,
  });
  return { services, frontends, backends, nodeAddresses };
}
