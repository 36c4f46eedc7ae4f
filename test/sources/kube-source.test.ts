// The Kubernetes source against the loopback API server, with the real
// @kubernetes/client-node over HTTP: initial list, watch events of every
// kind, field selectors, batching, 410 relists, 500 errors and recovery,
// stop. Waits are bounded; nothing asserts timing.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { KUBE_KINDS, KubernetesSource, loadKubeConfig, RecordingSink, SourceStoppedError } from '../../agent/index.js';
import type { KubernetesSourceOptions, RecordingSinkOptions } from '../../agent/index.js';
import { KubeApiServer } from '../support/kube-apiserver.js';
import { captureLogger, objectsOfEveryKind, service, tempDir, waitFor, WARN } from './fixtures.js';

interface Harness {
  server: KubeApiServer;
  sink: RecordingSink;
  source: KubernetesSource;
  log: ReturnType<typeof captureLogger>;
  close: () => Promise<void>;
}

const FAST = { initialMs: 20, maxMs: 200 };

async function harness(
  opts: Partial<KubernetesSourceOptions> = {},
  seed: (s: KubeApiServer) => void = () => {},
  sinkOptions: RecordingSinkOptions = {},
): Promise<Harness> {
  const server = await KubeApiServer.start();
  const tmp = tempDir('kube');
  seed(server);
  const { config } = loadKubeConfig({ kubeconfigPath: server.writeKubeconfig(`${tmp.dir}/kubeconfig`), env: {} });
  const sink = new RecordingSink(sinkOptions);
  const log = captureLogger();
  const source = new KubernetesSource({ sink, config, logger: log.logger, restartBackoff: FAST, batchWindowMs: 10, ...opts });
  return {
    server,
    sink,
    source,
    log,
    close: async () => {
      await source.stop();
      await server.close();
      tmp.cleanup();
    },
  };
}

const basics = suite('kubernetes source: list and watch');

basics('the initial list of every kind is applied, then the initializer is marked done', async () => {
  const h = await harness({}, (s) => objectsOfEveryKind().forEach((o) => s.create(o)));
  try {
    assert.equal(h.sink.initializers.map((i) => [i.name, i.kinds]), [['kubernetes', [...KUBE_KINDS]]], 'registered at construction');
    assert.is(h.source.health().status, 'starting');
    await h.source.start();
    assert.is(await h.source.synced, true);
    assert.equal(h.sink.names(), [
      'EndpointSlice default/web-abc',
      'Namespace ns',
      'NetworkPolicy default/deny',
      'Node node',
      'Pod default/pod',
      'Service default/web',
    ]);
    const done = h.sink.initializers[0]!.doneAfterBatches;
    assert.ok(done !== undefined && done >= 1 && h.sink.changes().length === 6, 'markDone after the list was applied');
    assert.is(h.source.health().status, 'ok');
    // Wire shape: list items get kind/apiVersion; NetworkPolicy keeps `from`; dates stay strings.
    const np = h.sink.get('NetworkPolicy', 'default', 'deny') as V1NetworkPolicy & { spec: { ingress: { from: unknown[] }[] } };
    assert.is(np.kind, 'NetworkPolicy');
    assert.is(np.apiVersion, 'networking.k8s.io/v1');
    assert.is(np.spec.ingress[0]!.from.length, 1);
    assert.type(np.metadata?.creationTimestamp, 'string');
  } finally {
    await h.close();
  }
});

basics('a large initial list arrives in pages of 500, as client-go reads it; every object applied', async () => {
  const h = await harness({ kinds: ['Service'] }, (s) => {
    for (let i = 0; i < 1200; i++) s.create(service(`svc-${i}`, 'default', `10.96.${i >> 8}.${i & 255}`));
  });
  try {
    await h.source.start();
    assert.is(await h.source.synced, true);
    assert.is(h.sink.names().length, 1200);
    const lists = h.server.requestsFor('/api/v1/services', false);
    assert.equal(lists.map((r) => [r.query.limit, r.query.continue !== undefined, r.status]), [['500', false, 200], ['500', true, 200], ['500', true, 200]]);
    // The watch starts at the list's resourceVersion: a later change arrives.
    h.server.delete('Service', 'default', 'svc-7');
    await waitFor('the delete after the paged list', () => h.sink.get('Service', 'default', 'svc-7') === undefined);
  } finally {
    await h.close();
  }
});

basics('a continue token that expired (410) restarts the list unpaged; nothing is missed', async () => {
  const h = await harness({ kinds: ['Service'], listPageSize: 2 }, (s) => {
    for (const name of ['a', 'b', 'c', 'd', 'e']) s.create(service(name));
  });
  try {
    h.server.failNext('/api/v1/services', 1, { status: 410, on: 'continue' });
    await h.source.start();
    assert.is(await h.source.synced, true);
    assert.equal(h.sink.names(), ['a', 'b', 'c', 'd', 'e'].map((n) => `Service default/${n}`));
    const lists = h.server.requestsFor('/api/v1/services', false);
    assert.equal(lists.map((r) => [r.query.limit, r.query.continue !== undefined, r.status]), [['2', false, 200], ['2', true, 410], [undefined, false, 200]]);
    assert.is(h.source.health().status, 'ok', 'an expired token is not an error of the source');
  } finally {
    await h.close();
  }
});

basics('watch events: add, update and delete of every kind reach the sink', async () => {
  const h = await harness();
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    assert.is(h.sink.objects.size, 0);
    const objects = objectsOfEveryKind('-w');
    for (const o of objects) h.server.create(o);
    await h.sink.waitUntil('every kind added', (s) => s.objects.size === 6);
    for (const o of objects) h.server.update({ ...o, metadata: { ...o.metadata, labels: { ...o.metadata.labels, v: '2' } } });
    await h.sink.waitUntil('every kind updated', (s) =>
      [...s.objects.values()].every((o) => o.metadata?.labels?.v === '2'),
    );
    for (const o of objects) h.server.delete(o.kind, o.metadata.namespace ?? '', o.metadata.name);
    await h.sink.waitUntil('every kind deleted', (s) => s.objects.size === 0);
    const types = h.sink.changes().map((c) => `${c.type} ${c.kind}`);
    for (const kind of KUBE_KINDS) {
      assert.ok(types.includes(`upsert ${kind}`) && types.includes(`delete ${kind}`), kind);
    }
    const counts = h.source.counters().eventsByKind;
    for (const kind of KUBE_KINDS) assert.is(counts[kind], 3, `${kind}: add, update, delete`);
  } finally {
    await h.close();
  }
});

basics('podsOnNode restricts Pods with a field selector; other kinds stay cluster-wide', async () => {
  const pod = (name: string, nodeName: string) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName },
  });
  const h = await harness({ podsOnNode: 'n1', kinds: ['Pod', 'Service'] }, (s) => {
    s.create(pod('here', 'n1'));
    s.create(pod('there', 'n2'));
    s.create(pod('unscheduled', ''));
    s.create(service('web'));
  });
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    assert.equal(h.sink.names(), ['Pod default/here', 'Service default/web']);
    for (const r of h.server.requestsFor('/api/v1/pods')) assert.is(r.query.fieldSelector, 'spec.nodeName=n1');
    assert.ok(h.server.requestsFor('/api/v1/services').every((r) => r.query.fieldSelector === undefined));
    h.server.update(pod('unscheduled', 'n1')); // bound to this node: appears
    await h.sink.waitUntil('the pod bound to n1', (s) => s.get('Pod', 'default', 'unscheduled') !== undefined);
  } finally {
    await h.close();
  }
});

basics('a burst of events is applied in few batches, coalesced per object, none larger than batchMaxEvents', async () => {
  const h = await harness({ batchWindowMs: 50, batchMaxEvents: 100, kinds: ['Service'] });
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    const before = h.sink.batches.length;
    for (let i = 0; i < 300; i++) h.server.create(service(`s${i}`));
    for (let v = 0; v < 50; v++) h.server.update({ ...service('s0'), metadata: { name: 's0', namespace: 'default', labels: { v: String(v) } } });
    await h.sink.waitUntil('300 services, s0 at its last version', (s) =>
      s.objects.size === 300 && s.get('Service', 'default', 's0')?.metadata?.labels?.v === '49',
    );
    const batches = h.sink.batches.slice(before);
    assert.is(h.source.counters().eventsByKind.Service, 350);
    assert.ok(batches.length <= 20, `${batches.length} applies for 350 events`);
    assert.ok(batches.every((b) => b.length <= 100), 'no batch above the limit');
    assert.ok(h.sink.changes().length < 350, 'updates of s0 coalesced');
  } finally {
    await h.close();
  }
});

basics('objects the sink rejects are logged with kind, namespace and name; the rest apply', async () => {
  const h = await harness(
    { kinds: ['Service'] },
    (s) => {
      s.create(service('good'));
      s.create(service('bad', 'prod'));
    },
    { reject: (c) => (c.object.metadata?.name === 'bad' ? new Error('spec.ports[0].port: out of range') : undefined) },
  );
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    assert.equal(h.sink.names(), ['Service default/good']);
    const warning = h.log.records.find((r) => r.level >= WARN && r.name === 'bad');
    assert.ok(warning);
    assert.equal([warning.kind, warning.namespace], ['Service', 'prod']);
    assert.is(h.source.counters().objectErrors, 1);
  } finally {
    await h.close();
  }
});

const faults = suite('kubernetes source: relists, errors and recovery');

faults('410 after compaction: the informer relists and a deletion made meanwhile reaches the sink', async () => {
  const h = await harness({ kinds: ['Service', 'Pod'] }, (s) => {
    s.create(service('keep'));
    s.create(service('gone'));
  });
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    await waitFor('watches open', () => h.server.openWatches('Service') === 1);
    const listsBefore = h.server.requestsFor('/api/v1/services', false).length;
    // The watch ends with 410 first, so the delete is never sent as a watch
    // event: only the relist can reveal it.
    h.server.compact();
    h.server.delete('Service', 'default', 'gone');
    h.server.create(service('new'));
    await h.sink.waitUntil('gone deleted, new added', (s) => s.names().join() === 'Service default/keep,Service default/new');
    assert.ok(h.server.requestsFor('/api/v1/services', false).length > listsBefore, 'relisted');
    const last = h.sink.changes().filter((c) => c.object.metadata?.name === 'gone').pop();
    assert.is(last?.type, 'delete');
    assert.ok(h.source.counters().resyncs >= 1);
    assert.is(h.source.counters().errors, 0, 'a 410 is not an error');
  } finally {
    await h.close();
  }
});

faults('HTTP 410 when reconnecting from a compacted resourceVersion after a disconnection: relist, deletion applied', async () => {
  const h = await harness({ kinds: ['Service'], restartBackoff: { initialMs: 200, maxMs: 400 } }, (s) => {
    s.create(service('keep'));
    s.create(service('gone'));
  });
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    await waitFor('watch open', () => h.server.openWatches('Service') === 1);
    h.server.failNext('/api/v1/services', 1, { on: 'watch' });
    h.server.dropWatches(); // reconnect fails with 500: the informer stops and backs off
    await waitFor('the informer to be backing off', () => h.source.health().status === 'degraded');
    h.server.delete('Service', 'default', 'gone');
    h.server.compact();
    await h.sink.waitUntil('gone deleted', (s) => s.names().join() === 'Service default/keep');
    assert.ok(h.server.requests.some((r) => r.watch && r.status === 410), 'the stale watch got HTTP 410');
    await waitFor('health ok again', () => h.source.health().status === 'ok');
  } finally {
    await h.close();
  }
});

faults('500 on the initial list: restart with backoff until it succeeds; degraded meanwhile; synced after', async () => {
  const h = await harness({ kinds: ['Service', 'Pod'], restartBackoff: { initialMs: 100, maxMs: 200 } }, (s) =>
    s.create(service('web')),
  );
  h.server.failNext('/api/v1/pods', 3, { on: 'list' });
  try {
    await h.source.start();
    await waitFor('degraded health', () => h.source.health().status === 'degraded');
    const health = h.source.health();
    assert.is(health.synced, false);
    assert.match(health.problems.join(), /Pod informer restarting after: .*HTTP 500/);
    assert.ok(await h.source.synced);
    const failed = h.server.requestsFor('/api/v1/pods').filter((r) => r.status === 500).length;
    assert.is(failed, 3);
    const c = h.source.counters();
    assert.is(c.errors, 3);
    assert.is(c.restarts, 3);
    assert.match(h.source.health().lastError?.message ?? '', /Pod informer: list \/api\/v1\/pods: HTTP 500/);
    assert.is(h.source.health().status, 'ok');
    assert.ok(h.log.records.some((r) => r.level >= WARN && /restarting in \d+ ms/.test(r.msg)));
  } finally {
    await h.close();
  }
});

faults('500 on a watch reconnection: restart from the last resourceVersion, then events flow again', async () => {
  const h = await harness({ kinds: ['Service'] }, (s) => s.create(service('a')));
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    await waitFor('watch open', () => h.server.openWatches('Service') === 1);
    const lists = h.server.requestsFor('/api/v1/services', false).length;
    h.server.failNext('/api/v1/services', 2, { on: 'watch' });
    h.server.dropWatches();
    await waitFor('two failed watches and a new one', () =>
      h.server.requestsFor('/api/v1/services', true).filter((r) => r.status === 500).length === 2 &&
      h.server.openWatches('Service') === 1,
    );
    h.server.create(service('b'));
    await h.sink.waitUntil('b after recovery', (s) => s.objects.size === 2);
    assert.is(h.server.requestsFor('/api/v1/services', false).length, lists, 'no relist needed');
    assert.is(h.source.counters().restarts, 2);
  } finally {
    await h.close();
  }
});

faults('a throwing sink: the batch is retried until applied; markDone waits for it', async () => {
  const h = await harness({ kinds: ['Service'], sinkBackoff: { initialMs: 10, maxMs: 20 } }, (s) => s.create(service('a')));
  h.sink.failNextApplies(3);
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    assert.equal(h.sink.names(), ['Service default/a']);
    assert.is(h.sink.initializers[0]!.doneAfterBatches, 1);
    assert.is(h.source.counters().sinkFailures, 3);
  } finally {
    await h.close();
  }
});

const lifecycle = suite('kubernetes source: lifecycle');

lifecycle('stop closes every watch, is idempotent, and the source cannot restart', async () => {
  const h = await harness();
  try {
    await h.source.start();
    await h.source.start();
    assert.ok(await h.source.synced);
    await waitFor('six watches', () => h.server.openWatches() === 6);
    await Promise.all([h.source.stop(), h.source.stop()]);
    await waitFor('watches closed', () => h.server.openWatches() === 0);
    assert.is(h.source.health().status, 'stopped');
    try {
      await h.source.start();
      assert.unreachable();
    } catch (err) {
      assert.instance(err, SourceStoppedError);
    }
    const requests = h.server.requests.length;
    h.server.create(service('late'));
    await new Promise((r) => setTimeout(r, 100));
    assert.is(h.server.requests.length, requests, 'nothing reconnects after stop');
    assert.is(h.sink.get('Service', 'default', 'late'), undefined);
  } finally {
    await h.close();
  }
});

lifecycle('stopped before the initial sync: synced resolves false and the initializer stays pending', async () => {
  const h = await harness({ kinds: ['Service', 'Pod'], restartBackoff: { initialMs: 60_000, maxMs: 60_000 } });
  h.server.failNext('/api/v1/pods', 1, { on: 'list' });
  try {
    await h.source.start();
    await waitFor('the pod list to fail', () => h.server.requestsFor('/api/v1/pods').length === 1);
    await h.source.stop();
    assert.is(await h.source.synced, false);
    assert.is(h.sink.initialized, false);
  } finally {
    await h.close();
  }
});

lifecycle('bad options are refused at construction', async () => {
  const server = await KubeApiServer.start();
  const tmp = tempDir('kube');
  try {
    const { config } = loadKubeConfig({ kubeconfigPath: server.writeKubeconfig(`${tmp.dir}/kc`), env: {} });
    const sink = new RecordingSink();
    assert.throws(() => new KubernetesSource({ sink, config, kinds: [] }), /no kinds/);
    assert.throws(() => new KubernetesSource({ sink, config, kinds: ['Deployment' as 'Pod'] }), /unknown kind "Deployment"/);
    assert.throws(() => new KubernetesSource({ sink, config, batchMaxEvents: 0 }), /batch size/);
    assert.throws(() => new KubernetesSource({ sink, config, listPageSize: 2.5 }), /listPageSize must be an integer >= 0/);
  } finally {
    await server.close();
    tmp.cleanup();
  }
});

basics.run();
faults.run();
lifecycle.run();
