// Service -> service row + frontends, one rule per case (reference §3,
// issue 5). Frontends are compared in a compact one-line form:
// `<address> <type> <portName>:<servicePort>`.
import type { V1Service } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { formatL3n4Addr, fromService, type FrontendParams, type ServiceConversionOptions } from '../../tables/index.js';

function svc(yaml: string): V1Service {
  return parse(yaml) as V1Service;
}
function lines(frontends: readonly FrontendParams[]): string[] {
  return frontends.map((f) => `${formatL3n4Addr(f.address)} ${f.type} ${f.portName}:${f.servicePort}`);
}
function frontendsOf(yaml: string, opts?: ServiceConversionOptions): string[] {
  return lines(fromService(svc(yaml), opts).frontends);
}

const fe = suite('frontends');

fe('ClusterIP: one frontend per cluster IP and port, sorted by address', () => {
  const out = fromService(
    svc(`
metadata: { name: web, namespace: shop }
spec:
  clusterIP: 10.96.0.20
  clusterIPs: [fd00::20, 10.96.0.20]
  ipFamilies: [IPv6, IPv4]
  ports:
    - { name: http, port: 80, targetPort: 8080 }
    - { name: dns, port: 53, protocol: UDP, targetPort: dns }
`),
  );
  assert.equal(lines(out.frontends), [
    '10.96.0.20:53/UDP ClusterIP dns:53',
    '10.96.0.20:80/TCP ClusterIP http:80',
    '[fd00::20]:53/UDP ClusterIP dns:53',
    '[fd00::20]:80/TCP ClusterIP http:80',
  ]);
  assert.ok(out.frontends.every((f) => f.serviceName === 'shop/web'));
});

fe('clusterIP alone is used when clusterIPs is absent', () => {
  assert.equal(frontendsOf(`
metadata: { name: a, namespace: d }
spec: { clusterIP: 10.0.0.1, ports: [{ port: 443 }] }
`), ['10.0.0.1:443/TCP ClusterIP :443']);
});

fe('NodePort: a 0.0.0.0 surrogate per family next to the ClusterIP', () => {
  assert.equal(frontendsOf(`
metadata: { name: np, namespace: d }
spec:
  type: NodePort
  clusterIPs: [10.0.0.5, fd00::5]
  ipFamilies: [IPv4, IPv6]
  ports: [{ name: http, port: 80, nodePort: 30080 }]
`), [
    // Key order: `::` is all zeroes, below every IPv4-mapped address.
    '[::]:30080/TCP NodePort http:80',
    '0.0.0.0:30080/TCP NodePort http:80',
    '10.0.0.5:80/TCP ClusterIP http:80',
    '[fd00::5]:80/TCP ClusterIP http:80',
  ]);
});

fe('NodePort surrogates are left out without kube-proxy replacement', () => {
  assert.equal(
    frontendsOf(`
metadata: { name: np, namespace: d }
spec: { type: NodePort, clusterIP: 10.0.0.5, ports: [{ port: 80, nodePort: 30080 }] }
`, { nodePort: false }),
    ['10.0.0.5:80/TCP ClusterIP :80'],
  );
});

fe('LoadBalancer: ingress IPs (ipMode Proxy and hostnames skipped), NodePort surrogate', () => {
  assert.equal(frontendsOf(`
metadata: { name: lb, namespace: d }
spec:
  type: LoadBalancer
  clusterIP: 10.0.0.7
  ports: [{ port: 443, nodePort: 31443 }]
status:
  loadBalancer:
    ingress:
      - { ip: 203.0.113.9 }
      - { ip: 203.0.113.10, ipMode: VIP }
      - { ip: 203.0.113.11, ipMode: Proxy }
      - { hostname: lb.example.com }
`), [
    '0.0.0.0:31443/TCP NodePort :443',
    '10.0.0.7:443/TCP ClusterIP :443',
    '203.0.113.9:443/TCP LoadBalancer :443',
    '203.0.113.10:443/TCP LoadBalancer :443',
  ]);
});

fe('ingress IPs of a service that is not type LoadBalancer are ignored', () => {
  assert.equal(frontendsOf(`
metadata: { name: c, namespace: d }
spec: { clusterIP: 10.0.0.7, ports: [{ port: 443 }] }
status: { loadBalancer: { ingress: [{ ip: 203.0.113.9 }] } }
`), ['10.0.0.7:443/TCP ClusterIP :443']);
});

fe('ExternalIPs, external scope only even with mixed traffic policies', () => {
  assert.equal(frontendsOf(`
metadata: { name: ext, namespace: d }
spec:
  clusterIP: 10.0.0.8
  externalIPs: [198.51.100.2, 198.51.100.1]
  externalTrafficPolicy: Local
  ports: [{ port: 8080 }]
`), [
    '10.0.0.8:8080/TCP ClusterIP :8080',
    '198.51.100.1:8080/TCP ExternalIPs :8080',
    '198.51.100.2:8080/TCP ExternalIPs :8080',
  ]);
});

fe('an external IP that is also an ingress IP is one LoadBalancer frontend', () => {
  assert.equal(frontendsOf(`
metadata: { name: both, namespace: d }
spec:
  type: LoadBalancer
  clusterIP: 10.0.0.9
  externalIPs: [203.0.113.9]
  ports: [{ port: 80 }]
status: { loadBalancer: { ingress: [{ ip: 203.0.113.9 }] } }
`), ['10.0.0.9:80/TCP ClusterIP :80', '203.0.113.9:80/TCP LoadBalancer :80']);
});

fe('two scopes: ETP Local, ITP Cluster adds internal frontends for NodePort and LoadBalancer', () => {
  assert.equal(frontendsOf(`
metadata: { name: tp, namespace: d }
spec:
  type: LoadBalancer
  clusterIP: 10.0.0.10
  externalTrafficPolicy: Local
  ports: [{ port: 80, nodePort: 30001 }]
status: { loadBalancer: { ingress: [{ ip: 203.0.113.1 }] } }
`), [
    '0.0.0.0:30001/TCP NodePort :80',
    '0.0.0.0:30001/TCP/i NodePort :80',
    '10.0.0.10:80/TCP ClusterIP :80',
    '203.0.113.1:80/TCP LoadBalancer :80',
    '203.0.113.1:80/TCP/i LoadBalancer :80',
  ]);
});

fe('two scopes also for ETP Cluster, ITP Local; one scope when both are Local', () => {
  const base = (etp: string, itp: string) => `
metadata: { name: tp, namespace: d }
spec:
  type: LoadBalancer
  clusterIP: 10.0.0.10
  externalTrafficPolicy: ${etp}
  internalTrafficPolicy: ${itp}
  ports: [{ port: 80 }]
status: { loadBalancer: { ingress: [{ ip: 203.0.113.1 }] } }
`;
  assert.equal(frontendsOf(base('Cluster', 'Local')), [
    '10.0.0.10:80/TCP ClusterIP :80',
    '203.0.113.1:80/TCP LoadBalancer :80',
    '203.0.113.1:80/TCP/i LoadBalancer :80',
  ]);
  assert.equal(frontendsOf(base('Local', 'Local')), ['10.0.0.10:80/TCP ClusterIP :80', '203.0.113.1:80/TCP LoadBalancer :80']);
});

fe('TCP, UDP and SCTP on the same port are distinct frontends', () => {
  assert.equal(frontendsOf(`
metadata: { name: multi, namespace: d }
spec:
  clusterIP: 10.0.0.11
  ports:
    - { name: t, port: 5000, protocol: TCP }
    - { name: u, port: 5000, protocol: UDP }
    - { name: s, port: 5000, protocol: SCTP }
`), ['10.0.0.11:5000/SCTP ClusterIP s:5000', '10.0.0.11:5000/TCP ClusterIP t:5000', '10.0.0.11:5000/UDP ClusterIP u:5000']);
});

fe('headless services (clusterIP None or the headless label) and ExternalName have no frontends', () => {
  for (const yaml of [
    `metadata: { name: h, namespace: d }
spec: { clusterIP: None, ports: [{ port: 80 }] }`,
    `metadata: { name: h, namespace: d, labels: { service.kubernetes.io/headless: "" } }
spec: { clusterIP: 10.0.0.12, ports: [{ port: 80 }] }`,
    `metadata: { name: h, namespace: d }
spec: { type: ExternalName, externalName: db.example.com, ports: [{ port: 80 }] }`,
  ]) {
    const out = fromService(svc(yaml));
    assert.equal(out.frontends, []);
    assert.is(out.service.name, 'd/h');
  }
  assert.ok(fromService(svc(`metadata: { name: h, namespace: d }\nspec: { clusterIP: None }`)).service.headless);
});

fe('a service without a cluster IP yet has no ClusterIP frontend', () => {
  assert.equal(frontendsOf(`
metadata: { name: pending, namespace: d }
spec: { clusterIP: "", ports: [{ port: 80 }] }
`), []);
});

const row = suite('service row');

row('defaults', () => {
  const { service } = fromService(svc(`
metadata: { name: web, namespace: shop }
spec: { clusterIP: 10.0.0.1, ports: [{ port: 80 }] }
`));
  assert.equal(service, {
    name: 'shop/web',
    namespace: 'shop',
    source: 'k8s',
    type: 'ClusterIP',
    labels: {},
    annotations: {},
    selector: {},
    extTrafficPolicy: 'Cluster',
    intTrafficPolicy: 'Cluster',
    sessionAffinity: false,
    sessionAffinityTimeoutSeconds: 0,
    sourceRanges: [],
    sourceRangesPolicy: 'allow',
    portNames: {},
    headless: false,
    healthCheckNodePort: 0,
    loadBalancerClass: '',
    trafficDistribution: '',
  });
  assert.equal(JSON.parse(JSON.stringify(service)), service, 'plain JSON data');
});

row('labels, annotations, selector, port names, source', () => {
  const { service } = fromService(
    svc(`
metadata:
  name: web
  namespace: shop
  labels: { app: web }
  annotations: { note: hi }
spec:
  clusterIP: 10.0.0.1
  selector: { app: web, tier: front }
  ports: [{ name: http, port: 80 }, { name: https, port: 443 }]
`),
    { source: 'file' },
  );
  assert.equal(service.labels, { app: 'web' });
  assert.equal(service.annotations, { note: 'hi' });
  assert.equal(service.selector, { app: 'web', tier: 'front' });
  assert.equal(service.portNames, { http: 80, https: 443 });
  assert.is(service.source, 'file');
});

row('session affinity ClientIP: configured timeout, or 10800 s by default', () => {
  const withTimeout = fromService(svc(`
metadata: { name: a, namespace: d }
spec:
  clusterIP: 10.0.0.1
  sessionAffinity: ClientIP
  sessionAffinityConfig: { clientIP: { timeoutSeconds: 600 } }
  ports: [{ port: 80 }]
`)).service;
  assert.is(withTimeout.sessionAffinity, true);
  assert.is(withTimeout.sessionAffinityTimeoutSeconds, 600);
  const byDefault = fromService(svc(`
metadata: { name: a, namespace: d }
spec: { clusterIP: 10.0.0.1, sessionAffinity: ClientIP, ports: [{ port: 80 }] }
`)).service;
  assert.is(byDefault.sessionAffinityTimeoutSeconds, 10800);
  const none = fromService(svc(`
metadata: { name: a, namespace: d }
spec: { clusterIP: 10.0.0.1, sessionAffinity: None, ports: [{ port: 80 }] }
`)).service;
  assert.is(none.sessionAffinity, false);
});

row('loadBalancerSourceRanges: canonical prefixes, sorted, deduplicated; deny policy annotation', () => {
  const { service } = fromService(svc(`
metadata:
  name: lb
  namespace: d
  annotations: { service.cilium.io/src-ranges-policy: deny }
spec:
  type: LoadBalancer
  clusterIP: 10.0.0.1
  loadBalancerSourceRanges: [192.168.1.7/24, 10.0.0.0/8, "2001:db8::/32", 10.0.0.0/8]
  ports: [{ port: 80 }]
`));
  assert.equal(service.sourceRanges, ['10.0.0.0/8', '192.168.1.0/24', '2001:db8::/32']);
  assert.is(service.sourceRangesPolicy, 'deny');
});

row('traffic policies', () => {
  const { service } = fromService(svc(`
metadata: { name: a, namespace: d }
spec: { type: NodePort, clusterIP: 10.0.0.1, externalTrafficPolicy: Local, internalTrafficPolicy: Cluster, ports: [{ port: 80 }] }
`));
  assert.is(service.extTrafficPolicy, 'Local');
  assert.is(service.intTrafficPolicy, 'Cluster');
});

row('LB algorithm annotation: ours wins over Cilium\'s', () => {
  const algo = (annotations: string) =>
    fromService(svc(`
metadata: { name: a, namespace: d, annotations: ${annotations} }
spec: { clusterIP: 10.0.0.1, ports: [{ port: 80 }] }
`)).service.lbAlgorithm;
  assert.is(algo('{ service.cilium.io/lb-algorithm: maglev }'), 'maglev');
  assert.is(algo('{ flagella.io/lb-algorithm: random }'), 'random');
  assert.is(algo('{ flagella.io/lb-algorithm: maglev, service.cilium.io/lb-algorithm: random }'), 'maglev');
  assert.is(algo('{}'), undefined);
});

row('traffic distribution only when ITP is Cluster; topology-mode Auto means PreferClose', () => {
  const dist = (extra: string) =>
    fromService(svc(`
metadata: { name: a, namespace: d, annotations: { service.kubernetes.io/topology-mode: Auto } }
spec: { clusterIP: 10.0.0.1, ports: [{ port: 80 }] ${extra} }
`)).service.trafficDistribution;
  assert.is(dist(''), 'PreferClose');
  assert.is(dist(', internalTrafficPolicy: Local'), '');
  assert.is(dist(', trafficDistribution: PreferSameNode'), 'PreferSameNode');
});

fe.run();
row.run();
