// Backend selection per frontend (reference §3 "Backend selection", §4.2
// steps 8-11) and NodePort expansion.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  expandNodePort,
  formatL3n4Addr,
  parseL3n4Addr,
  selectBackends,
  type Backend,
  type BackendState,
  type FrontendParams,
  type FrontendType,
  type NodeAddress,
  type Service,
  type TrafficPolicy,
} from '../../tables/index.js';

const NODE = { name: 'testnode' };

function service(etp: TrafficPolicy = 'Cluster', itp: TrafficPolicy = 'Cluster'): Service {
  return {
    name: 'd/svc',
    namespace: 'd',
    source: 'k8s',
    type: 'LoadBalancer',
    labels: {},
    annotations: {},
    selector: {},
    extTrafficPolicy: etp,
    intTrafficPolicy: itp,
    sessionAffinity: false,
    sessionAffinityTimeoutSeconds: 0,
    sourceRanges: [],
    sourceRangesPolicy: 'allow',
    portNames: {},
    headless: false,
    healthCheckNodePort: 0,
    loadBalancerClass: '',
    trafficDistribution: '',
  };
}
function frontend(addr: string, type: FrontendType = 'ClusterIP', portName = ''): FrontendParams {
  const address = parseL3n4Addr(addr);
  return { address, type, serviceName: 'd/svc', portName, servicePort: address.port };
}
function backend(addr: string, opts: { state?: BackendState; node?: string; names?: string[] } = {}): Backend {
  return {
    serviceName: 'd/svc',
    address: parseL3n4Addr(addr),
    portNames: opts.names ?? [],
    weight: 100,
    nodeName: opts.node ?? '',
    zone: '',
    forZones: [],
    state: opts.state ?? 'active',
    source: 'k8s',
  };
}
function selected(fe: FrontendParams, svc: Service, bes: Backend[]): string {
  const sel = selectBackends(fe, svc, bes, NODE);
  return `${sel.backends.map((b) => `${formatL3n4Addr(b.address)}(${b.state})`).join(' ')} active=${sel.activeCount} inactive=${sel.inactiveCount}`;
}

const select = suite('selectBackends');

select('protocol and family must match', () => {
  const bes = [backend('10.0.0.1:80/TCP'), backend('10.0.0.2:80/UDP'), backend('[fd00::1]:80/TCP')];
  assert.is(selected(frontend('10.96.0.1:80/TCP'), service(), bes), '10.0.0.1:80/TCP(active) active=1 inactive=0');
  assert.is(selected(frontend('10.96.0.1:80/UDP'), service(), bes), '10.0.0.2:80/UDP(active) active=1 inactive=0');
  assert.is(selected(frontend('[fd00::96]:80/TCP'), service(), bes), '[fd00::1]:80/TCP(active) active=1 inactive=0');
});

select('port name filter applies when both sides name ports', () => {
  const bes = [
    backend('10.0.0.1:8080/TCP', { names: ['http'] }),
    backend('10.0.0.1:8443/TCP', { names: ['https'] }),
    backend('10.0.0.2:9000/TCP'),
  ];
  assert.is(selected(frontend('10.96.0.1:80/TCP', 'ClusterIP', 'http'), service(), bes), '10.0.0.1:8080/TCP(active) 10.0.0.2:9000/TCP(active) active=2 inactive=0');
  assert.is(selected(frontend('10.96.0.1:443/TCP', 'ClusterIP', 'https'), service(), bes), '10.0.0.1:8443/TCP(active) 10.0.0.2:9000/TCP(active) active=2 inactive=0');
  assert.is(
    selected(frontend('10.96.0.1:80/TCP'), service(), bes),
    '10.0.0.1:8080/TCP(active) 10.0.0.1:8443/TCP(active) 10.0.0.2:9000/TCP(active) active=3 inactive=0',
  );
});

select('slot order: active, terminating, quarantined; maintenance left out; then address and port', () => {
  const bes = [
    backend('10.0.0.9:80/TCP', { state: 'quarantined' }),
    backend('10.0.0.5:80/TCP', { state: 'maintenance' }),
    backend('10.0.0.3:80/TCP', { state: 'terminating' }),
    backend('10.0.0.10:80/TCP'),
    backend('10.0.0.2:81/TCP'),
    backend('10.0.0.2:80/TCP'),
  ];
  assert.is(
    selected(frontend('10.96.0.1:80/TCP'), service(), bes),
    '10.0.0.2:80/TCP(active) 10.0.0.2:81/TCP(active) 10.0.0.10:80/TCP(active) 10.0.0.3:80/TCP(terminating) 10.0.0.9:80/TCP(quarantined) active=3 inactive=2',
  );
});

select('all terminating: the terminating backends count as active (KEP-1669)', () => {
  const bes = [backend('10.0.0.1:80/TCP', { state: 'terminating' }), backend('10.0.0.2:80/TCP', { state: 'terminating' }), backend('10.0.0.3:80/TCP', { state: 'quarantined' })];
  assert.is(
    selected(frontend('10.96.0.1:80/TCP'), service(), bes),
    '10.0.0.1:80/TCP(terminating) 10.0.0.2:80/TCP(terminating) 10.0.0.3:80/TCP(quarantined) active=2 inactive=1',
  );
});

select('nothing usable: empty selection', () => {
  assert.is(selected(frontend('10.96.0.1:80/TCP'), service(), [backend('10.0.0.1:80/TCP', { state: 'maintenance' })]), ' active=0 inactive=0');
});

select('Local traffic policies keep this node\'s backends and those with no node', () => {
  const bes = [backend('10.0.0.1:80/TCP', { node: 'testnode' }), backend('10.0.0.2:80/TCP', { node: 'other' }), backend('10.0.0.3:80/TCP')];
  const local = '10.0.0.1:80/TCP(active) 10.0.0.3:80/TCP(active) active=2 inactive=0';
  const all = '10.0.0.1:80/TCP(active) 10.0.0.2:80/TCP(active) 10.0.0.3:80/TCP(active) active=3 inactive=0';
  const cases: [string, FrontendType, TrafficPolicy, TrafficPolicy, string][] = [
    // ClusterIP follows ITP
    ['10.96.0.1:80/TCP', 'ClusterIP', 'Local', 'Cluster', all],
    ['10.96.0.1:80/TCP', 'ClusterIP', 'Cluster', 'Local', local],
    // NodePort, LoadBalancer, ExternalIPs follow ETP in external scope
    ['192.0.2.1:30000/TCP', 'NodePort', 'Local', 'Cluster', local],
    ['203.0.113.1:80/TCP', 'LoadBalancer', 'Local', 'Cluster', local],
    ['198.51.100.1:80/TCP', 'ExternalIPs', 'Local', 'Cluster', local],
    ['203.0.113.1:80/TCP', 'LoadBalancer', 'Cluster', 'Local', all],
    // internal scope follows ITP
    ['203.0.113.1:80/TCP/i', 'LoadBalancer', 'Local', 'Cluster', all],
    ['203.0.113.1:80/TCP/i', 'LoadBalancer', 'Cluster', 'Local', local],
    ['192.0.2.1:30000/TCP/i', 'NodePort', 'Cluster', 'Local', local],
  ];
  for (const [addr, type, etp, itp, expected] of cases) {
    assert.is(selected(frontend(addr, type), service(etp, itp), bes), expected, `${addr} ${type} ETP=${etp} ITP=${itp}`);
  }
});

select('an ANY frontend takes every protocol of its family', () => {
  const bes = [backend('10.0.0.1:80/TCP'), backend('10.0.0.1:80/UDP')];
  assert.is(selected(frontend('10.96.0.1:0/ANY'), service(), bes), '10.0.0.1:80/TCP(active) 10.0.0.1:80/UDP(active) active=2 inactive=0');
});

const expand = suite('expandNodePort');
const nodeAddrs: NodeAddress[] = [
  { ip: '192.0.2.10', nodePort: true, primary: true, device: 'eth0' },
  { ip: '10.0.0.10', nodePort: true, primary: false, device: 'eth1' },
  { ip: '172.16.0.10', nodePort: false, primary: false, device: 'eth2' },
  { ip: 'fd00::10', nodePort: true, primary: true, device: 'eth0' },
];
expand('one clone per node address of the family flagged nodePort, sorted', () => {
  const out = expandNodePort(frontend('0.0.0.0:30080/TCP', 'NodePort', 'http'), nodeAddrs);
  assert.equal(out.map((f) => formatL3n4Addr(f.address)), ['10.0.0.10:30080/TCP', '192.0.2.10:30080/TCP']);
  assert.ok(out.every((f) => f.type === 'NodePort' && f.portName === 'http' && f.servicePort === 30080));
  assert.equal(expandNodePort(frontend('[::]:30080/UDP/i', 'NodePort'), nodeAddrs).map((f) => formatL3n4Addr(f.address)), ['[fd00::10]:30080/UDP/i']);
});
expand('owned addresses are skipped; non-surrogates expand to nothing', () => {
  const out = expandNodePort(frontend('0.0.0.0:30080/TCP', 'NodePort'), nodeAddrs, (a) => a.ip === '10.0.0.10');
  assert.equal(out.map((f) => f.address.ip), ['192.0.2.10']);
  assert.equal(expandNodePort(frontend('10.96.0.1:80/TCP'), nodeAddrs), []);
  assert.equal(expandNodePort(frontend('0.0.0.0:80/TCP', 'LoadBalancer'), nodeAddrs), []);
});

select.run();
expand.run();
