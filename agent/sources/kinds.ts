// The Kubernetes kinds the sources read, and how each is addressed: its
// apiVersion, its collection path for list and watch, and whether it is
// namespaced. Objects travel in their wire (JSON) shape, exactly as the API
// server serves them and as YAML files hold them: dates are strings and a
// NetworkPolicy rule keeps `from` (the client's typed models rename it
// `_from`; the converters in tables/ accept both).
import type { V1EndpointSlice, V1Namespace, V1NetworkPolicy, V1Node, V1Pod, V1Service } from '@kubernetes/client-node';

export const KUBE_KINDS = ['Service', 'EndpointSlice', 'NetworkPolicy', 'Pod', 'Namespace', 'Node'] as const;

export type KubeKind = (typeof KUBE_KINDS)[number];

/** The object type of each kind (wire shape; see the file comment). */
export interface KubeObjectByKind {
  Service: V1Service;
  EndpointSlice: V1EndpointSlice;
  NetworkPolicy: V1NetworkPolicy;
  Pod: V1Pod;
  Namespace: V1Namespace;
  Node: V1Node;
}

export type KubeObject = KubeObjectByKind[KubeKind];

export interface KindInfo {
  readonly kind: KubeKind;
  /** `v1`, `discovery.k8s.io/v1`, `networking.k8s.io/v1`. */
  readonly apiVersion: string;
  /** Lower-case plural used in paths, e.g. `endpointslices`. */
  readonly plural: string;
  readonly namespaced: boolean;
  /** The all-namespaces collection, e.g. `/apis/discovery.k8s.io/v1/endpointslices`. */
  readonly path: string;
}

function info(kind: KubeKind, apiVersion: string, plural: string, namespaced: boolean): KindInfo {
  const prefix = apiVersion.includes('/') ? `/apis/${apiVersion}` : `/api/${apiVersion}`;
  return { kind, apiVersion, plural, namespaced, path: `${prefix}/${plural}` };
}

export const KIND_INFO: { readonly [K in KubeKind]: KindInfo } = {
  Service: info('Service', 'v1', 'services', true),
  EndpointSlice: info('EndpointSlice', 'discovery.k8s.io/v1', 'endpointslices', true),
  NetworkPolicy: info('NetworkPolicy', 'networking.k8s.io/v1', 'networkpolicies', true),
  Pod: info('Pod', 'v1', 'pods', true),
  Namespace: info('Namespace', 'v1', 'namespaces', false),
  Node: info('Node', 'v1', 'nodes', false),
};

export function isKubeKind(kind: unknown): kind is KubeKind {
  return typeof kind === 'string' && (KUBE_KINDS as readonly string[]).includes(kind);
}

/** Names one object: namespace is '' for cluster-scoped kinds. */
export interface ObjectRef {
  readonly kind: KubeKind;
  readonly namespace: string;
  readonly name: string;
}

/** The reference of an object of a known kind (missing metadata reads as ''). */
export function refOf(kind: KubeKind, object: KubeObject): ObjectRef {
  return { kind, namespace: object.metadata?.namespace ?? '', name: object.metadata?.name ?? '' };
}

/** A string key unique per object: `Kind/namespace/name`. */
export function objectKey(ref: ObjectRef): string {
  return `${ref.kind}/${ref.namespace}/${ref.name}`;
}

/** `Service default/web`, `Node n1`: how logs and errors name an object. */
export function describeRef(ref: ObjectRef): string {
  return ref.namespace === '' ? `${ref.kind} ${ref.name}` : `${ref.kind} ${ref.namespace}/${ref.name}`;
}
