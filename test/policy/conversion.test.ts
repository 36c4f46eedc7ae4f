// Pods, namespaces and NetworkPolicies into policy rows, and the writer that
// applies a batch of them in one transaction.
import type { V1Pod } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB } from '../../statedb/index.js';
import {
  ConversionError,
  fromNamespace,
  fromPod,
  hostRouteInterface,
  newPolicyTables,
  parseProcNetRoute,
  policyRowOf,
  PolicyWriter,
  type InterfaceResolver,
} from '../../tables/index.js';
import { fakeInterfaces, namespace, networkPolicy, NODE, pod, remove, upsert } from './cluster.js';

const opts = { nodeName: NODE, interfaces: fakeInterfaces };

// ------------------------------------------------------------ pods
const pods = suite('Pod -> endpoint');

pods('a local pod: labels, IPs, named ports, interface from the annotation', () => {
  const row = fromPod(pod({ ns: 'shop', name: 'web', labels: { app: 'web' }, ip: '10.0.1.1', iface: 'lxc1234', ports: [{ name: 'http', port: 8080 }] }), opts);
  assert.equal(row, {
    id: 'shop/web',
    namespace: 'shop',
    podName: 'web',
    node: NODE,
    local: true,
    ips: ['10.0.1.1'],
    labels: { app: 'web' },
    namedPorts: [{ name: 'http', port: 8080, protocol: 'TCP' }],
    hostInterface: { name: 'lxc1234', ifindex: fakeInterfaces.ifindex('lxc1234')! },
    identity: 0,
  });
});

pods('a remote pod has no interface; dual-stack IPs are kept, canonical and deduplicated', () => {
  const p = pod({ ns: 'shop', name: 'far', ip: '10.0.9.9', node: 'node-b' });
  p.status!.podIPs = [{ ip: '10.0.9.9' }, { ip: 'FD00::0009' }, { ip: '10.0.9.9' }];
  const row = fromPod(p, opts)!;
  assert.equal([row.local, row.hostInterface, row.ips], [false, null, ['10.0.9.9', 'fd00::9']]);
});

pods('without the annotation the host route to the pod IP names the interface; unknown interfaces have ifindex 0', () => {
  const interfaces: InterfaceResolver = { ifindex: (n) => (n === 'veth7' ? 77 : undefined), routeInterface: (ip) => (ip === '10.0.1.7' ? 'veth7' : ip === '10.0.1.8' ? 'gone0' : undefined) };
  const make = (ip: string): V1Pod => ({ metadata: { namespace: 'a', name: `p${ip.split('.')[3]}` }, spec: { nodeName: NODE, containers: [] }, status: { podIP: ip } });
  assert.equal(fromPod(make('10.0.1.7'), { nodeName: NODE, interfaces })!.hostInterface, { name: 'veth7', ifindex: 77 });
  assert.equal(fromPod(make('10.0.1.8'), { nodeName: NODE, interfaces })!.hostInterface, { name: 'gone0', ifindex: 0 });
  assert.is(fromPod(make('10.0.1.9'), { nodeName: NODE, interfaces })!.hostInterface, null);
});

pods('host-network, IP-less and finished pods are no endpoints', () => {
  const base = pod({ ns: 'a', name: 'x', ip: '10.0.0.1' });
  assert.is(fromPod({ ...base, spec: { ...base.spec!, hostNetwork: true } }, opts), null);
  assert.is(fromPod({ ...base, status: { phase: 'Pending' } }, opts), null);
  assert.is(fromPod({ ...base, status: { ...base.status, phase: 'Succeeded' } }, opts), null);
  assert.is(fromPod({ ...base, status: { ...base.status, phase: 'Failed' } }, opts), null);
});

pods('bad input is a ConversionError naming the pod and the field', () => {
  const bad = (mutate: (p: V1Pod) => void, pattern: RegExp) => {
    const p = pod({ ns: 'a', name: 'x', ip: '10.0.0.1' });
    mutate(p);
    try {
      fromPod(p, opts);
      assert.unreachable('should throw');
    } catch (err) {
      assert.instance(err, ConversionError);
      assert.match((err as Error).message, pattern);
    }
  };
  bad((p) => (p.status!.podIPs = [{ ip: '10.0.0.300' }]), /^Pod a\/x: status\.podIPs\[0\]\.ip: invalid IP address/);
  bad((p) => (p.metadata!.labels = { 'bad key!': 'v' }), /^Pod a\/x: metadata\.labels\["bad key!"\]: is not a valid label key/);
  bad((p) => (p.metadata!.annotations = { 'flagella.io/host-interface': '../../etc' }), /flagella\.io\/host-interface.*must be an interface name/);
  bad((p) => delete p.metadata!.namespace, /^Pod x: metadata\.namespace: is required/);
});

pods('/proc/net/route: only an up, direct /32 route names a pod interface', () => {
  const text = [
    'Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT',
    'eth0\t00000000\t0101A8C0\t0003\t0\t0\t0\t00000000\t0\t0\t0',
    'eth0\t0000A8C0\t00000000\t0001\t0\t0\t0\t0000FFFF\t0\t0\t0',
    'lxc1\t0701000A\t00000000\t0005\t0\t0\t0\tFFFFFFFF\t0\t0\t0',
    'lxc2\t0801000A\t00000000\t0004\t0\t0\t0\tFFFFFFFF\t0\t0\t0',
    'garbage line',
  ].join('\n');
  const routes = parseProcNetRoute(text);
  assert.is(routes.length, 4);
  assert.is(hostRouteInterface('10.0.1.7', routes), 'lxc1');
  assert.is(hostRouteInterface('10.0.1.8', routes), undefined, 'route down');
  assert.is(hostRouteInterface('192.168.3.4', routes), undefined, 'a subnet route is not a host route');
  assert.is(hostRouteInterface('fd00::1', routes), undefined);
});

// ------------------------------------------------------------ namespaces and policies
const others = suite('Namespace and NetworkPolicy rows');

others('a namespace row holds its labels; bad labels are a ConversionError', () => {
  assert.equal(fromNamespace(namespace('dev', { team: 'b' })), { name: 'dev', labels: { 'kubernetes.io/metadata.name': 'dev', team: 'b' } });
  assert.throws(() => fromNamespace({ metadata: { name: 'dev', labels: { team: 'bad value!' } } }), /Namespace dev: metadata\.labels\["team"\]/);
});

others('a valid policy row holds the parsed policy; an invalid one its error; a nameless one throws', () => {
  const good = policyRowOf(networkPolicy('metadata: { name: p, namespace: a }\nspec: { podSelector: {} }'));
  assert.equal([good.name, good.namespace, good.error, good.policy?.policyTypes], ['a/p', 'a', null, ['Ingress']]);
  const bad = policyRowOf(networkPolicy('metadata: { name: q, namespace: a }\nspec: { podSelector: {}, ingress: [ { ports: [ { port: 70000 } ] } ] }'));
  assert.equal([bad.name, bad.policy], ['a/q', null]);
  assert.match(bad.error!, /^NetworkPolicy a\/q: spec\.ingress\[0\]\.ports\[0\]\.port: must be an integer in 1\.\.65535 \(got 70000\)/);
  assert.throws(() => policyRowOf(networkPolicy('metadata: { namespace: a }\nspec: {}')), /metadata\.name: is required/);
});

// ------------------------------------------------------------ writer
const writer = suite('PolicyWriter');

writer('applies a batch in one transaction; bad objects are reported and the rest applied', () => {
  const db = new DB();
  const tables = newPolicyTables(db);
  const w = new PolicyWriter(db, tables, opts);
  const revision = () => tables.endpoints.revision(db.readTxn());
  const before = revision();
  const badPod = pod({ ns: 'a', name: 'bad', ip: 'nope' });
  const report = w.apply([upsert.ns('a'), upsert.pod({ ns: 'a', name: 'one', ip: '10.0.0.1' }), { kind: 'Pod', op: 'upsert', object: badPod }, upsert.pod({ ns: 'a', name: 'two', ip: '10.0.0.2' })]);
  assert.equal([report.written, report.deleted, report.unchanged, report.errors.length], [3, 0, 0, 1]);
  assert.match(report.errors[0]!.message, /^Pod a\/bad: status\.podIP/);
  assert.is(revision(), before + 2, 'two endpoint rows, one commit');
  assert.equal([...tables.endpoints.all(db.readTxn())].map((e) => e.object.id), ['a/one', 'a/two']);
});

writer('unchanged objects write nothing; deleting what is missing is a no-op; a pod losing its IP loses its row', () => {
  const db = new DB();
  const tables = newPolicyTables(db);
  const w = new PolicyWriter(db, tables, opts);
  w.apply([upsert.pod({ ns: 'a', name: 'one', ip: '10.0.0.1' })]);
  const rev = tables.endpoints.revision(db.readTxn());
  assert.is(w.apply([upsert.pod({ ns: 'a', name: 'one', ip: '10.0.0.1' })]).unchanged, 1);
  assert.is(w.apply([remove.pod('a', 'missing'), remove.policy('a', 'missing')]).unchanged, 2);
  assert.is(tables.endpoints.revision(db.readTxn()), rev);
  const ipless = pod({ ns: 'a', name: 'one', ip: '10.0.0.1' });
  ipless.status = { phase: 'Pending' };
  assert.is(w.apply([{ kind: 'Pod', op: 'upsert', object: ipless }]).deleted, 1);
  assert.is(tables.endpoints.numObjects(db.readTxn()), 0);
});

writer('the identity the controller assigned is carried over when the pod is rewritten', () => {
  const db = new DB();
  const tables = newPolicyTables(db);
  const w = new PolicyWriter(db, tables, opts);
  w.apply([upsert.pod({ ns: 'a', name: 'one', ip: '10.0.0.1' })]);
  db.write(tables.endpoints, (txn) => tables.endpoints.update(txn, 'a/one', (d) => void (d.identity = 4242)));
  w.apply([upsert.pod({ ns: 'a', name: 'one', ip: '10.0.0.1', labels: { v: '2' } })]);
  assert.is(tables.endpoints.get(db.readTxn(), tables.endpoints.primary.query('a/one'))?.identity, 4242);
});

pods.run();
others.run();
writer.run();
