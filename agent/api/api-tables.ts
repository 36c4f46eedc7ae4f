// The API source's own tables: what was PUT on the socket, kept in the
// durable store so it survives restarts. These hold the objects as the user
// sent them (after filling in names); the API source turns them into
// changes for the same writers the other sources feed.
import type { V1EndpointSlice, V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import { Keys, uniqueIndex, type DB, type Table } from '../../statedb/index.js';

/** One service PUT through the API, with its endpoint slices. */
export interface ApiServiceRow {
  /** `namespace/name`. */
  readonly name: string;
  readonly service: V1Service;
  readonly endpointSlices: readonly V1EndpointSlice[];
  /** ISO time of the PUT. */
  readonly updatedAt: string;
}

/** One NetworkPolicy PUT through the API. */
export interface ApiPolicyRow {
  /** `namespace/name`. */
  readonly name: string;
  readonly policy: V1NetworkPolicy;
  readonly updatedAt: string;
}

export type ApiServicesTable = Table<ApiServiceRow, string, Record<never, never>>;
export type ApiPoliciesTable = Table<ApiPolicyRow, string, Record<never, never>>;

export interface ApiTables {
  readonly services: ApiServicesTable;
  readonly policies: ApiPoliciesTable;
}

export const API_SERVICES_TABLE = 'api-services';
export const API_POLICIES_TABLE = 'api-policies';

function ports(svc: V1Service): string {
  return (svc.spec?.ports ?? []).map((p) => `${p.port}/${p.protocol ?? 'TCP'}`).join(', ');
}

/**
 * Creates the durable tables `api-services` and `api-policies` (keyed by
 * `namespace/name`). Call before openStore so their rows are restored.
 * Throws DuplicateTableError when db has them already.
 */
export function newApiTables(db: DB): ApiTables {
  const services = db.newTable({
    name: API_SERVICES_TABLE,
    durable: true,
    version: 1,
    primary: uniqueIndex('name', Keys.string, (r: ApiServiceRow) => r.name),
    header: ['Name', 'ClusterIP', 'Ports', 'Slices', 'Updated'],
    row: (r) => [r.name, r.service.spec?.clusterIP ?? '', ports(r.service), String(r.endpointSlices.length), r.updatedAt],
  });
  const policies = db.newTable({
    name: API_POLICIES_TABLE,
    durable: true,
    version: 1,
    primary: uniqueIndex('name', Keys.string, (r: ApiPolicyRow) => r.name),
    header: ['Name', 'Updated'],
    row: (r) => [r.name, r.updatedAt],
  });
  return { services, policies };
}
