import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { BatchWriter, RecordingSink, type KubeChange, type ObjectSink } from '../../agent/index.js';
import { captureLogger, service, WARN } from './fixtures.js';

const svc = (name: string, ip = '10.0.0.1'): KubeChange => ({ type: 'upsert', kind: 'Service', object: service(name, 'default', ip) });
const del = (name: string): KubeChange => ({ type: 'delete', kind: 'Service', object: service(name) });
const names = (batch: readonly KubeChange[]) => batch.map((c) => `${c.type}:${c.object.metadata?.name}`);

function writer(sink: ObjectSink, over: Partial<ConstructorParameters<typeof BatchWriter>[0]> = {}) {
  const log = captureLogger();
  const w = new BatchWriter({ sink, windowMs: 20, maxEvents: 5000, backoff: { initialMs: 5, maxMs: 20 }, logger: log.logger, ...over });
  return { w, log };
}

test('changes to one object within a batch coalesce to the last, in first-seen order', async () => {
  const sink = new RecordingSink();
  const { w } = writer(sink);
  w.add(svc('a', '10.0.0.1'));
  w.add(del('b'));
  w.add(svc('c'));
  w.add(svc('a', '10.0.0.2'));
  assert.ok(await w.applied());
  assert.is(sink.batches.length, 1);
  assert.equal(names(sink.batches[0]!), ['upsert:a', 'delete:b', 'upsert:c']);
  assert.is((sink.get('Service', 'default', 'a') as { spec: { clusterIP: string } }).spec.clusterIP, '10.0.0.2');
  assert.is(w.changesApplied, 3);
  await w.close();
});

test('a full batch goes at once; nothing exceeds maxEvents; the rest waits for the window or flush()', async () => {
  const sink = new RecordingSink();
  const { w } = writer(sink, { windowMs: 60_000, maxEvents: 10 });
  for (let i = 0; i < 25; i++) w.add(svc(`s${i}`));
  await sink.waitUntil('two full batches', (s) => s.batches.length === 2);
  assert.equal(sink.batches.map((b) => b.length), [10, 10]);
  assert.is(w.size, 5);
  w.flush();
  assert.ok(await w.applied());
  assert.equal(sink.batches.map((b) => b.length), [10, 10, 5]);
  assert.is(sink.objects.size, 25);
  await w.close();
});

test('one apply at a time: changes arriving during an apply form the next batch', async () => {
  let inFlight = 0;
  let maxInFlight = 0;
  const batches: string[][] = [];
  let release!: () => void;
  let gate = new Promise<void>((r) => (release = r));
  const sink: ObjectSink = {
    async apply(changes) {
      inFlight++;
      maxInFlight = Math.max(maxInFlight, inFlight);
      batches.push(names(changes));
      await gate;
      inFlight--;
      return { errors: [] };
    },
    registerInitializer: () => ({ markDone() {} }),
  };
  const { w } = writer(sink, { windowMs: 0 });
  w.add(svc('a'));
  while (batches.length === 0) await new Promise((r) => setTimeout(r, 1));
  w.add(svc('b'));
  w.add(svc('c'));
  await new Promise((r) => setTimeout(r, 20));
  assert.is(batches.length, 1, 'second batch waits for the first apply');
  release();
  gate = Promise.resolve();
  assert.ok(await w.applied());
  assert.equal(batches, [['upsert:a'], ['upsert:b', 'upsert:c']]);
  assert.is(maxInFlight, 1);
  await w.close();
});

test('a throwing sink: the batch is kept, merged with newer changes, and retried until it applies', async () => {
  const sink = new RecordingSink();
  const { w, log } = writer(sink);
  sink.failNextApplies(2);
  w.add(svc('a', '10.0.0.1'));
  w.add(svc('b'));
  await new Promise((r) => setTimeout(r, 30));
  w.add(svc('a', '10.0.0.9')); // newer than the failed batch's copy
  assert.ok(await w.applied());
  assert.is(sink.objects.size, 2);
  assert.is((sink.get('Service', 'default', 'a') as { spec: { clusterIP: string } }).spec.clusterIP, '10.0.0.9');
  assert.is(w.sinkFailures, 2);
  assert.is(w.failing, false);
  assert.match(w.lastError?.message ?? '', /injected failure/);
  assert.ok(log.messages().some((m) => /recovered/.test(m)));
  await w.close();
});

test('per-object errors are logged with the object and extra fields, counted, and not retried', async () => {
  const sink = new RecordingSink({ reject: (c) => (c.object.metadata?.name === 'bad' ? new Error('port out of range') : undefined) });
  const { w, log } = writer(sink, { describe: () => ({ file: 'x.yaml', line: 7 }) });
  w.add(svc('good'));
  w.add(svc('bad'));
  assert.ok(await w.applied());
  assert.equal(sink.names(), ['Service default/good']);
  assert.is(w.objectErrors, 1);
  assert.is(sink.batches.length, 1);
  const rec = log.records.find((r) => r.level >= WARN && r.name === 'bad');
  assert.ok(rec, 'warning logged');
  assert.equal([rec.kind, rec.namespace, rec.file, rec.line], ['Service', 'default', 'x.yaml', 7]);
  assert.match(rec.msg, /Service default\/bad: port out of range/);
  await w.close();
});

test('completeInitializer marks done only after the queued changes applied, retrying a throwing markDone', async () => {
  const sink = new RecordingSink();
  const { w } = writer(sink, { windowMs: 60_000 });
  const handle = sink.registerInitializer('t', ['Service']);
  let calls = 0;
  w.add(svc('a'));
  const done = await w.completeInitializer({
    markDone: () => {
      if (++calls < 3) throw new Error('table locked');
      handle.markDone();
    },
  });
  assert.ok(done);
  assert.is(calls, 3);
  assert.is(sink.initializers[0]!.doneAfterBatches, 1);
  assert.is(w.sinkFailures, 2);
  await w.close();
});

test('close applies what is buffered once, ignores later adds, and leaves no timer', async () => {
  const before = process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length;
  const sink = new RecordingSink();
  const { w } = writer(sink, { windowMs: 60_000 });
  w.add(svc('a'));
  await w.close();
  w.add(svc('late'));
  assert.equal(sink.names(), ['Service default/a']);
  assert.is(await w.applied(), false);
  assert.is(process.getActiveResourcesInfo().filter((r) => r === 'Timeout').length, before);
});

test('close while the sink keeps failing ends the retries and resolves waiters false', async () => {
  const sink = new RecordingSink();
  const { w } = writer(sink, { backoff: { initialMs: 10_000, maxMs: 10_000 } });
  sink.failNextApplies(1000);
  w.add(svc('a'));
  const waiting = w.applied();
  await new Promise((r) => setTimeout(r, 40));
  assert.ok(w.failing);
  await w.close();
  assert.is(await waiting, false);
  assert.is(sink.objects.size, 0);
});

test('bad options are refused', () => {
  const sink = new RecordingSink();
  assert.throws(() => writer(sink, { maxEvents: 0 }), /batch size/);
  assert.throws(() => writer(sink, { windowMs: -1 }), /window/);
});

test.run();
