// Kubernetes Service -> service row + frontends (reference §3).
import type { V1Service, V1ServicePort, V1ServiceSpec } from '@kubernetes/client-node';
import { ConversionError, convertEach, FieldError, type BatchResult } from '../conversion-error.js';
import { compareBytes, ipFamily, unspecifiedIP, type IPFamily } from '../net/ip-address.js';
import {
  arrayField,
  ipField,
  isPortName,
  k8sProtocol,
  nameForErrors,
  objectName,
  portNumber,
  prefixField,
  stringMap,
  type K8sProtocol,
} from '../validate.js';
import type { FrontendParams, FrontendType } from './frontend.js';
import { EMPTY_LIST, sharedIfEmpty, sharedListIfEmpty } from './shared-values.js';
import { l3n4AddrKey, type Scope } from './l3n4-addr.js';
import {
  DEFAULT_AFFINITY_TIMEOUT_SECONDS,
  HEADLESS_LABEL,
  LB_ALGORITHM_ANNOTATIONS,
  SOURCE_RANGES_POLICY_ANNOTATION,
  type LBAlgorithm,
  type Service,
  type ServiceType,
  type TrafficPolicy,
} from './service.js';

export interface ServiceConversionOptions {
  /** The row's source; default `k8s`. */
  readonly source?: string;
  /**
   * Emit NodePort surrogate frontends for NodePort and LoadBalancer services
   * (kube-proxy replacement). Default true.
   */
  readonly nodePort?: boolean;
}

/** A service row and its frontends, sorted by address key. */
export interface ServiceConversion {
  readonly service: Service;
  readonly frontends: readonly FrontendParams[];
}

interface ParsedPort {
  readonly name: string;
  readonly port: number;
  readonly protocol: K8sProtocol;
  readonly nodePort: number;
}

const TOPOLOGY_MODE_ANNOTATIONS = ['service.kubernetes.io/topology-mode', 'service.kubernetes.io/topology-aware-hints'];

/**
 * Converts a Service. Frontends, one per (address, port, scope):
 * ClusterIP(s); a `0.0.0.0:nodePort` / `[::]:nodePort` surrogate per IP
 * family for NodePort and LoadBalancer (expanded to node addresses by
 * expandNodePort); LoadBalancer ingress IPs (not ipMode Proxy);
 * externalIPs. NodePort and LoadBalancer frontends get a second,
 * internal-scope frontend when exactly one traffic policy is Local.
 * Headless and ExternalName services get a row and no frontends.
 * Throws ConversionError (only) naming the object and field.
 */
export function fromService(svc: V1Service, opts: ServiceConversionOptions = {}): ServiceConversion {
  try {
    return convertService(svc, opts);
  } catch (err) {
    throw ConversionError.from('Service', nameForErrors(svc?.metadata), err);
  }
}

/** Converts many services; bad ones become errors, the rest convert. Never throws. */
export function fromServices(svcs: Iterable<V1Service>, opts: ServiceConversionOptions = {}): BatchResult<ServiceConversion> {
  return convertEach(svcs, 'Service', (svc) => fromService(svc, opts));
}

function convertService(svc: V1Service, opts: ServiceConversionOptions): ServiceConversion {
  const name = objectName(svc.metadata);
  const spec: V1ServiceSpec = svc.spec ?? {};
  const labels = sharedIfEmpty(stringMap(svc.metadata?.labels, 'metadata.labels'));
  const annotations = sharedIfEmpty(stringMap(svc.metadata?.annotations, 'metadata.annotations'));
  const type = serviceType(spec.type);
  const extTrafficPolicy = trafficPolicy(spec.externalTrafficPolicy, 'spec.externalTrafficPolicy');
  const intTrafficPolicy = trafficPolicy(spec.internalTrafficPolicy, 'spec.internalTrafficPolicy');
  const ports = parsePorts(spec.ports);
  const clusterIPs = parseClusterIPs(spec);
  const affinityTimeout = sessionAffinityTimeout(spec);
  const rawRanges = arrayField(spec.loadBalancerSourceRanges, 'spec.loadBalancerSourceRanges');
  const sourceRanges =
    rawRanges.length === 0 ? EMPTY_LIST : [...new Set(rawRanges.map((p, i) => prefixField(p, `spec.loadBalancerSourceRanges[${i}]`)))].sort();
  const portNames: Record<string, number> = {};
  for (const p of ports) if (p.name !== '') portNames[p.name] = p.port;
  const lbAlgorithm = lbAlgorithmAnnotation(annotations);
  const service: Service = {
    name,
    namespace: name.slice(0, name.indexOf('/')),
    source: opts.source ?? 'k8s',
    type,
    labels,
    annotations,
    selector: sharedIfEmpty(stringMap(spec.selector, 'spec.selector')),
    extTrafficPolicy,
    intTrafficPolicy,
    sessionAffinity: affinityTimeout > 0,
    sessionAffinityTimeoutSeconds: affinityTimeout,
    sourceRanges: sharedListIfEmpty(sourceRanges),
    sourceRangesPolicy: annotations[SOURCE_RANGES_POLICY_ANNOTATION] === 'deny' ? 'deny' : 'allow',
    portNames,
    ...(lbAlgorithm === undefined ? {} : { lbAlgorithm }),
    headless: clusterIPs.headless || HEADLESS_LABEL in labels,
    healthCheckNodePort: spec.healthCheckNodePort ? portNumber(spec.healthCheckNodePort, 'spec.healthCheckNodePort') : 0,
    loadBalancerClass: typeof spec.loadBalancerClass === 'string' ? spec.loadBalancerClass : '',
    trafficDistribution: intTrafficPolicy === 'Local' ? '' : trafficDistribution(spec, annotations),
  };
  if (service.headless || type === 'ExternalName') return { service, frontends: [] };
  const frontends = buildFrontends(service, spec, ports, clusterIPs.ips, svc, opts.nodePort ?? true);
  return { service, frontends };
}

function serviceType(value: unknown): ServiceType {
  if (value === undefined || value === null || value === '') return 'ClusterIP';
  if (value === 'ClusterIP' || value === 'NodePort' || value === 'LoadBalancer' || value === 'ExternalName') return value;
  throw new FieldError('spec.type', 'must be ClusterIP, NodePort, LoadBalancer or ExternalName', value);
}

function trafficPolicy(value: unknown, field: string): TrafficPolicy {
  if (value === undefined || value === null || value === '' || value === 'Cluster') return 'Cluster';
  if (value === 'Local') return 'Local';
  throw new FieldError(field, 'must be Cluster or Local', value);
}

function sessionAffinityTimeout(spec: V1ServiceSpec): number {
  const affinity = spec.sessionAffinity;
  if (affinity === undefined || affinity === null || affinity === '' || affinity === 'None') return 0;
  if (affinity !== 'ClientIP') throw new FieldError('spec.sessionAffinity', 'must be None or ClientIP', affinity);
  const timeout = spec.sessionAffinityConfig?.clientIP?.timeoutSeconds;
  if (timeout === undefined || timeout === null) return DEFAULT_AFFINITY_TIMEOUT_SECONDS;
  // Kubernetes allows up to one day; the datapath keeps 24 bits of seconds.
  if (!Number.isInteger(timeout) || timeout < 1 || timeout > 86400) {
    throw new FieldError('spec.sessionAffinityConfig.clientIP.timeoutSeconds', 'must be an integer in 1..86400', timeout);
  }
  return timeout;
}

function parsePorts(value: V1ServicePort[] | undefined): ParsedPort[] {
  const seenNames = new Set<string>();
  return arrayField(value, 'spec.ports').map((p, i) => {
    const field = `spec.ports[${i}]`;
    if (typeof p !== 'object' || p === null) throw new FieldError(field, 'must be an object', p);
    const name = p.name ?? '';
    if (typeof name !== 'string' || (name !== '' && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(name))) {
      throw new FieldError(`${field}.name`, 'must be a DNS label', name);
    }
    if (seenNames.has(name)) {
      if (name === '') throw new FieldError(`${field}.name`, 'is required when a service has several ports');
      throw new FieldError(`${field}.name`, 'is used by another port', name);
    }
    seenNames.add(name);
    // The target port only matters to whoever writes the EndpointSlices,
    // but a malformed one says the object is broken: reject it here.
    const target = p.targetPort;
    if (typeof target === 'string') {
      if (!isPortName(target)) throw new FieldError(`${field}.targetPort`, 'must be a port number or a port name (IANA_SVC_NAME)', target);
    } else if (target !== undefined && target !== null) {
      portNumber(target, `${field}.targetPort`);
    }
    return {
      name,
      port: portNumber(p.port, `${field}.port`),
      protocol: k8sProtocol(p.protocol, `${field}.protocol`),
      nodePort: p.nodePort === undefined || p.nodePort === null ? 0 : portNumber(p.nodePort, `${field}.nodePort`, true),
    };
  });
}

// No closures are created per call on this path: under tsx every named
// closure costs a defineProperty (keepNames), about a microsecond each.
function parseClusterIPs(spec: V1ServiceSpec): { headless: boolean; ips: string[] } {
  const listed = spec.clusterIPs !== undefined && spec.clusterIPs !== null;
  const raw = listed ? arrayField(spec.clusterIPs, 'spec.clusterIPs') : spec.clusterIP ? [spec.clusterIP] : [];
  if (raw.includes('None') || spec.clusterIP === 'None') return { headless: true, ips: [] };
  const ips: string[] = [];
  for (let i = 0; i < raw.length; i++) {
    const ip = raw[i]!;
    if (ip === '') continue;
    const canonical = ipField(ip, listed ? `spec.clusterIPs[${i}]` : 'spec.clusterIP');
    if (!ips.includes(canonical)) ips.push(canonical);
  }
  return { headless: false, ips: sortIPs(ips) };
}

function lbAlgorithmAnnotation(annotations: Readonly<Record<string, string>>): LBAlgorithm | undefined {
  for (const key of LB_ALGORITHM_ANNOTATIONS) {
    const value = annotations[key];
    if (value === undefined) continue;
    if (value === 'random' || value === 'maglev') return value;
    throw new FieldError(`metadata.annotations[${JSON.stringify(key)}]`, 'must be random or maglev', value);
  }
  return undefined;
}

function trafficDistribution(spec: V1ServiceSpec, annotations: Readonly<Record<string, string>>): string {
  if (typeof spec.trafficDistribution === 'string' && spec.trafficDistribution !== '') return spec.trafficDistribution;
  const auto = TOPOLOGY_MODE_ANNOTATIONS.some((k) => annotations[k]?.toLowerCase() === 'auto');
  return auto ? 'PreferClose' : '';
}

/** IP families a NodePort surrogate is needed for: spec.ipFamilies, else the cluster IPs' families, else IPv4. */
function serviceFamilies(spec: V1ServiceSpec, clusterIPs: readonly string[]): IPFamily[] {
  const listed = arrayField(spec.ipFamilies, 'spec.ipFamilies').map((f, i): IPFamily => {
    if (f === 'IPv4') return 4;
    if (f === 'IPv6') return 6;
    throw new FieldError(`spec.ipFamilies[${i}]`, 'must be IPv4 or IPv6', f);
  });
  const families = listed.length > 0 ? listed : clusterIPs.map(ipFamily);
  return families.length > 0 ? [...new Set(families)] : [4];
}

function buildFrontends(
  service: Service,
  spec: V1ServiceSpec,
  ports: readonly ParsedPort[],
  clusterIPs: readonly string[],
  svc: V1Service,
  nodePortEnabled: boolean,
): FrontendParams[] {
  const twoScopes = (service.extTrafficPolicy === 'Local') !== (service.intTrafficPolicy === 'Local');
  const scopes: readonly Scope[] = twoScopes ? ['external', 'internal'] : ['external'];
  const out: FrontendParams[] = [];
  const add = addFrontends.bind(null, out, service.name);
  const lbIPs = service.type === 'LoadBalancer' ? loadBalancerIPs(svc) : [];
  const externalIPs = sortIPs(arrayField(spec.externalIPs, 'spec.externalIPs').map((ip, i) => ipField(ip, `spec.externalIPs[${i}]`)));
  const families = serviceFamilies(spec, clusterIPs);
  for (const p of ports) {
    for (const ip of clusterIPs) add('ClusterIP', ip, p.port, p, ['external']);
    if (nodePortEnabled && p.nodePort !== 0 && (service.type === 'NodePort' || service.type === 'LoadBalancer')) {
      for (const family of families) add('NodePort', unspecifiedIP(family), p.nodePort, p, scopes);
    }
    for (const ip of lbIPs) add('LoadBalancer', ip, p.port, p, scopes);
    for (const ip of externalIPs) add('ExternalIPs', ip, p.port, p, ['external']);
  }
  return sortAndDedupe(out);
}

function addFrontends(
  out: FrontendParams[],
  serviceName: string,
  type: FrontendType,
  ip: string,
  port: number,
  p: ParsedPort,
  withScopes: readonly Scope[],
): void {
  for (const scope of withScopes) {
    out.push({ address: { ip, port, protocol: p.protocol, scope }, type, serviceName, portName: p.name, servicePort: p.port });
  }
}

function loadBalancerIPs(svc: V1Service): string[] {
  const ingress = arrayField(svc.status?.loadBalancer?.ingress, 'status.loadBalancer.ingress');
  const ips: string[] = [];
  ingress.forEach((entry, i) => {
    // ipMode Proxy: the load balancer proxies to the nodes itself, so the
    // VIP must not be short-circuited on the node.
    if (entry.ipMode !== undefined && entry.ipMode !== null && entry.ipMode !== 'VIP') return;
    if (entry.ip === undefined || entry.ip === null || entry.ip === '') return; // hostname-only entries
    ips.push(ipField(entry.ip, `status.loadBalancer.ingress[${i}].ip`));
  });
  return sortIPs([...new Set(ips)]);
}

function sortIPs(ips: string[]): string[] {
  if (ips.length < 2) return ips;
  return ips.sort((a, b) => compareBytes(l3n4AddrKey({ ip: a, port: 0, protocol: 'ANY', scope: 'external' }), l3n4AddrKey({ ip: b, port: 0, protocol: 'ANY', scope: 'external' })));
}

/**
 * Sorts by address key and keeps the first frontend of each key: an address
 * listed twice (an external IP that is also an ingress IP) is one frontend,
 * owned by the earlier, more specific type.
 */
function sortAndDedupe(frontends: FrontendParams[]): FrontendParams[] {
  if (frontends.length < 2) return frontends;
  const keyed = frontends.map((fe, order) => ({ fe, order, key: l3n4AddrKey(fe.address) }));
  keyed.sort((a, b) => compareBytes(a.key, b.key) || a.order - b.order);
  const out: FrontendParams[] = [];
  let previous: Uint8Array | undefined;
  for (const { fe, key } of keyed) {
    if (previous !== undefined && compareBytes(previous, key) === 0) continue;
    out.push(fe);
    previous = key;
  }
  return out;
}
