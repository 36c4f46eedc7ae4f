// Service map flags as the dump prints them (reference §7.1, issue 5's
// FLAGS order), the LB algorithm choice, and the `db show` cells.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  BACKEND_COLUMNS,
  FRONTEND_COLUMNS,
  SERVICE_COLUMNS,
  ServiceFlag,
  backendRow,
  formatDuration,
  frontendFlags,
  frontendLBAlgorithm,
  frontendRow,
  parseL3n4Addr,
  serviceFlagNames,
  serviceRow,
  type Backend,
  type FlagEntry,
  type FrontendFlagOptions,
  type FrontendParams,
  type FrontendType,
  type Service,
} from '../../tables/index.js';

function service(over: Partial<Service> = {}): Service {
  return {
    name: 'd/svc',
    namespace: 'd',
    source: 'k8s',
    type: 'LoadBalancer',
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
    ...over,
  };
}
function frontend(addr: string, type: FrontendType): FrontendParams {
  const address = parseL3n4Addr(addr);
  return { address, type, serviceName: 'd/svc', portName: '', servicePort: address.port };
}

const flags = suite('frontendFlags');
const cases: [string, FrontendParams, Partial<Service>, FrontendFlagOptions, string][] = [
  ['ClusterIP', frontend('10.96.0.1:80/TCP', 'ClusterIP'), {}, {}, 'ClusterIP+non-routable'],
  ['ClusterIP, external access', frontend('10.96.0.1:80/TCP', 'ClusterIP'), {}, { externalClusterIP: true }, 'ClusterIP'],
  ['affinity', frontend('10.96.0.1:80/TCP', 'ClusterIP'), { sessionAffinity: true, sessionAffinityTimeoutSeconds: 100 }, {}, 'ClusterIP+sessionAffinity+non-routable'],
  ['NodePort surrogate', frontend('0.0.0.0:30080/TCP', 'NodePort'), {}, {}, 'NodePort+non-routable'],
  ['NodePort surrogate v6', frontend('[::]:30080/TCP', 'NodePort'), {}, {}, 'NodePort+non-routable'],
  ['NodePort on a node address', frontend('192.0.2.1:30080/TCP', 'NodePort'), {}, {}, 'NodePort'],
  ['ExternalIPs', frontend('198.51.100.1:80/TCP', 'ExternalIPs'), {}, {}, 'ExternalIPs'],
  ['HostPort', frontend('192.0.2.1:8080/TCP', 'HostPort'), {}, {}, 'HostPort'],
  ['LB, both Local', frontend('203.0.113.1:80/TCP', 'LoadBalancer'), { extTrafficPolicy: 'Local', intTrafficPolicy: 'Local' }, {}, 'LoadBalancer+Local+InternalLocal'],
  ['LB, ETP Local: two scopes', frontend('203.0.113.1:80/TCP', 'LoadBalancer'), { extTrafficPolicy: 'Local' }, {}, 'LoadBalancer+Local+two-scopes'],
  ['LB internal scope, ITP Local', frontend('203.0.113.1:80/TCP/i', 'LoadBalancer'), { intTrafficPolicy: 'Local' }, {}, 'LoadBalancer+InternalLocal+two-scopes'],
  ['ClusterIP never two-scopes', frontend('10.96.0.1:80/TCP', 'ClusterIP'), { intTrafficPolicy: 'Local' }, {}, 'ClusterIP+non-routable+InternalLocal'],
  ['LB source ranges: master checks', frontend('203.0.113.1:80/TCP', 'LoadBalancer'), { sourceRanges: ['10.0.0.0/8'] }, {}, 'LoadBalancer+check source-range'],
  ['LB source ranges deny: master', frontend('203.0.113.1:80/TCP', 'LoadBalancer'), { sourceRanges: ['10.0.0.0/8'], sourceRangesPolicy: 'deny' }, {}, 'LoadBalancer+check source-range+deny'],
  ['LB source ranges: slots do not', frontend('203.0.113.1:80/TCP', 'LoadBalancer'), { sourceRanges: ['10.0.0.0/8'], sourceRangesPolicy: 'deny' }, { entry: 'slot' }, 'LoadBalancer'],
  ['source ranges ignored for other types by default', frontend('198.51.100.1:80/TCP', 'ExternalIPs'), { sourceRanges: ['10.0.0.0/8'] }, {}, 'ExternalIPs'],
  ['source ranges on all types', frontend('198.51.100.1:80/TCP', 'ExternalIPs'), { sourceRanges: ['10.0.0.0/8'] }, { sourceRangesAllTypes: true }, 'ExternalIPs+check source-range'],
  ['quarantined slot', frontend('203.0.113.1:80/TCP', 'LoadBalancer'), { sessionAffinity: true }, { entry: 'quarantined-slot' }, 'LoadBalancer+sessionAffinity+quarantined'],
  [
    'everything, in order',
    frontend('0.0.0.0:30000/TCP/i', 'NodePort'),
    { extTrafficPolicy: 'Local', sessionAffinity: true, sourceRanges: ['1.0.0.0/8'] },
    { sourceRangesAllTypes: true },
    'NodePort+Local+sessionAffinity+non-routable+check source-range+two-scopes',
  ],
];
for (const [what, fe, svc, opts, text] of cases) {
  flags(what, () => {
    const set = frontendFlags(fe, service(svc), opts);
    assert.is(set.text, text);
    assert.equal(set.names, text.split('+'));
    assert.equal(serviceFlagNames(set.bits, (opts.entry ?? 'master') !== 'master'), set.names, 'bits decode to the same names');
  });
}
flags('bit values', () => {
  assert.is(frontendFlags(frontend('203.0.113.1:80/TCP', 'LoadBalancer'), service()).bits, 0x60);
  assert.is(frontendFlags(frontend('10.96.0.1:80/TCP', 'ClusterIP'), service({ sessionAffinity: true })).bits, 0x10);
  const twoScopes = frontendFlags(frontend('192.0.2.1:30000/TCP', 'NodePort'), service({ extTrafficPolicy: 'Local' })).bits;
  assert.is(twoScopes, ServiceFlag.NodePort | ServiceFlag.ExtLocalScope | ServiceFlag.Routable | ServiceFlag.TwoScopes);
  const entry: FlagEntry = 'quarantined-slot';
  assert.is(frontendFlags(frontend('10.96.0.1:80/TCP', 'ClusterIP'), service(), { entry }).bits, 1 << 14);
});
flags('decoding other bits', () => {
  assert.equal(serviceFlagNames(ServiceFlag.LocalRedirect | ServiceFlag.Routable, false), ['LocalRedirect']);
  assert.equal(serviceFlagNames(ServiceFlag.Routable | ServiceFlag.FwdModeDSR | ServiceFlag.L7LoadBalancer, false), ['ClusterIP', 'l7-load-balancer', 'dsr']);
});

const algo = suite('frontendLBAlgorithm');
algo('annotation, default, and where Maglev applies', () => {
  const lb = frontend('203.0.113.1:80/TCP', 'LoadBalancer');
  const cip = frontend('10.96.0.1:80/TCP', 'ClusterIP');
  const surrogate = frontend('0.0.0.0:30000/TCP', 'NodePort');
  assert.is(frontendLBAlgorithm(lb, service()), 'random');
  assert.is(frontendLBAlgorithm(lb, service({ lbAlgorithm: 'maglev' })), 'maglev');
  assert.is(frontendLBAlgorithm(lb, service({ lbAlgorithm: 'maglev' }), { annotations: false }), 'random');
  assert.is(frontendLBAlgorithm(lb, service(), { defaultAlgorithm: 'maglev' }), 'maglev');
  assert.is(frontendLBAlgorithm(lb, service({ lbAlgorithm: 'random' }), { defaultAlgorithm: 'maglev' }), 'random');
  assert.is(frontendLBAlgorithm(cip, service(), { defaultAlgorithm: 'maglev' }), 'random');
  assert.is(frontendLBAlgorithm(cip, service(), { defaultAlgorithm: 'maglev', externalClusterIP: true }), 'maglev');
  assert.is(frontendLBAlgorithm(surrogate, service({ lbAlgorithm: 'maglev' }), { defaultAlgorithm: 'maglev' }), 'random');
});

const cells = suite('db show cells');
cells('services', () => {
  assert.equal([...SERVICE_COLUMNS], ['Name', 'Source', 'PortNames', 'TrafficPolicy', 'Flags']);
  assert.equal(serviceRow(service()), ['d/svc', 'k8s', '', 'Cluster', '']);
  assert.equal(
    serviceRow(
      service({
        portNames: { https: 443, http: 80 },
        extTrafficPolicy: 'Cluster',
        intTrafficPolicy: 'Local',
        sessionAffinity: true,
        sessionAffinityTimeoutSeconds: 10800,
        sourceRanges: ['10.0.0.0/8', '192.168.0.0/16'],
        lbAlgorithm: 'maglev',
      }),
    ),
    ['d/svc', 'k8s', 'http=80, https=443', 'Ext=Cluster, Int=Local', 'ExplicitLBAlgorithm=maglev, SessionAffinity=3h0m0s, SourceRanges=10.0.0.0/8,192.168.0.0/16'],
  );
});
cells('frontends: at most five backends, then + N more ...', () => {
  assert.equal([...FRONTEND_COLUMNS], ['Address', 'Type', 'ServiceName', 'PortName', 'Backends', 'Status', 'Since', 'Error']);
  const bes = [1, 2, 3, 4, 5, 6, 7].map((i) => parseL3n4Addr(`10.0.0.${i}:80/TCP`));
  const fe = { ...frontend('10.96.0.1:80/TCP', 'ClusterIP'), portName: 'http' };
  assert.equal(frontendRow(fe, bes, { status: 'Done', since: '1s', error: '' }), [
    '10.96.0.1:80/TCP',
    'ClusterIP',
    'd/svc',
    'http',
    '10.0.0.1:80/TCP, 10.0.0.2:80/TCP, 10.0.0.3:80/TCP, 10.0.0.4:80/TCP, 10.0.0.5:80/TCP + 2 more ...',
    'Done',
    '1s',
    '',
  ]);
  assert.equal(frontendRow(fe, bes.slice(0, 2))[4], '10.0.0.1:80/TCP, 10.0.0.2:80/TCP');
  assert.equal(frontendRow(fe, [])[4], '');
});
cells('backends', () => {
  assert.equal([...BACKEND_COLUMNS], ['Service', 'Address', 'Source', 'State', 'Weight', 'PortNames', 'NodeName']);
  const be: Backend = {
    serviceName: 'd/svc',
    address: parseL3n4Addr('[fd00::1]:8080/TCP'),
    portNames: ['http', 'web'],
    weight: 100,
    nodeName: 'node-a',
    zone: '',
    forZones: [],
    state: 'terminating',
    source: 'k8s',
  };
  assert.equal(backendRow(be), ['d/svc', '[fd00::1]:8080/TCP', 'k8s', 'terminating', '100', 'http, web', 'node-a']);
});
cells('durations print as Go does', () => {
  assert.equal([0, 45, 60, 90, 3600, 10800, 86399].map(formatDuration), ['0s', '45s', '1m0s', '1m30s', '1h0m0s', '3h0m0s', '23h59m59s']);
});

flags.run();
algo.run();
cells.run();
