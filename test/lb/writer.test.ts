// LBWriter: the tables kept consistent in one transaction per batch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ObjectSink } from '../../agent/index.js';
import { DB } from '../../statedb/index.js';
import {
  backendKeyType,
  compareBytes,
  formatL3n4Addr,
  l3n4AddrKey,
  l3n4AddrKeyString,
  LBWriter,
  newLBTables,
  parseL3n4Addr,
  type Frontend,
  type LBObjectChange,
} from '../../tables/index.js';

function setup(nodeName = 'n1') {
  const db = new DB({ validate: true });
  const tables = newLBTables(db);
  const writer = new LBWriter(db, tables, { nodeName });
  const frontends = () => [...tables.frontends.all(db.readTxn())].map((e) => e.object);
  const frontend = (addr: string): Frontend | undefined => tables.frontends.get(db.readTxn(), tables.frontends.primary.query(parseL3n4Addr(addr)));
  const backends = () => [...tables.backends.all(db.readTxn())].map((e) => `${e.object.serviceName} ${formatL3n4Addr(e.object.address)} ${e.object.state}`);
  return { db, tables, writer, frontends, frontend, backends };
}

const up = (kind: string, object: unknown): LBObjectChange => ({ type: 'upsert', kind, object });
const del = (kind: string, object: unknown): LBObjectChange => ({ type: 'delete', kind, object });

function svc(name: string, clusterIP: string, extra: Record<string, unknown> = {}, ns = 'd') {
  return { metadata: { name, namespace: ns }, spec: { clusterIP, ports: [{ port: 80, targetPort: 8080 }], ...extra } };
}

function slice(name: string, service: string, ips: readonly string[], opts: { ready?: boolean; ns?: string } = {}) {
  return {
    metadata: { name, namespace: opts.ns ?? 'd', labels: { 'kubernetes.io/service-name': service } },
    addressType: 'IPv4',
    ports: [{ port: 8080 }],
    endpoints: ips.map((ip) => ({ addresses: [ip], conditions: { ready: opts.ready ?? true } })),
  };
}

const keys = suite('keys');

keys('the frontend key string is the 24-byte L3n4Addr key, for IPv4 and IPv6', () => {
  for (const text of ['10.96.0.1:80/TCP', '0.0.0.0:30000/UDP/i', '[2001:db8::1]:443/SCTP', '[::]:1/ANY']) {
    const addr = parseL3n4Addr(text);
    const bytes = l3n4AddrKey(addr);
    assert.is(l3n4AddrKeyString(addr), String.fromCharCode(...bytes), text);
    assert.is(l3n4AddrKeyString(addr), l3n4AddrKeyString({ ...addr }), 'same for an equal object');
  }
  const a = parseL3n4Addr('10.0.0.2:80/TCP');
  const b = parseL3n4Addr('10.0.0.10:79/TCP');
  assert.is(l3n4AddrKeyString(a) < l3n4AddrKeyString(b), compareBytes(l3n4AddrKey(a), l3n4AddrKey(b)) < 0, 'string order is byte order');
});

keys('backend keys: a service name alone is the prefix of its backends', () => {
  const addr = parseL3n4Addr('10.0.0.1:8080/TCP');
  const full = backendKeyType.encode({ serviceName: 'ns/a', address: addr, source: 'k8s' });
  assert.ok(full.startsWith(backendKeyType.encode({ serviceName: 'ns/a' })));
  assert.not.ok(full.startsWith(backendKeyType.encode({ serviceName: 'ns/ab' })));
  assert.not.ok(backendKeyType.encode({ serviceName: 'ns/ab', address: addr }).startsWith(backendKeyType.encode({ serviceName: 'ns/a' })));
  assert.equal(backendKeyType.decode(full), { serviceName: 'ns/a', address: addr, source: 'k8s' });
  assert.equal(backendKeyType.parse('ns/a 10.0.0.1:8080/TCP k8s'), { serviceName: 'ns/a', address: addr, source: 'k8s' });
});
keys.run();

const writes = suite('writer');

writes('a service and its slice in one batch: frontends pending with their backends, written once', () => {
  const { writer, frontends, tables, db } = setup();
  const revBefore = tables.frontends.revision(db.readTxn());
  assert.equal(writer.apply([up('Service', svc('a', '10.96.0.1')), up('EndpointSlice', slice('a-1', 'a', ['10.0.0.1', '10.0.0.2']))]).errors, []);
  const [fe] = frontends();
  assert.is(fe?.status.kind, 'pending');
  assert.equal(fe?.backends.map((b) => formatL3n4Addr(b.backend.address)), ['10.0.0.1:8080/TCP', '10.0.0.2:8080/TCP']);
  assert.ok(fe!.backends.every((b) => b.revision > 0), 'with the revisions of the backend rows');
  assert.is(tables.frontends.revision(db.readTxn()), revBefore + 1, 'one frontend write for the batch');
});

writes('re-applying the same objects writes nothing; a backend change re-marks the frontend pending', () => {
  const { writer, tables, db, frontend } = setup();
  const objs = [up('Service', svc('a', '10.96.0.1')), up('EndpointSlice', slice('a-1', 'a', ['10.0.0.1']))];
  writer.apply(objs);
  const revs = [tables.services, tables.frontends, tables.backends].map((t) => t.revision(db.readTxn()));
  writer.apply(objs);
  assert.equal([tables.services, tables.frontends, tables.backends].map((t) => t.revision(db.readTxn())), revs, 'no table changed');
  const before = frontend('10.96.0.1:80/TCP')!;
  writer.apply([up('EndpointSlice', slice('a-1', 'a', ['10.0.0.1', '10.0.0.3']))]);
  const after = frontend('10.96.0.1:80/TCP')!;
  assert.is.not(after, before);
  assert.is(after.status.kind, 'pending');
  assert.is(after.backends.length, 2);
  assert.is(after.service, before.service, 'the unchanged service row is shared');
});

writes('a frontend address of another service is a conflict for that object only', () => {
  const { writer, frontends, backends } = setup();
  const result = writer.apply([
    up('Service', svc('a', '10.96.0.1')),
    up('Service', svc('b', '10.96.0.1', {}, 'e')),
    up('EndpointSlice', slice('b-1', 'b', ['10.0.0.9'], { ns: 'e' })),
  ]);
  assert.equal(result.errors.map((e) => e.error.message), ['Service e/b: frontend 10.96.0.1:80/TCP belongs to service d/a']);
  assert.equal(frontends().map((f) => f.serviceName), ['d/a'], 'not overwritten');
  assert.equal(backends(), ['e/b 10.0.0.9:8080/TCP active'], 'the rest of the batch applied');
  // Released in the same batch, the address can move.
  const moved = writer.apply([up('Service', svc('a', '10.96.0.2')), up('Service', svc('b', '10.96.0.1', {}, 'e'))]);
  assert.equal(moved.errors, []);
  assert.equal(frontends().map((f) => `${formatL3n4Addr(f.address)} ${f.serviceName}`), ['10.96.0.1:80/TCP e/b', '10.96.0.2:80/TCP d/a']);
});

writes('a service name held by another source is refused there, and that source cannot delete it', () => {
  const { db, tables, writer: k8s, frontends } = setup();
  const files = new LBWriter(db, tables, { nodeName: 'n1', source: 'file' });
  assert.equal(files.apply([up('Service', svc('a', '10.96.0.1'))]).errors, []);
  const refused = k8s.apply([up('Service', svc('a', '10.96.0.2')), up('Service', svc('b', '10.96.0.3'))]);
  assert.equal(refused.errors.map((e) => [e.error.name, e.error.message]), [
    ['ServiceSourceConflictError', 'Service d/a: already defined by source file; k8s cannot replace it (remove it there first)'],
  ]);
  const rows = () => [...tables.services.all(db.readTxn())].map((e) => `${e.object.name} ${e.object.source}`);
  assert.equal(rows(), ['d/a file', 'd/b k8s'], 'the first source keeps it; the rest of the batch applied');
  assert.equal(frontends().map((f) => formatL3n4Addr(f.address)), ['10.96.0.1:80/TCP', '10.96.0.3:80/TCP']);
  const rev = tables.services.revision(db.readTxn());
  assert.equal(k8s.apply([del('Service', svc('a', '10.96.0.2'))]).errors, []);
  assert.is(tables.services.revision(db.readTxn()), rev, "a delete from a source that never held it changes nothing");
  assert.equal(rows(), ['d/a file', 'd/b k8s']);
  // Removed from the files, the name is free for the other source.
  files.apply([del('Service', svc('a', '10.96.0.1'))]);
  assert.equal(k8s.apply([up('Service', svc('a', '10.96.0.2'))]).errors, []);
  assert.equal(rows(), ['d/a k8s', 'd/b k8s']);
  assert.equal(frontends().map((f) => `${formatL3n4Addr(f.address)} ${f.serviceName}`), ['10.96.0.2:80/TCP d/a', '10.96.0.3:80/TCP d/b']);
});

writes('invalid objects are reported, the valid ones in the batch applied; unsupported kinds are errors', () => {
  const { writer, frontends } = setup();
  const bad = svc('bad', '10.96.0.300');
  const result = writer.apply([up('Service', bad), up('Service', svc('good', '10.96.0.2')), up('Pod', { metadata: { name: 'p' } })]);
  assert.equal(result.errors.map((e) => e.change.object === bad || e.change.kind), [true, 'Pod']);
  assert.match(result.errors[0]!.error.message, /^Service d\/bad: spec\.clusterIP: invalid IP address/);
  assert.equal(frontends().map((f) => f.serviceName), ['d/good']);
});

writes('deleting unknown objects is a no-op; deleting a service keeps its backends', () => {
  const { writer, frontends, backends, db, tables } = setup();
  const rev = tables.services.revision(db.readTxn());
  assert.equal(writer.apply([del('Service', svc('x', '10.96.0.9')), del('EndpointSlice', slice('x-1', 'x', []))]).errors, []);
  assert.is(tables.services.revision(db.readTxn()), rev);
  writer.apply([up('Service', svc('a', '10.96.0.1')), up('EndpointSlice', slice('a-1', 'a', ['10.0.0.1']))]);
  writer.apply([del('Service', svc('a', '10.96.0.1'))]);
  assert.equal(frontends(), []);
  assert.equal(backends(), ['d/a 10.0.0.1:8080/TCP active']);
  writer.apply([del('EndpointSlice', slice('a-1', 'a', []))]);
  assert.equal(backends(), []);
});

writes('slices merge per name; a slice that moves to another service releases its backends', () => {
  const { writer, backends } = setup();
  writer.apply([up('EndpointSlice', slice('s-1', 'a', ['10.0.0.1', '10.0.0.2'])), up('EndpointSlice', slice('s-2', 'a', ['10.0.0.2', '10.0.0.3'], { ready: false }))]);
  assert.equal(backends(), ['d/a 10.0.0.1:8080/TCP active', 'd/a 10.0.0.2:8080/TCP active', 'd/a 10.0.0.3:8080/TCP maintenance']);
  writer.apply([up('EndpointSlice', slice('s-1', 'b', ['10.0.0.1']))]);
  assert.equal(backends(), ['d/a 10.0.0.2:8080/TCP maintenance', 'd/a 10.0.0.3:8080/TCP maintenance', 'd/b 10.0.0.1:8080/TCP active']);
  assert.is(writer.sliceCount, 2);
});

writes('an aborted batch leaves slices and tables as they were', () => {
  const { writer, backends, db, tables } = setup();
  writer.apply([up('EndpointSlice', slice('s-1', 'a', ['10.0.0.1']))]);
  const txn = db.writeTxn(tables.frontends); // someone else holds a table: the batch cannot start
  try {
    assert.throws(() => writer.apply([up('EndpointSlice', slice('s-1', 'a', ['10.0.0.7']))]), /locked/);
  } finally {
    txn.abort();
  }
  assert.throws(() => writer.write(() => {
    throw new Error('boom');
  }), /boom/);
  assert.equal(backends(), ['d/a 10.0.0.1:8080/TCP active']);
  writer.apply([up('EndpointSlice', slice('s-1', 'a', ['10.0.0.1', '10.0.0.2']))]);
  assert.equal(backends(), ['d/a 10.0.0.1:8080/TCP active', 'd/a 10.0.0.2:8080/TCP active'], 'the retried batch applies in full');
});

writes("Local traffic policy keeps this node's backends; other nodes' Node objects are ignored", () => {
  const { writer, frontend, tables, db } = setup('n1');
  const local = { metadata: { name: 'l', namespace: 'd' }, spec: { clusterIP: '10.96.0.5', internalTrafficPolicy: 'Local', ports: [{ port: 80 }] } };
  const eps = { ...slice('l-1', 'l', []), endpoints: [{ addresses: ['10.0.0.1'], nodeName: 'n1' }, { addresses: ['10.0.0.2'], nodeName: 'n2' }] };
  writer.apply([up('Service', local), up('EndpointSlice', eps)]);
  assert.equal(frontend('10.96.0.5:80/TCP')!.backends.map((b) => b.backend.address.ip), ['10.0.0.1']);
  writer.apply([up('Node', { metadata: { name: 'n2' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.2' }] } })]);
  assert.is(tables.nodeAddresses.numObjects(db.readTxn()), 0);
  writer.apply([up('Node', { metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] } })]);
  assert.is(tables.nodeAddresses.numObjects(db.readTxn()), 1);
  writer.apply([del('Node', { metadata: { name: 'n1' } })]);
  assert.is(tables.nodeAddresses.numObjects(db.readTxn()), 0);
});

writes('NodePort surrogates are re-marked pending when node addresses change, or a LoadBalancer frontend comes on their port', () => {
  const { writer, frontend } = setup();
  const np = { metadata: { name: 'np', namespace: 'd' }, spec: { type: 'NodePort', clusterIP: '10.96.0.7', ports: [{ port: 80, nodePort: 30001 }] } };
  const np2 = { metadata: { name: 'np2', namespace: 'd' }, spec: { type: 'NodePort', clusterIP: '10.96.0.8', ports: [{ port: 80, nodePort: 30002 }] } };
  writer.apply([up('Service', np), up('Service', np2)]);
  const s1 = frontend('0.0.0.0:30001/TCP')!;
  const s2 = frontend('0.0.0.0:30002/TCP')!;
  writer.apply([up('Node', { metadata: { name: 'n1' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] } })]);
  assert.is.not(frontend('0.0.0.0:30001/TCP'), s1, 'node addresses changed: every surrogate again');
  assert.is.not(frontend('0.0.0.0:30002/TCP'), s2);
  const t1 = frontend('0.0.0.0:30001/TCP');
  const t2 = frontend('0.0.0.0:30002/TCP');
  const ext = { metadata: { name: 'ext', namespace: 'd' }, spec: { clusterIP: '10.96.0.9', externalIPs: ['192.168.0.1'], ports: [{ port: 30001 }] } };
  writer.apply([up('Service', ext)]);
  assert.is.not(frontend('0.0.0.0:30001/TCP'), t1, 'the surrogate on the external IP port');
  assert.is(frontend('0.0.0.0:30002/TCP'), t2, 'not the one on another port');
  assert.is(frontend('0.0.0.0:30001/TCP')!.status.kind, 'pending');
});

writes('initializers: registered on the tables the kinds feed, done once', () => {
  const { writer, tables, db } = setup();
  const handle = writer.registerInitializer('k8s', ['Service', 'EndpointSlice']);
  assert.equal(tables.frontends.pendingInitializers(db.readTxn()), ['k8s']);
  assert.equal(tables.backends.pendingInitializers(db.readTxn()), ['k8s']);
  assert.equal(tables.nodeAddresses.pendingInitializers(db.readTxn()), []);
  assert.throws(() => writer.registerInitializer('k8s', ['Service']), /already pending/);
  handle.markDone();
  handle.markDone();
  assert.ok(tables.frontends.initialized(db.readTxn()).initialized);
  assert.ok(tables.services.initialized(db.readTxn()).initialized);
});

writes('one writer per source on the same tables: a frontend selects the backends of every source', () => {
  const { db, tables, writer, frontend, backends } = setup();
  const files = new LBWriter(db, tables, { nodeName: 'n1', source: 'file' });
  writer.apply([up('Service', svc('a', '10.96.0.1')), up('EndpointSlice', slice('a-1', 'a', ['10.0.0.1']))]);
  files.apply([up('EndpointSlice', slice('a-f', 'a', ['10.0.0.2']))]);
  assert.equal(frontend('10.96.0.1:80/TCP')!.backends.map((b) => `${b.backend.address.ip} ${b.backend.source}`), ['10.0.0.1 k8s', '10.0.0.2 file']);
  writer.apply([up('EndpointSlice', slice('a-1', 'a', ['10.0.0.1', '10.0.0.3']))]);
  assert.equal(frontend('10.96.0.1:80/TCP')!.backends.map((b) => b.backend.address.ip), ['10.0.0.1', '10.0.0.2', '10.0.0.3']);
  files.apply([del('EndpointSlice', slice('a-f', 'a', []))]);
  assert.equal(backends(), ['d/a 10.0.0.1:8080/TCP active', 'd/a 10.0.0.3:8080/TCP active'], "only the file source's backend went");
  assert.equal(frontend('10.96.0.1:80/TCP')!.backends.map((b) => b.backend.address.ip), ['10.0.0.1', '10.0.0.3']);
});

writes('the writer is the agent sources\' ObjectSink', async () => {
  const { writer, frontends } = setup();
  const sink: ObjectSink = writer;
  const result = await sink.apply([{ type: 'upsert', kind: 'Service', object: svc('a', '10.96.0.1') }]);
  assert.equal(result.errors, []);
  assert.is(frontends().length, 1);
});
writes.run();
