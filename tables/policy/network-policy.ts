// networking.k8s.io/v1 NetworkPolicy -> a validated rule model. The model
// keeps Kubernetes' meaning explicit: `'any'` where the API uses an empty
// list to mean "all", and the policy types after defaulting.
import type { V1NetworkPolicy, V1NetworkPolicyIngressRule, V1NetworkPolicyPeer, V1NetworkPolicyPort } from '@kubernetes/client-node';
import { ConversionError, convertEach, FieldError, type BatchResult } from '../conversion-error.js';
import { parsePrefix, prefixContains } from '../net/prefix.js';
import { arrayField, isPortName, k8sProtocol, nameForErrors, objectName, prefixField, type K8sProtocol } from '../validate.js';
import { parseLabelSelector, type LabelSelector } from './label-selector.js';

export type PolicyProtocol = K8sProtocol;
export type PolicyType = 'Ingress' | 'Egress';

/** Pods picked by labels: in the policy's namespace (namespaceSelector null) or in every namespace the selector picks. */
export interface PodsPeer {
  readonly kind: 'pods';
  /** Select-all when the API object gave only a namespaceSelector. */
  readonly podSelector: LabelSelector;
  /** null: the policy's own namespace. */
  readonly namespaceSelector: LabelSelector | null;
}

/** Addresses in `cidr` outside every `except` (each strictly inside cidr). Prefixes are canonical. */
export interface IPBlockPeer {
  readonly kind: 'ipBlock';
  readonly cidr: string;
  readonly except: readonly string[];
}

export type PolicyPeer = PodsPeer | IPBlockPeer;

/**
 * One ports entry: a protocol with every port (`port` null), one numbered
 * port, a numbered range [port, endPort], or a named port resolved on the
 * destination pod.
 */
export interface PolicyPort {
  readonly protocol: PolicyProtocol;
  readonly port: number | string | null;
  /** Only with a numbered port; >= port. null: just `port`. */
  readonly endPort: number | null;
}

/** One ingress or egress rule: traffic matching any peer and any port is allowed. */
export interface PolicyRule {
  /** 'any': the rule's from/to list was empty or absent. */
  readonly peers: 'any' | readonly PolicyPeer[];
  /** 'any': the ports list was empty or absent. */
  readonly ports: 'any' | readonly PolicyPort[];
}

/** A policy row: readonly plain data, JSON-serialisable. */
export interface NetworkPolicy {
  /** `namespace/name`. */
  readonly name: string;
  readonly namespace: string;
  /** Pods in `namespace` this policy applies to. */
  readonly podSelector: LabelSelector;
  /** After defaulting: Ingress always unless listed otherwise; Egress when listed or when egress rules exist. */
  readonly policyTypes: readonly PolicyType[];
  /** Empty while Ingress is a policy type: deny all ingress. Empty (ignored) when it is not. */
  readonly ingress: readonly PolicyRule[];
  readonly egress: readonly PolicyRule[];
}

/**
 * Validates and converts a NetworkPolicy. Throws ConversionError (only)
 * naming the policy, the field path and the value: invalid CIDR or except
 * outside its cidr, unknown protocol, named port with endPort, endPort
 * below port, invalid selector, a peer with nothing or with ipBlock next to
 * a selector.
 */
export function fromNetworkPolicy(policy: V1NetworkPolicy): NetworkPolicy {
  try {
    return convertPolicy(policy);
  } catch (err) {
    throw ConversionError.from('NetworkPolicy', nameForErrors(policy?.metadata), err);
  }
}

/** Converts many policies; bad ones become errors, the rest convert. Never throws. */
export function fromNetworkPolicies(policies: Iterable<V1NetworkPolicy>): BatchResult<NetworkPolicy> {
  return convertEach(policies, 'NetworkPolicy', fromNetworkPolicy);
}

function convertPolicy(policy: V1NetworkPolicy): NetworkPolicy {
  const name = objectName(policy.metadata);
  const spec = policy.spec ?? {};
  const podSelector = parseLabelSelector(spec.podSelector, 'spec.podSelector');
  const ingressRules = arrayField(spec.ingress, 'spec.ingress');
  const egressRules = arrayField(spec.egress, 'spec.egress');
  const policyTypes = defaultPolicyTypes(spec.policyTypes, egressRules.length > 0);
  const ingress = policyTypes.includes('Ingress')
    ? ingressRules.map((r, i) => parseRule(ingressPeers(r), r?.ports, `spec.ingress[${i}]`, 'from'))
    : [];
  const egress = policyTypes.includes('Egress')
    ? egressRules.map((r, i) => parseRule(r?.to, r?.ports, `spec.egress[${i}]`, 'to'))
    : [];
  return { name, namespace: name.slice(0, name.indexOf('/')), podSelector, policyTypes, ingress, egress };
}

/**
 * `from` in the wire format and in YAML; the client library's typed model
 * renames it `_from` (a reserved word in its generator), so accept both.
 */
function ingressPeers(rule: V1NetworkPolicyIngressRule | undefined): V1NetworkPolicyPeer[] | undefined {
  if (rule === undefined || rule === null) return undefined;
  return rule._from ?? (rule as { from?: V1NetworkPolicyPeer[] }).from;
}

function defaultPolicyTypes(value: string[] | undefined, hasEgress: boolean): PolicyType[] {
  const listed = arrayField(value, 'spec.policyTypes');
  if (listed.length === 0) return hasEgress ? ['Ingress', 'Egress'] : ['Ingress'];
  const types = new Set<PolicyType>();
  listed.forEach((t, i) => {
    if (t !== 'Ingress' && t !== 'Egress') throw new FieldError(`spec.policyTypes[${i}]`, 'must be Ingress or Egress', t);
    types.add(t);
  });
  return (['Ingress', 'Egress'] as const).filter((t) => types.has(t));
}

function parseRule(
  peers: V1NetworkPolicyPeer[] | undefined,
  ports: V1NetworkPolicyPort[] | undefined,
  field: string,
  peersName: 'from' | 'to',
): PolicyRule {
  const peerList = arrayField(peers, `${field}.${peersName}`);
  const portList = arrayField(ports, `${field}.ports`);
  return {
    peers: peerList.length === 0 ? 'any' : peerList.map((p, i) => parsePeer(p, `${field}.${peersName}[${i}]`)),
    ports: portList.length === 0 ? 'any' : portList.map((p, i) => parsePort(p, `${field}.ports[${i}]`)),
  };
}

function parsePeer(peer: V1NetworkPolicyPeer, field: string): PolicyPeer {
  if (typeof peer !== 'object' || peer === null) throw new FieldError(field, 'must be an object', peer);
  const hasPods = peer.podSelector !== undefined && peer.podSelector !== null;
  const hasNamespaces = peer.namespaceSelector !== undefined && peer.namespaceSelector !== null;
  if (peer.ipBlock !== undefined && peer.ipBlock !== null) {
    if (hasPods || hasNamespaces) throw new FieldError(field, 'ipBlock cannot be combined with podSelector or namespaceSelector');
    return parseIPBlock(peer.ipBlock, `${field}.ipBlock`);
  }
  if (!hasPods && !hasNamespaces) throw new FieldError(field, 'must set podSelector, namespaceSelector or ipBlock');
  return {
    kind: 'pods',
    podSelector: parseLabelSelector(peer.podSelector, `${field}.podSelector`),
    namespaceSelector: hasNamespaces ? parseLabelSelector(peer.namespaceSelector, `${field}.namespaceSelector`) : null,
  };
}

function parseIPBlock(block: { cidr?: unknown; except?: unknown }, field: string): IPBlockPeer {
  const cidr = prefixField(block.cidr, `${field}.cidr`);
  const outer = parsePrefix(cidr);
  const except = arrayField(block.except as string[] | undefined, `${field}.except`).map((e, i) => {
    const at = `${field}.except[${i}]`;
    const canonical = prefixField(e, at);
    const inner = parsePrefix(canonical);
    if (!prefixContains(outer, inner) || inner.bits === outer.bits) {
      throw new FieldError(at, `must be strictly inside cidr ${cidr}`, e);
    }
    return canonical;
  });
  return { kind: 'ipBlock', cidr, except: [...new Set(except)].sort() };
}

function parsePort(port: V1NetworkPolicyPort, field: string): PolicyPort {
  if (typeof port !== 'object' || port === null) throw new FieldError(field, 'must be an object', port);
  const protocol = k8sProtocol(port.protocol, `${field}.protocol`);
  const value = port.port;
  const end = port.endPort;
  const hasEnd = end !== undefined && end !== null;
  if (value === undefined || value === null) {
    if (hasEnd) throw new FieldError(`${field}.endPort`, 'requires port to be set', end);
    return { protocol, port: null, endPort: null };
  }
  if (typeof value === 'string') {
    if (!isPortName(value)) throw new FieldError(`${field}.port`, 'must be a port number or a port name (IANA_SVC_NAME)', value);
    if (hasEnd) throw new FieldError(`${field}.endPort`, 'requires a numbered port, not the named port', value);
    return { protocol, port: value, endPort: null };
  }
  if (!Number.isInteger(value) || value < 1 || value > 65535) throw new FieldError(`${field}.port`, 'must be an integer in 1..65535', value);
  if (!hasEnd) return { protocol, port: value, endPort: null };
  if (!Number.isInteger(end) || end < value || end > 65535) {
    throw new FieldError(`${field}.endPort`, `must be an integer in ${value}..65535 (port..65535)`, end);
  }
  return { protocol, port: value, endPort: end };
}
