// Named container ports of a pod: what named ports in policy rules resolve to.
import type { V1Pod } from '@kubernetes/client-node';
import { isPortName, k8sProtocol } from '../validate.js';
import type { NamedPort } from './endpoint-policy.js';

/**
 * The named ports of a pod's containers (init containers excluded: they do
 * not serve), sorted by name, protocol and port. Entries the API server
 * would have rejected (bad name, port out of range, unknown protocol) are
 * skipped rather than failing the whole pod. Never throws.
 */
export function namedPortsOfPod(pod: V1Pod): NamedPort[] {
  const out: NamedPort[] = [];
  const containers = Array.isArray(pod?.spec?.containers) ? pod.spec.containers : [];
  for (const c of containers) {
    for (const p of Array.isArray(c?.ports) ? c.ports : []) {
      if (typeof p?.name !== 'string' || !isPortName(p.name)) continue;
      if (!Number.isInteger(p.containerPort) || p.containerPort < 1 || p.containerPort > 65535) continue;
      let protocol: NamedPort['protocol'];
      try {
        protocol = k8sProtocol(p.protocol, 'protocol');
      } catch {
        continue;
      }
      out.push({ name: p.name, port: p.containerPort, protocol });
    }
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0) || (a.protocol < b.protocol ? -1 : a.protocol > b.protocol ? 1 : 0) || a.port - b.port);
}
