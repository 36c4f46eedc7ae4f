// kube-proxy-style iptables DNAT rules (iptables mode): one linear
// KUBE-SERVICES chain with a jump per service, a KUBE-SVC chain per service
// and a KUBE-SEP chain per endpoint doing the DNAT. The benchmark compares
// the eBPF hash lookup against this linear first-packet walk.

export interface KubeService {
  vip: string;
  port: number;
  backend: string;
  backendPort: number;
}

/** An iptables-restore input for the nat table with these services, in order
 * (the first packet of a connection walks KUBE-SERVICES top to bottom). */
export function kubeIptablesRestore(services: readonly KubeService[]): string {
  const chains: string[] = [':PREROUTING ACCEPT [0:0]', ':OUTPUT ACCEPT [0:0]', ':KUBE-SERVICES - [0:0]'];
  const rules: string[] = ['-A PREROUTING -j KUBE-SERVICES', '-A OUTPUT -j KUBE-SERVICES'];
  services.forEach((svc, i) => {
    const id = i.toString(16).toUpperCase().padStart(16, '0');
    chains.push(`:KUBE-SVC-${id} - [0:0]`, `:KUBE-SEP-${id} - [0:0]`);
    rules.push(
      `-A KUBE-SERVICES -d ${svc.vip}/32 -p tcp -m tcp --dport ${svc.port} -j KUBE-SVC-${id}`,
      `-A KUBE-SVC-${id} -j KUBE-SEP-${id}`,
      `-A KUBE-SEP-${id} -p tcp -m tcp -j DNAT --to-destination ${svc.backend}:${svc.backendPort}`,
    );
  });
  return ['*nat', ...chains, ...rules, 'COMMIT', ''].join('\n');
}

/** The n-th address of 10.128.0.0/9, for filler services. */
export function fillerAddress(base: number, n: number): string {
  const v = (base + n) >>> 0;
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}
