import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DispatchError,
  DispatchSink,
  RecordingSink,
  UnroutedKindError,
  WaitTimeoutError,
  type KubeChange,
} from '../../agent/index.js';
import { service } from './fixtures.js';

const svc: KubeChange = { type: 'upsert', kind: 'Service', object: service('web') };
const slice: KubeChange = {
  type: 'upsert',
  kind: 'EndpointSlice',
  object: { apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'web-1', namespace: 'default' }, addressType: 'IPv4', endpoints: [] },
};
const pod: KubeChange = { type: 'upsert', kind: 'Pod', object: { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p', namespace: 'default' } } };
const node: KubeChange = { type: 'upsert', kind: 'Node', object: { apiVersion: 'v1', kind: 'Node', metadata: { name: 'n1' } } };

test('RecordingSink: keeps current objects, batches and initializers; deletes of unknown objects are no-ops', () => {
  const sink = new RecordingSink();
  const init = sink.registerInitializer('files', ['Service']);
  sink.apply([svc, { type: 'delete', kind: 'Service', object: service('never-seen') }]);
  assert.equal(sink.names(), ['Service default/web']);
  assert.is(sink.initialized, false);
  init.markDone();
  init.markDone();
  assert.is(sink.initialized, true);
  assert.is(sink.initializers[0]!.doneAfterBatches, 1);
  assert.throws(() => {
    sink.registerInitializer('x', []);
    sink.registerInitializer('x', []);
  }, /already pending/);
});

test('RecordingSink.waitUntil resolves on a later apply and times out naming what it waited for', async () => {
  const sink = new RecordingSink();
  const waiting = sink.waitUntil('the web service', (s) => s.objects.size === 1, 5000);
  setTimeout(() => sink.apply([svc]), 5);
  await waiting;
  try {
    await sink.waitUntil('a pod', (s) => s.names('Pod').length > 0, 20);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, WaitTimeoutError);
    assert.match((err as Error).message, /a pod/);
  }
});

test('DispatchSink routes each kind to its sink, one apply per target, order kept', async () => {
  const lb = new RecordingSink();
  const policy = new RecordingSink();
  const nodes = new RecordingSink();
  const d = new DispatchSink({ Service: lb, EndpointSlice: lb, Pod: policy, Namespace: policy, NetworkPolicy: policy, Node: nodes });
  const result = await d.apply([svc, pod, slice, node]);
  assert.equal(result.errors, []);
  assert.is(lb.batches.length, 1);
  assert.equal(lb.batches[0]!.map((c) => c.kind), ['Service', 'EndpointSlice']);
  assert.equal(policy.names(), ['Pod default/p']);
  assert.equal(nodes.names(), ['Node n1']);
  assert.equal(d.kinds, ['Service', 'EndpointSlice', 'NetworkPolicy', 'Pod', 'Namespace', 'Node']);
});

test('DispatchSink reports unrouted kinds as per-object errors by default, or ignores them', async () => {
  const lb = new RecordingSink();
  const reporting = new DispatchSink({ Service: lb });
  const { errors } = await reporting.apply([svc, node]);
  assert.is(errors.length, 1);
  assert.instance(errors[0]!.error, UnroutedKindError);
  assert.match(errors[0]!.error.message, /no sink handles Node \(Node n1\)/);
  assert.equal(lb.names(), ['Service default/web']);
  const ignoring = new DispatchSink({ Service: lb }, { unrouted: 'ignore' });
  assert.equal((await ignoring.apply([node])).errors, []);
  assert.equal(ignoring.kinds, ['Service']);
});

test('DispatchSink merges per-object errors and throws DispatchError when a target throws, after the others applied', async () => {
  const lb = new RecordingSink({ reject: () => new Error('bad service') });
  const policy = new RecordingSink();
  const d = new DispatchSink({ Service: lb, Pod: policy, Node: new RecordingSink() });
  assert.is((await d.apply([svc, pod])).errors.length, 1);
  policy.failNextApplies(1);
  try {
    await d.apply([pod, node]);
    assert.unreachable();
  } catch (err) {
    assert.instance(err, DispatchError);
    assert.match((err as Error).message, /sink for Pod: recording sink: injected failure/);
  }
});

test('DispatchSink registers an initializer once per target for the kinds it serves; markDone retries only the failed ones', async () => {
  const lb = new RecordingSink();
  const policy = new RecordingSink();
  const d = new DispatchSink({ Service: lb, EndpointSlice: lb, Pod: policy, Node: new RecordingSink() });
  let policyFails = 1;
  let policyDone = 0;
  const original = policy.registerInitializer.bind(policy);
  policy.registerInitializer = (name, kinds) => {
    const h = original(name, kinds);
    return {
      markDone: () => {
        if (policyFails-- > 0) throw new Error('locked');
        policyDone++;
        return h.markDone();
      },
    };
  };
  const handle = d.registerInitializer('kubernetes', ['Service', 'EndpointSlice', 'Pod']);
  assert.equal(lb.initializers.map((i) => [i.name, i.kinds]), [['kubernetes', ['Service', 'EndpointSlice']]]);
  assert.equal(policy.initializers.map((i) => i.kinds), [['Pod']]);
  await handle.markDone().then(
    () => assert.unreachable(),
    (err: unknown) => assert.instance(err, DispatchError),
  );
  assert.is(lb.initialized, true);
  assert.is(policy.initialized, false);
  await handle.markDone();
  assert.is(policy.initialized, true);
  assert.is(policyDone, 1);
});

test.run();
