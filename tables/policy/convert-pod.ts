// Kubernetes Pod -> endpoint row. Every running pod with an IP becomes a
// row: a local one (on this node) is enforced at its host-side interface, a
// remote one is a peer and an ipcache entry. Host-network pods are the node
// itself, and finished pods hold no address: neither is an endpoint.
import type { V1Pod } from '@kubernetes/client-node';
import { ConversionError, FieldError } from '../conversion-error.js';
import { ipField, nameForErrors, objectName, stringMap } from '../validate.js';
import { isLabelKey, isLabelValue } from './label-selector.js';
import { systemInterfaceResolver, type InterfaceResolver } from './host-interface.js';
import type { EndpointRow } from './policy-tables.js';
import { namedPortsOfPod } from './pod-ports.js';

/** Names a local pod's host-side interface explicitly (else the host route to its IP decides). */
export const HOST_INTERFACE_ANNOTATION = 'flagella.io/host-interface';

export interface PodConversionOptions {
  /** This node's name: pods whose spec.nodeName equals it are local. */
  readonly nodeName: string;
  /** Finds host-side interfaces (default: this machine's /sys and /proc/net/route). */
  readonly interfaces?: InterfaceResolver;
}

/**
 * The endpoint row of a pod, or null when the pod is no endpoint (host
 * network, no IP yet, Succeeded or Failed). `identity` is 0: the policy
 * controller assigns it. A local pod's interface comes from the
 * flagella.io/host-interface annotation, else from the host route to its
 * first IPv4 address; an interface that does not exist (yet) has ifindex 0,
 * none found is null; either way the pod is not enforced until it is
 * known. Throws ConversionError naming the pod and field: bad name, labels,
 * IP or annotation.
 */
export function fromPod(pod: V1Pod, opts: PodConversionOptions): EndpointRow | null {
  try {
    return convertPod(pod, opts);
  } catch (err) {
    throw ConversionError.from('Pod', nameForErrors(pod?.metadata), err);
  }
}

function convertPod(pod: V1Pod, opts: PodConversionOptions): EndpointRow | null {
  const id = objectName(pod.metadata);
  const slash = id.indexOf('/');
  if (pod.spec?.hostNetwork === true) return null;
  const phase = pod.status?.phase;
  if (phase === 'Succeeded' || phase === 'Failed') return null;
  const ips = podIPs(pod);
  if (ips.length === 0) return null;
  const labels = stringMap(pod.metadata?.labels, 'metadata.labels');
  for (const [k, v] of Object.entries(labels)) {
    if (!isLabelKey(k)) throw new FieldError(`metadata.labels[${JSON.stringify(k)}]`, 'is not a valid label key', k);
    if (!isLabelValue(v)) throw new FieldError(`metadata.labels[${JSON.stringify(k)}]`, 'is not a valid label value', v);
  }
  const node = typeof pod.spec?.nodeName === 'string' ? pod.spec.nodeName : '';
  const local = node !== '' && node === opts.nodeName;
  return {
    id,
    namespace: id.slice(0, slash),
    podName: id.slice(slash + 1),
    node,
    local,
    ips,
    labels,
    namedPorts: namedPortsOfPod(pod),
    hostInterface: local ? hostInterface(pod, ips, opts.interfaces ?? systemInterfaceResolver) : null,
    identity: 0,
  };
}

/** status.podIPs (or status.podIP), canonical, deduplicated, in the pod's order. */
function podIPs(pod: V1Pod): string[] {
  const out: string[] = [];
  const listed = pod.status?.podIPs;
  if (listed !== undefined && listed !== null) {
    if (!Array.isArray(listed)) throw new FieldError('status.podIPs', 'must be a list', listed);
    listed.forEach((entry, i) => out.push(ipField(entry?.ip, `status.podIPs[${i}].ip`)));
  }
  const single = pod.status?.podIP;
  if (out.length === 0 && single !== undefined && single !== null && single !== '') out.push(ipField(single, 'status.podIP'));
  return [...new Set(out)];
}

function hostInterface(pod: V1Pod, ips: readonly string[], interfaces: InterfaceResolver): EndpointRow['hostInterface'] {
  const annotated = pod.metadata?.annotations?.[HOST_INTERFACE_ANNOTATION];
  let name: string | undefined;
  if (annotated !== undefined) {
    if (typeof annotated !== 'string' || !/^[^/\s:]{1,15}$/.test(annotated)) {
      throw new FieldError(`metadata.annotations[${JSON.stringify(HOST_INTERFACE_ANNOTATION)}]`, 'must be an interface name (1-15 characters, no "/", ":" or spaces)', annotated);
    }
    name = annotated;
  } else {
    for (const ip of ips) {
      name = interfaces.routeInterface(ip);
      if (name !== undefined) break;
    }
  }
  if (name === undefined) return null;
  return { name, ifindex: interfaces.ifindex(name) ?? 0 };
}
