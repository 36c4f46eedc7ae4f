// PUT and DELETE of services and policies through the API: validate the
// object (the same conversion the writers run, so a 400 names the field),
// store it in the durable table, wait until the API source has handed it
// to the writers, and report what they did. An object the writers refuse
// (a frontend address another service owns) is rolled back and answered
// 409, so the durable table never keeps what the tables do not hold.
import type { V1EndpointSlice, V1NetworkPolicy, V1Service } from '@kubernetes/client-node';
import type { DB } from '../../statedb/index.js';
import {
  ConversionError,
  formatL3n4Addr,
  fromEndpointSlice,
  fromNetworkPolicy,
  fromService,
  SERVICE_NAME_LABEL,
  type LBTables,
  type PolicyTables,
} from '../../tables/index.js';
import { API_SOURCE_NAME, type ApiSource } from './api-source.js';
import type { ApiPolicyRow, ApiServiceRow, ApiTables } from './api-tables.js';
import { HttpError } from './http-util.js';

export interface ApiObjectsDeps {
  readonly db: DB;
  readonly tables: ApiTables;
  readonly source: ApiSource;
  readonly lb: Pick<LBTables, 'services' | 'frontends'>;
  readonly policy: Pick<PolicyTables, 'policies'>;
  /** How long a request waits for the writers (default 10 s). */
  readonly applyTimeoutMs?: number;
}

type Json = Record<string, unknown>;

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function conversionFailure(err: unknown, kind: 'Service' | 'EndpointSlice' | 'NetworkPolicy', name: string): HttpError {
  const e = ConversionError.from(kind, name, err);
  return new HttpError(400, e.message, { kind: e.kind, object: e.object, field: e.field, problem: e.problem });
}

/**
 * Fills in kind, apiVersion, namespace and name from the path; a value
 * that disagrees with the path is a 400 naming the field.
 */
function withIdentity(obj: unknown, what: string, kind: string, apiVersion: string, namespace: string, name: string | undefined): Json {
  if (!isObject(obj)) throw new HttpError(400, `${what} must be a JSON object`);
  if (obj.kind !== undefined && obj.kind !== kind) throw new HttpError(400, `${what}: kind must be ${kind}, not ${JSON.stringify(obj.kind)}`);
  if (obj.apiVersion !== undefined && obj.apiVersion !== apiVersion) {
    throw new HttpError(400, `${what}: apiVersion must be ${apiVersion}, not ${JSON.stringify(obj.apiVersion)}`);
  }
  const meta = obj.metadata ?? {};
  if (!isObject(meta)) throw new HttpError(400, `${what}: metadata must be an object`);
  if (meta.namespace !== undefined && meta.namespace !== namespace) {
    throw new HttpError(400, `${what}: metadata.namespace ${JSON.stringify(meta.namespace)} does not match the path's namespace "${namespace}"`);
  }
  if (name !== undefined && meta.name !== undefined && meta.name !== name) {
    throw new HttpError(400, `${what}: metadata.name ${JSON.stringify(meta.name)} does not match the path's name "${name}"`);
  }
  return { ...obj, kind, apiVersion, metadata: { ...meta, namespace, ...(name !== undefined ? { name } : {}) } };
}

/** The service and slices of a PUT body, validated; throws HttpError 400. */
export function parseServiceBody(body: unknown, namespace: string, name: string): { service: V1Service; endpointSlices: V1EndpointSlice[] } {
  if (!isObject(body)) throw new HttpError(400, 'the body must be a JSON object: a v1 Service, or {"service": ..., "endpointSlices": [...]}');
  const wrapped = body.kind === undefined && 'service' in body;
  if (wrapped) {
    const extra = Object.keys(body).filter((k) => k !== 'service' && k !== 'endpointSlices');
    if (extra.length > 0) throw new HttpError(400, `unknown field(s) ${extra.join(', ')}; expected "service" and "endpointSlices"`);
  }
  const rawSlices = wrapped ? (body.endpointSlices ?? []) : [];
  if (!Array.isArray(rawSlices)) throw new HttpError(400, 'endpointSlices must be an array of EndpointSlices');
  const service = withIdentity(wrapped ? body.service : body, 'service', 'Service', 'v1', namespace, name) as V1Service;
  try {
    fromService(service, { source: API_SOURCE_NAME });
  } catch (err) {
    throw conversionFailure(err, 'Service', `${namespace}/${name}`);
  }
  const seen = new Set<string>();
  const endpointSlices = rawSlices.map((raw: unknown, i) => {
    const what = `endpointSlices[${i}]`;
    const generated = isObject(raw) && isObject(raw.metadata) && typeof raw.metadata.name === 'string' ? undefined : `${name}-api-${i}`;
    const slice = withIdentity(raw, what, 'EndpointSlice', 'discovery.k8s.io/v1', namespace, generated);
    const meta = slice.metadata as Json;
    const labels = isObject(meta.labels) ? meta.labels : {};
    if (labels[SERVICE_NAME_LABEL] !== undefined && labels[SERVICE_NAME_LABEL] !== name) {
      throw new HttpError(400, `${what}: label ${SERVICE_NAME_LABEL}=${JSON.stringify(labels[SERVICE_NAME_LABEL])} names another service than "${name}"`);
    }
    const full = { ...slice, metadata: { ...meta, labels: { ...labels, [SERVICE_NAME_LABEL]: name } } } as unknown as V1EndpointSlice;
    const sliceName = `${namespace}/${String(full.metadata!.name)}`;
    if (seen.has(sliceName)) throw new HttpError(400, `${what}: endpoint slice ${sliceName} appears twice`);
    seen.add(sliceName);
    try {
      fromEndpointSlice(full, { source: API_SOURCE_NAME });
    } catch (err) {
      throw conversionFailure(err, 'EndpointSlice', sliceName);
    }
    return full;
  });
  return { service, endpointSlices };
}

/** A NetworkPolicy PUT body, validated; throws HttpError 400. */
export function parsePolicyBody(body: unknown, namespace: string, name: string): V1NetworkPolicy {
  const policy = withIdentity(body, 'policy', 'NetworkPolicy', 'networking.k8s.io/v1', namespace, name) as V1NetworkPolicy;
  try {
    fromNetworkPolicy(policy);
  } catch (err) {
    throw conversionFailure(err, 'NetworkPolicy', `${namespace}/${name}`);
  }
  return policy;
}

export class ApiObjects {
  constructor(private readonly deps: ApiObjectsDeps) {}

  /** PUT /v1/services/{ns}/{name}. Throws HttpError (400, 409, 503). */
  async putService(namespace: string, name: string, body: unknown): Promise<unknown> {
    const key = `${namespace}/${name}`;
    const { service, endpointSlices } = parseServiceBody(body, namespace, name);
    const { db, tables, lb } = this.deps;
    const owner = lb.services.get(db.readTxn(), lb.services.primary.query(key));
    if (owner !== undefined && owner.source !== API_SOURCE_NAME) {
      throw new HttpError(409, `service ${key} comes from source "${owner.source}"; the API cannot replace it`);
    }
    const row: ApiServiceRow = { name: key, service, endpointSlices, updatedAt: new Date().toISOString() };
    await this.store('services', key, row);
    const frontends = [...lb.frontends.list(db.readTxn(), lb.frontends.secondary.service.query(key))].map((e) => formatL3n4Addr(e.object.address));
    return {
      applied: {
        kind: 'Service',
        name: key,
        endpointSlices: endpointSlices.map((s) => `${namespace}/${String(s.metadata?.name)}`),
        frontends,
        revision: tables.services.revision(db.readTxn()),
      },
    };
  }

  /** PUT /v1/policies/{ns}/{name}. Throws HttpError (400, 409, 503). */
  async putPolicy(namespace: string, name: string, body: unknown): Promise<unknown> {
    const key = `${namespace}/${name}`;
    const policy = parsePolicyBody(body, namespace, name);
    const { db, tables, policy: pt } = this.deps;
    const txn = db.readTxn();
    if (pt.policies.get(txn, pt.policies.primary.query(key)) !== undefined && tables.policies.get(txn, tables.policies.primary.query(key)) === undefined) {
      throw new HttpError(409, `policy ${key} comes from another source; the API cannot replace it`);
    }
    const row: ApiPolicyRow = { name: key, policy, updatedAt: new Date().toISOString() };
    await this.store('policies', key, row);
    return { applied: { kind: 'NetworkPolicy', name: key, revision: tables.policies.revision(db.readTxn()) } };
  }

  /** DELETE /v1/services/{ns}/{name}: 404 when the API holds no such service. */
  deleteService(namespace: string, name: string): Promise<unknown> {
    return this.remove('services', `${namespace}/${name}`, 'Service');
  }

  /** DELETE /v1/policies/{ns}/{name}: 404 when the API holds no such policy. */
  deletePolicy(namespace: string, name: string): Promise<unknown> {
    return this.remove('policies', `${namespace}/${name}`, 'NetworkPolicy');
  }

  private async remove(which: 'services' | 'policies', key: string, kind: string): Promise<unknown> {
    const { db } = this.deps;
    const table = this.deps.tables[which] as ApiTables['services'];
    const existing = table.get(db.readTxn(), table.primary.query(key));
    if (existing === undefined) throw new HttpError(404, `no ${kind} ${key} was created through the API`);
    db.write(table, (txn) => table.delete(txn, existing));
    await this.applied(which, table.revision(db.readTxn()));
    return { deleted: { kind, name: key } };
  }

  /** Writes the row, waits for the writers, and rolls back what they refused (409). */
  private async store(which: 'services' | 'policies', key: string, row: ApiServiceRow | ApiPolicyRow): Promise<void> {
    const { db } = this.deps;
    const table = this.deps.tables[which] as unknown as ApiTables['services'];
    const previous = table.get(db.readTxn(), table.primary.query(key));
    db.write(table, (txn) => table.insert(txn, row as ApiServiceRow));
    const revision = table.revision(db.readTxn());
    await this.applied(which, revision);
    const outcome = this.deps.source.outcome(which, key);
    if (outcome === undefined || outcome.revision !== revision || outcome.errors.length === 0) return;
    db.write(table, (txn) => {
      if (previous !== undefined) table.insert(txn, previous);
      else table.delete(txn, row as ApiServiceRow);
    });
    await this.applied(which, table.revision(db.readTxn()));
    throw new HttpError(409, outcome.errors.join('; '), { errors: outcome.errors });
  }

  private async applied(which: 'services' | 'policies', revision: number): Promise<void> {
    const timeoutMs = this.deps.applyTimeoutMs ?? 10_000;
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), timeoutMs)));
    try {
      const late = await Promise.race([this.deps.source.waitProcessed(which, revision).then(() => false), timedOut]);
      if (late) throw new HttpError(503, `stored, but the tables did not take it within ${timeoutMs} ms; it will be applied when they do`);
    } finally {
      clearTimeout(timer);
    }
  }
}
