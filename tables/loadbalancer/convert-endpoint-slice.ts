// Kubernetes discovery.k8s.io/v1 EndpointSlice -> backends (reference §2.3, §3).
// Conversion is per slice: a service's slices are merged later by the
// writer, keyed by slice name, so that a deleted or shrunk slice releases
// exactly the addresses it contributed.
import type { V1Endpoint, V1EndpointConditions, V1EndpointSlice } from '@kubernetes/client-node';
import { ConversionError, convertEach, FieldError, type BatchResult } from '../conversion-error.js';
import { compareBytes, ipFamily } from '../net/ip-address.js';
import { arrayField, ipField, k8sProtocol, nameForErrors, objectName, portNumber, type K8sProtocol } from '../validate.js';
import { DEFAULT_BACKEND_WEIGHT, type Backend, type BackendState } from './backend.js';
import { l3n4AddrKey } from './l3n4-addr.js';
import { EMPTY_LIST, singleName } from './shared-values.js';

/** The label naming the service an EndpointSlice belongs to. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

export interface EndpointSliceConversionOptions {
  /** The backends' source; default `k8s`. */
  readonly source?: string;
}

export interface EndpointSliceConversion {
  /** `namespace/slice-name`: what the writer merges by. */
  readonly sliceName: string;
  /** `namespace/service-name`, from the kubernetes.io/service-name label. */
  readonly serviceName: string;
  /** One per (address, port, protocol), sorted by address key. Empty for FQDN slices. */
  readonly backends: readonly Backend[];
}

interface SlicePort {
  readonly name: string;
  readonly port: number;
  readonly protocol: K8sProtocol;
}

/**
 * Converts one EndpointSlice. Endpoint conditions map to states: ready ->
 * active; terminating and serving -> terminating; anything else ->
 * maintenance (kept in the backends map, no slot, so flapping readiness
 * does not break established flows). Unset conditions follow the API's
 * advice: unknown ready/serving count as true, unknown terminating as false.
 * Slice ports without a port number are skipped (the API says they are not
 * restricted, which means nothing to a load balancer); FQDN slices convert
 * to no backends. Throws ConversionError (only).
 */
export function fromEndpointSlice(slice: V1EndpointSlice, opts: EndpointSliceConversionOptions = {}): EndpointSliceConversion {
  try {
    return convertSlice(slice, opts.source ?? 'k8s');
  } catch (err) {
    throw ConversionError.from('EndpointSlice', nameForErrors(slice?.metadata), err);
  }
}

/** Converts many slices; bad ones become errors, the rest convert. Never throws. */
export function fromEndpointSlices(
  slices: Iterable<V1EndpointSlice>,
  opts: EndpointSliceConversionOptions = {},
): BatchResult<EndpointSliceConversion> {
  return convertEach(slices, 'EndpointSlice', (slice) => fromEndpointSlice(slice, opts));
}

/** The backend state for a set of endpoint conditions. */
export function endpointState(conditions: V1EndpointConditions | undefined): BackendState {
  const terminating = conditions?.terminating === true;
  // A ready endpoint is never terminating by the API's rules, so an unset
  // `ready` on a terminating endpoint means not ready.
  const ready = conditions?.ready ?? !terminating;
  const serving = conditions?.serving ?? true;
  if (ready) return 'active';
  if (terminating && serving) return 'terminating';
  return 'maintenance';
}

function convertSlice(slice: V1EndpointSlice, source: string): EndpointSliceConversion {
  const sliceName = objectName(slice.metadata);
  const namespace = sliceName.slice(0, sliceName.indexOf('/'));
  const labelField = `metadata.labels[${JSON.stringify(SERVICE_NAME_LABEL)}]`;
  const service = slice.metadata?.labels?.[SERVICE_NAME_LABEL];
  if (service === undefined || service === null || service === '') throw new FieldError(labelField, 'is required');
  if (typeof service !== 'string' || !/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(service)) {
    throw new FieldError(labelField, 'must be a service name', service);
  }
  const serviceName = `${namespace}/${service}`;
  const addressType = slice.addressType;
  if (addressType === 'FQDN') return { sliceName, serviceName, backends: [] };
  if (addressType !== 'IPv4' && addressType !== 'IPv6') {
    throw new FieldError('addressType', 'must be IPv4, IPv6 or FQDN', addressType);
  }
  const ports = slicePorts(slice);
  const all: Backend[] = [];
  arrayField(slice.endpoints, 'endpoints').forEach((ep, i) => {
    for (const backend of endpointBackends(ep, `endpoints[${i}]`, addressType === 'IPv4' ? 4 : 6, ports, serviceName, source)) all.push(backend);
  });
  if (all.length < 2) return { sliceName, serviceName, backends: all };
  // Canonical address text identifies an address exactly, so it can key
  // the merge; key bytes are only needed to sort several backends.
  const byAddress = new Map<string, Backend>();
  for (const backend of all) {
    const { ip, port, protocol } = backend.address;
    const id = `${ip}|${port}|${protocol}`;
    const seen = byAddress.get(id);
    if (seen === undefined) {
      byAddress.set(id, backend);
    } else {
      // The same address under two port names (or listed twice): one
      // backend serving both names; the first listing's conditions win.
      const portNames = [...new Set([...seen.portNames, ...backend.portNames])].sort();
      byAddress.set(id, { ...seen, portNames });
    }
  }
  const backends = [...byAddress.values()];
  if (backends.length < 2) return { sliceName, serviceName, backends };
  const keyed = backends.map((backend) => ({ backend, key: l3n4AddrKey(backend.address) }));
  keyed.sort((a, b) => compareBytes(a.key, b.key));
  return { sliceName, serviceName, backends: keyed.map((e) => e.backend) };
}

function slicePorts(slice: V1EndpointSlice): SlicePort[] {
  const out: SlicePort[] = [];
  arrayField(slice.ports, 'ports').forEach((p, i) => {
    const field = `ports[${i}]`;
    if (typeof p !== 'object' || p === null) throw new FieldError(field, 'must be an object', p);
    if (p.port === undefined || p.port === null) return;
    const name = p.name ?? '';
    if (typeof name !== 'string') throw new FieldError(`${field}.name`, 'must be a string', name);
    out.push({ name, port: portNumber(p.port, `${field}.port`), protocol: k8sProtocol(p.protocol, `${field}.protocol`) });
  });
  return out;
}

function endpointBackends(
  ep: V1Endpoint,
  field: string,
  family: 4 | 6,
  ports: readonly SlicePort[],
  serviceName: string,
  source: string,
): Backend[] {
  if (typeof ep !== 'object' || ep === null) throw new FieldError(field, 'must be an object', ep);
  const addresses = arrayField(ep.addresses, `${field}.addresses`);
  if (addresses.length === 0) throw new FieldError(`${field}.addresses`, 'must list at least one address');
  const state = endpointState(ep.conditions);
  const nodeName = typeof ep.nodeName === 'string' ? ep.nodeName : '';
  const zone = typeof ep.zone === 'string' ? ep.zone : '';
  const hinted = arrayField(ep.hints?.forZones, `${field}.hints.forZones`);
  const forZones = hinted.length === 0 ? EMPTY_LIST : [...new Set(hinted.map((z) => z.name))].sort();
  const out: Backend[] = [];
  addresses.forEach((raw, j) => {
    const ip = ipField(raw, `${field}.addresses[${j}]`);
    if (ipFamily(ip) !== family) throw new FieldError(`${field}.addresses[${j}]`, `is not an IPv${family} address as addressType says`, raw);
    for (const p of ports) {
      out.push({
        serviceName,
        address: { ip, port: p.port, protocol: p.protocol, scope: 'external' },
        portNames: p.name === '' ? EMPTY_LIST : singleName(p.name),
        weight: DEFAULT_BACKEND_WEIGHT,
        nodeName,
        zone,
        forZones,
        state,
        source,
      });
    }
  });
  return out;
}
