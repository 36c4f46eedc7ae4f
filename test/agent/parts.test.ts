// The agent's parts in-process, without a kernel: flag parsers, listen
// addresses, the text log format, node addresses from interfaces, the
// rejection tracker, the policy sink, the API body validation and the API
// source following its durable tables (restore before the initializer,
// slices removed by an update, deletes, outcomes, throwing sinks retried).
import type { networkInterfaces } from 'node:os';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB } from '../../statedb/index.js';
import { formatL3n4Addr, LBWriter, newLBTables, newPolicyTables, PolicyWriter } from '../../tables/index.js';
import {
  ApiSource,
  checkLoopback,
  ConfigValueError,
  deviceNodeAddresses,
  explicitNodeAddresses,
  formatTextLine,
  HttpError,
  isLoopback,
  newApiTables,
  parseAddressFlag,
  parseDevices,
  parseListenAddress,
  parseNodeAddresses,
  parseServiceBody,
  PolicySink,
  RecordingSink,
  RejectionTracker,
  createLogger,
  type ApiServiceRow,
  type KubeChange,
} from '../../agent/index.js';
import { endpointSlice, networkPolicy, service } from './fixtures.js';

const quiet = createLogger({ level: 'silent', format: 'json', stream: process.stderr });

const parsers = suite('agent: flag values and addresses');

parsers('devices, node addresses and listen addresses parse or name the problem', () => {
  assert.equal(parseDevices('eth0, eth1,'), ['eth0', 'eth1']);
  assert.equal(parseDevices(''), []);
  assert.throws(() => parseDevices('averyveryverylongname0'), (e: unknown) => e instanceof ConfigValueError && e.flag === '--devices');
  assert.equal(parseNodeAddresses('10.0.0.1, 10.0.0.1,fd00:0::01'), ['10.0.0.1', 'fd00::1']);
  assert.throws(() => parseNodeAddresses(','), /at least one/);
  assert.equal(parseListenAddress('[::1]:9'), { host: '::1', port: 9 });
  assert.equal(parseListenAddress('localhost:0'), { host: 'localhost', port: 0 });
  assert.throws(() => parseListenAddress('[10.0.0.1]:9'), /not an IPv6 address/);
  assert.throws(() => parseListenAddress('example.com:80'), /not an IP address or localhost/);
  assert.is(parseAddressFlag('--health-addr', 'off'), null);
  assert.ok(isLoopback('127.1.2.3') && isLoopback('::1') && !isLoopback('10.0.0.1') && !isLoopback('0.0.0.0'));
  assert.throws(() => checkLoopback('--metrics-addr', { host: '0.0.0.0', port: 1 }, false), /--metrics-addr 0\.0\.0\.0:1 is not a loopback address/);
  checkLoopback('--metrics-addr', { host: '0.0.0.0', port: 1 }, true);
});

parsers('node addresses: explicit ones (first of each family primary) or the devices\' IPv4 addresses', () => {
  assert.equal(explicitNodeAddresses(['10.0.0.1', 'fd00::1', '10.0.0.2']).map((a) => [a.ip, a.primary]), [['10.0.0.1', true], ['fd00::1', true], ['10.0.0.2', false]]);
  const info = (address: string, family: 'IPv4' | 'IPv6', internal = false) => ({ address, family, internal, netmask: '', mac: '', cidr: null });
  const interfaces = { lo: [info('127.0.0.1', 'IPv4', true)], eth0: [info('fe80::1', 'IPv6'), info('192.168.1.5', 'IPv4')], eth1: [info('10.1.0.5', 'IPv4')] } as unknown as ReturnType<typeof networkInterfaces>;
  assert.equal(deviceNodeAddresses(['eth1', 'eth0', 'missing'], interfaces), [
    { ip: '10.1.0.5', nodePort: true, primary: true, device: 'eth1' },
    { ip: '192.168.1.5', nodePort: true, primary: false, device: 'eth0' },
  ]);
});

parsers('the text log format: time, level, component, message, fields', () => {
  const line = formatTextLine('{"level":"warn","time":"2026-01-01T00:00:00.000Z","pid":1,"hostname":"h","component":"api","msg":"slow request","path":"/v1/x","ms":12,"note":"two words"}');
  assert.is(line, '2026-01-01T00:00:00.000Z WARN  [api] slow request path=/v1/x ms=12 note="two words"\n');
  assert.is(formatTextLine('not json\n'), 'not json\n');
});

const sinks = suite('agent: sinks');

sinks('the rejection tracker keeps current rejections per source and forgets fixed or deleted objects', async () => {
  const svc = (name: string, port: number) => ({ ...service('default', name, '10.96.0.1', port) }) as unknown as KubeChange['object'];
  const inner = new RecordingSink({ reject: (c) => (c.type === 'upsert' && (c.object as { spec: { ports: { port: number }[] } }).spec.ports[0]!.port === 1 ? new Error('port 1 is refused') : undefined) });
  const tracker = new RejectionTracker();
  const sink = tracker.wrap('files', inner);
  await sink.apply([{ type: 'upsert', kind: 'Service', object: svc('a', 1) } as KubeChange, { type: 'upsert', kind: 'Service', object: svc('b', 1) } as KubeChange]);
  assert.equal(tracker.list().map((r) => [r.source, r.object, r.error]), [['files', 'Service default/a', 'port 1 is refused'], ['files', 'Service default/b', 'port 1 is refused']]);
  await sink.apply([{ type: 'upsert', kind: 'Service', object: svc('a', 80) } as KubeChange, { type: 'delete', kind: 'Service', object: svc('b', 1) } as KubeChange]);
  assert.is(tracker.size, 0);
  assert.equal([...tracker.countBySource()], []);
});

sinks('a refused conflict applies by itself once the other source lets go of the name or address', async () => {
  const db = new DB({ validate: true });
  const lb = newLBTables(db);
  const tracker = new RejectionTracker();
  const writer = (source: string) => new LBWriter(db, lb, { nodeName: 'n1', source });
  const [fileWriter, k8sWriter] = [writer('files'), writer('k8s')];
  const files = tracker.wrap('files', fileWriter, fileWriter);
  const k8s = tracker.wrap('k8s', k8sWriter, k8sWriter);
  const up = (object: Record<string, unknown>) => ({ type: 'upsert', kind: 'Service', object }) as KubeChange;
  const del = (object: Record<string, unknown>) => ({ type: 'delete', kind: 'Service', object }) as KubeChange;
  const services = () => [...lb.services.all(db.readTxn())].map((e) => `${e.object.name} ${e.object.source}`);
  const frontends = () => [...lb.frontends.all(db.readTxn())].map((e) => `${e.object.serviceName} ${formatL3n4Addr(e.object.address)}`);

  await files.apply([up(service('default', 'web', '10.96.0.1')), up(service('default', 'c', '10.96.0.9'))]);
  await k8s.apply([up(service('default', 'web', '10.96.0.2')), up(service('default', 'b', '10.96.0.9'))]);
  assert.equal(tracker.list().map((r) => [r.source, r.object, r.error]), [
    ['k8s', 'Service default/b', 'Service default/b: frontend 10.96.0.9:80/TCP belongs to service default/c'],
    ['k8s', 'Service default/web', 'Service default/web: already defined by source files; k8s cannot replace it (remove it there first)'],
  ]);
  // A newer version of a refused object replaces the refused one: the older is never applied.
  await k8s.apply([up(service('default', 'web', '10.96.0.3'))]);
  assert.equal(services(), ['default/c files', 'default/web files']);

  // The files drop web and move c: both refused k8s objects apply after that batch, no k8s event needed.
  await files.apply([del(service('default', 'web', '10.96.0.1')), up(service('default', 'c', '10.96.0.10'))]);
  assert.equal(services(), ['default/b k8s', 'default/c files', 'default/web k8s']);
  assert.equal(frontends().sort(), ['default/b 10.96.0.9:80/TCP', 'default/c 10.96.0.10:80/TCP', 'default/web 10.96.0.3:80/TCP']);
  assert.is(tracker.size, 0);

  // A conversion error is not a conflict: it stays until its source changes the object, and is not re-applied.
  const bad = service('default', 'bad', '10.96.0.300');
  await files.apply([up(bad)]);
  const revision = lb.services.revision(db.readTxn());
  await k8s.apply([del(service('default', 'b', '10.96.0.9'))]);
  assert.equal(tracker.list().map((r) => r.object), ['Service default/bad']);
  assert.is(lb.services.revision(db.readTxn()), revision + 1, 'only the delete was written');
});

sinks('the policy sink applies a batch in one transaction and names each bad object', () => {
  const db = new DB();
  const tables = newPolicyTables(db);
  const writer = new PolicyWriter(db, tables, { nodeName: 'n1' });
  const sink = new PolicySink(writer, (name) => tables.policies.get(db.readTxn(), tables.policies.primary.query(name))?.error ?? undefined);
  const good = networkPolicy('default', 'good', 'web');
  const invalid = { ...networkPolicy('default', 'invalid', 'web'), spec: { podSelector: {}, policyTypes: ['Sideways'] } };
  const nameless = { ...networkPolicy('default', 'x', 'web'), metadata: { namespace: 'default' } };
  const changes = [good, invalid, nameless].map((object): KubeChange => ({ type: 'upsert', kind: 'NetworkPolicy', object }));
  const revision = tables.policies.revision(db.readTxn());
  const other = { type: 'upsert', kind: 'Service', object: service('default', 's', '10.96.0.1') } as KubeChange;
  const result = sink.apply([...changes, other]);
  assert.is(tables.policies.revision(db.readTxn()), revision + 2, 'both named policies written in one commit');
  const byObject = result.errors.map((e) => [(e.change.object.metadata?.name ?? '<unnamed>'), e.error.name, e.error.message]);
  assert.is(byObject.length, 3);
  assert.ok(byObject.some(([n, kind, m]) => n === 'invalid' && kind === 'InvalidPolicyError' && /spec\.policyTypes.*enforces nothing/.test(m!)), JSON.stringify(byObject));
  assert.ok(byObject.some(([n, kind]) => n === '<unnamed>' && kind === 'ConversionError'));
  assert.ok(byObject.some(([n, , m]) => n === 's' && /does not handle Service/.test(m!)));
  const handle = sink.registerInitializer('files', ['NetworkPolicy', 'Service']);
  assert.equal(tables.policies.pendingInitializers(db.readTxn()), ['files']);
  assert.equal(tables.endpoints.pendingInitializers(db.readTxn()), []);
  void handle.markDone();
  assert.is(tables.policies.initialized(db.readTxn()).initialized, true);
});

const body = suite('agent: API bodies');

body('a Service body gets its identity from the path; slices get names and the service label', () => {
  const svc = service('default', 'web', '10.96.0.5');
  delete (svc as { metadata?: unknown }).metadata;
  const slice = endpointSlice('default', 'x', 'web', ['10.0.0.1']);
  delete (slice.metadata as { name?: string }).name;
  delete (slice.metadata as { labels?: unknown }).labels;
  const parsed = parseServiceBody({ service: svc, endpointSlices: [slice] }, 'default', 'web');
  assert.equal(parsed.service.metadata, { namespace: 'default', name: 'web' });
  assert.is(parsed.endpointSlices[0]!.metadata?.name, 'web-api-0');
  assert.equal(parsed.endpointSlices[0]!.metadata?.labels, { 'kubernetes.io/service-name': 'web' });
  const fail = (b: unknown, pattern: RegExp) => assert.throws(() => parseServiceBody(b, 'default', 'web'), (e: unknown) => e instanceof HttpError && e.status === 400 && pattern.test(e.message));
  fail([], /JSON object/);
  fail({ service: svc, extra: 1 }, /unknown field\(s\) extra/);
  fail({ service: svc, endpointSlices: {} }, /must be an array/);
  fail({ ...svc, apiVersion: 'v2' }, /apiVersion must be v1/);
  fail({ service: svc, endpointSlices: [endpointSlice('other', 'x', 'web', ['10.0.0.1'])] }, /endpointSlices\[0\]: metadata\.namespace "other"/);
  fail({ service: svc, endpointSlices: [endpointSlice('default', 'x', 'db', ['10.0.0.1'])] }, /names another service/);
  fail({ service: svc, endpointSlices: [endpointSlice('default', 'x', 'web', ['10.0.0.1']), endpointSlice('default', 'x', 'web', ['10.0.0.2'])] }, /appears twice/);
  fail({ service: svc, endpointSlices: [endpointSlice('default', 'x', 'web', ['not-an-ip'])] }, /EndpointSlice default\/x: endpoints\[0\]\.addresses\[0\]/);
});

const source = suite('agent: the API source');

function apiRow(name: string, slices: string[]): ApiServiceRow {
  const [ns, n] = name.split('/') as [string, string];
  return { name, service: service(ns, n, '10.96.0.9'), endpointSlices: slices.map((s) => endpointSlice(ns, s, n, ['10.0.0.1']) as never), updatedAt: new Date(0).toISOString() };
}

source('rows already in the tables are applied before the initializer completes; updates and deletes follow', async () => {
  const db = new DB();
  const tables = newApiTables(db);
  db.write(tables.services, (txn) => tables.services.insert(txn, apiRow('default/web', ['web-1', 'web-2'])));
  const sink = new RecordingSink();
  const src = new ApiSource({ db, tables, sink, logger: quiet });
  assert.equal(sink.initializers.map((i) => [i.name, i.kinds]), [['api', ['Service', 'EndpointSlice', 'NetworkPolicy']]]);
  await src.start();
  assert.is(await src.synced, true);
  assert.is(sink.initializers[0]!.doneAfterBatches, 1, 'initializer done after the restored rows were applied');
  assert.equal(sink.names(), ['EndpointSlice default/web-1', 'EndpointSlice default/web-2', 'Service default/web']);
  db.write(tables.services, (txn) => tables.services.insert(txn, apiRow('default/web', ['web-2'])));
  await src.waitProcessed('services', tables.services.revision(db.readTxn()));
  assert.equal(sink.names(), ['EndpointSlice default/web-2', 'Service default/web'], 'the dropped slice was deleted');
  const row = tables.services.get(db.readTxn(), tables.services.primary.query('default/web'))!;
  db.write(tables.services, (txn) => tables.services.delete(txn, row));
  await src.waitProcessed('services', tables.services.revision(db.readTxn()));
  assert.equal(sink.names(), []);
  assert.equal(src.health().status, 'ok');
  assert.is(src.counters().batchesApplied, 3);
  await src.stop();
  assert.is(src.health().status, 'stopped');
  assert.is(tables.services.deleteTrackers, 0, 'change iterators closed');
});

source('per-object rejections are reported as the row outcome; a throwing sink is retried', async () => {
  const db = new DB();
  const tables = newApiTables(db);
  const sink = new RecordingSink({ reject: (c) => (c.kind === 'EndpointSlice' ? new Error('no slices today') : undefined) });
  const src = new ApiSource({ db, tables, sink, logger: quiet });
  await src.start();
  await src.synced;
  sink.failNextApplies(2);
  db.write(tables.services, (txn) => tables.services.insert(txn, apiRow('default/a', ['a-1'])));
  const revision = tables.services.revision(db.readTxn());
  await src.waitProcessed('services', revision);
  assert.equal(src.outcome('services', 'default/a'), { revision, errors: ['no slices today'] });
  assert.is(src.counters().sinkFailures, 2);
  assert.is(src.health().status, 'ok', 'recovered');
  await src.stop();
});

parsers.run();
sinks.run();
body.run();
source.run();
