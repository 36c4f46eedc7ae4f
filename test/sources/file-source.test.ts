// The YAML directory source: initial scan, changes picked up by fs.watch and
// by the periodic rescan, broken files (reported with name and line, their
// objects kept), removals, moves, conflicts, multi-document files, stop.
// Most tests scan explicitly (rescan()) with fs.watch debounced far away, so
// what one scan sees is deterministic; the watch tests wait, bounded.
import { mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FileSource, RecordingSink, SourceConfigError, type FileSourceOptions, type RecordingSinkOptions } from '../../agent/index.js';
import { captureLogger, tempDir, waitFor, WARN } from './fixtures.js';

const svc = (name: string, ip = '10.96.0.10', ns?: string) =>
  `apiVersion: v1\nkind: Service\nmetadata:\n  name: ${name}\n${ns === undefined ? '' : `  namespace: ${ns}\n`}spec:\n  clusterIP: ${ip}\n  ports:\n  - port: 80\n`;
const slice = (name: string) =>
  `apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata:\n  name: ${name}\n  labels: {kubernetes.io/service-name: web}\naddressType: IPv4\nendpoints:\n- addresses: [10.1.0.1]\n`;
const policy = (name: string) =>
  `apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata:\n  name: ${name}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: client}}\n`;
const ipOf = (sink: RecordingSink, name: string) =>
  (sink.get('Service', 'default', name) as { spec?: { clusterIP?: string } } | undefined)?.spec?.clusterIP;

interface Harness {
  dir: string;
  sink: RecordingSink;
  source: FileSource;
  log: ReturnType<typeof captureLogger>;
  write: (name: string, text: string) => void;
  rm: (name: string) => void;
  close: () => Promise<void>;
}

/** Explicit scans only, unless the options say otherwise. */
function harness(opts: Partial<FileSourceOptions> = {}, sinkOpts: RecordingSinkOptions = {}): Harness {
  const tmp = tempDir('files');
  const sink = new RecordingSink(sinkOpts);
  const log = captureLogger();
  const source = new FileSource({ sink, dir: tmp.dir, logger: log.logger, debounceMs: 600_000, rescanIntervalMs: 600_000, ...opts });
  return {
    dir: tmp.dir,
    sink,
    source,
    log,
    write: (name, text) => writeFileSync(join(tmp.dir, name), text),
    rm: (name) => rmSync(join(tmp.dir, name)),
    close: async () => {
      await source.stop();
      tmp.cleanup();
    },
  };
}

const scan = suite('file source: scans');

scan('the first scan applies every object of every YAML file in one batch, then marks the initializer done', async () => {
  const h = harness();
  try {
    h.write('web.yaml', `${svc('web')}---\n${slice('web-1')}`);
    h.write('policy.yml', policy('deny'));
    h.write('notes.txt', svc('ignored-txt'));
    h.write('.hidden.yaml', svc('ignored-hidden'));
    mkdirSync(join(h.dir, 'sub.yaml'));
    assert.equal(h.sink.initializers.map((i) => i.name), ['files']);
    await h.source.start();
    assert.is(await h.source.synced, true);
    assert.equal(h.sink.names(), ['EndpointSlice default/web-1', 'NetworkPolicy default/deny', 'Service default/web']);
    assert.is(h.sink.batches.length, 1);
    assert.is(h.sink.initializers[0]!.doneAfterBatches, 1);
    assert.is(h.source.health().status, 'ok');
    const c = h.source.counters();
    assert.equal([c.files, c.brokenFiles, c.conflicts, c.changesApplied], [2, 0, 0, 3]);
  } finally {
    await h.close();
  }
});

scan('an empty directory syncs with nothing; a missing one refuses to start', async () => {
  const h = harness();
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    assert.is(h.sink.objects.size, 0);
    assert.ok(h.sink.initialized);
  } finally {
    await h.close();
  }
  const sink = new RecordingSink();
  const missing = new FileSource({ sink, dir: '/nonexistent/flagella-dir', logger: captureLogger().logger });
  try {
    await missing.start();
    assert.unreachable();
  } catch (err) {
    assert.instance(err, SourceConfigError);
    assert.match((err as Error).message, /cannot read directory \/nonexistent\/flagella-dir/);
  } finally {
    await missing.stop();
  }
});

scan('added, modified and removed files; an unchanged rewrite does nothing', async () => {
  const h = harness();
  try {
    h.write('a.yaml', svc('a', '10.96.0.1'));
    await h.source.start();
    assert.ok(await h.source.synced);
    h.write('b.yaml', svc('b'));
    h.write('a.yaml', svc('a', '10.96.0.2'));
    assert.ok(await h.source.rescan());
    assert.equal(h.sink.names(), ['Service default/a', 'Service default/b']);
    assert.is(ipOf(h.sink, 'a'), '10.96.0.2');
    const batches = h.sink.batches.length;
    h.write('a.yaml', svc('a', '10.96.0.2'));
    assert.ok(await h.source.rescan());
    assert.is(h.sink.batches.length, batches, 'same content: no batch');
    rmSync(join(h.dir, 'b.yaml'));
    assert.ok(await h.source.rescan());
    assert.equal(h.sink.names(), ['Service default/a']);
    assert.equal(h.sink.batches.at(-1)!.map((c) => `${c.type} ${c.object.metadata?.name}`), ['delete b']);
  } finally {
    await h.close();
  }
});

scan('multi-document files and v1 Lists; namespaces default to "default"; unsupported kinds are skipped with a note', async () => {
  const h = harness();
  try {
    const list = `apiVersion: v1\nkind: List\nitems:\n- ${svc('l1').trimEnd().replace(/\n/g, '\n  ')}\n- ${svc('l2', '10.96.0.3', 'prod').trimEnd().replace(/\n/g, '\n  ')}\n`;
    h.write('all.yaml', `---\n${svc('m1')}---\n# comment only\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\n${list}`);
    await h.source.start();
    assert.ok(await h.source.synced);
    assert.equal(h.sink.names(), ['Service default/l1', 'Service default/m1', 'Service prod/l2']);
    assert.ok(h.log.messages().some((m) => /all\.yaml:\d+:\d+: apps\/v1 Deployment is not read by flagella; skipped/.test(m)));
    assert.is(h.source.health().status, 'ok', 'a skipped kind is not a problem');
  } finally {
    await h.close();
  }
});

const broken = suite('file source: broken files');

broken('a file that fails to parse is reported with its name and line; the others apply; fixing it applies it', async () => {
  const h = harness();
  try {
    h.write('good.yaml', svc('good'));
    h.write('broken-later.yaml', svc('later'));
    await h.source.start();
    assert.ok(await h.source.synced);
    h.write('broken-later.yaml', 'kind: Service\nmetadata: [\n');
    assert.ok(await h.source.rescan());
    h.rm('broken-later.yaml');
    h.write('broken.yaml', `${svc('fine')}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [oops\n  x: 1\n`);
    assert.ok(await h.source.rescan());
    assert.equal(h.sink.names(), ['Service default/good'], 'nothing of the broken file, the others apply');
    const health = h.source.health();
    assert.is(health.status, 'degraded');
    assert.is(health.syncWaitsFor, undefined, 'once synced, a broken file holds nothing');
    assert.is(health.problems.length, 1);
    assert.match(health.problems[0]!, new RegExp(`^${h.dir}/broken\\.yaml:1[34]:\\d+: `));
    const warning = h.log.records.find((r) => r.level >= WARN && r.file === join(h.dir, 'broken.yaml'));
    assert.ok(warning, 'logged with the file');
    assert.type(warning.line, 'number');
    assert.is(h.source.counters().brokenFiles, 1);

    h.write('broken.yaml', `${svc('fine')}---\n${svc('fixed')}`);
    assert.ok(await h.source.rescan());
    assert.equal(h.sink.names(), ['Service default/fine', 'Service default/fixed', 'Service default/good']);
    assert.is(h.source.health().status, 'ok');
    assert.ok(h.log.messages().some((m) => m.startsWith('resolved: ')));
  } finally {
    await h.close();
  }
});

broken('a file broken from the start holds the initial sync (nothing is pruned) until it parses; the others apply', async () => {
  const h = harness();
  try {
    h.write('good.yaml', svc('good'));
    h.write('broken.yaml', 'apiVersion: v1\nkind: Service\nmetadata: [\n');
    await h.source.start();
    await waitFor('the first scan to be applied', () => h.sink.names().length === 1);
    assert.ok(await h.source.rescan(), 'a second scan, still broken');
    assert.equal(h.sink.names(), ['Service default/good']);
    assert.is(h.source.isSynced, false);
    assert.equal(h.sink.initializers.map((i) => i.doneAfterBatches), [undefined], 'the initializer is still pending');
    const health = h.source.health();
    assert.equal([health.status, health.synced, health.syncWaitsFor], ['degraded', false, `${join(h.dir, 'broken.yaml')} to parse`]);
    const warnings = h.log.records.filter((r) => r.level >= WARN && typeof r.waitingFor === 'string');
    assert.is(warnings.length, 1, 'said once, not at every scan');
    h.write('broken.yaml', svc('fixed'));
    assert.ok(await h.source.rescan());
    assert.ok(await h.source.synced);
    assert.equal(h.sink.names(), ['Service default/fixed', 'Service default/good']);
    assert.ok(h.sink.initializers[0]!.doneAfterBatches !== undefined, 'done after the fixed file applied');
    assert.is(h.source.health().syncWaitsFor, undefined);
  } finally {
    await h.close();
  }
});

broken('a broken file removed before it ever parsed releases the initial sync', async () => {
  const h = harness();
  try {
    h.write('broken.yaml', 'kind: [\n');
    await h.source.start();
    assert.ok(await h.source.rescan());
    assert.is(h.source.isSynced, false);
    h.rm('broken.yaml');
    assert.ok(await h.source.rescan());
    assert.ok(await h.source.synced);
    assert.is(h.source.health().status, 'ok');
  } finally {
    await h.close();
  }
});

broken('a file that breaks later keeps its objects as they were until it parses again', async () => {
  const h = harness();
  try {
    h.write('a.yaml', `${svc('one')}---\n${svc('two')}`);
    await h.source.start();
    assert.ok(await h.source.synced);
    const batches = h.sink.batches.length;
    h.write('a.yaml', `${svc('one', '10.96.0.99')}---\nkind: Service\nmetadata:\n  name: two\n`); // second document lacks apiVersion
    assert.ok(await h.source.rescan());
    assert.is(h.sink.batches.length, batches, 'no change applied while broken');
    assert.equal(h.sink.names(), ['Service default/one', 'Service default/two']);
    assert.is(ipOf(h.sink, 'one'), '10.96.0.10', 'not even the good half of the broken version');
    assert.match(h.source.health().problems.join(), /a\.yaml:10:1: Service without apiVersion/);
    h.write('a.yaml', svc('one', '10.96.0.99'));
    assert.ok(await h.source.rescan());
    assert.equal(h.sink.names(), ['Service default/one']);
    assert.is(ipOf(h.sink, 'one'), '10.96.0.99');
  } finally {
    await h.close();
  }
});

broken('objects the sink rejects are logged with their file and line', async () => {
  const h = harness({}, { reject: (c) => (c.object.metadata?.name === 'bad' ? new Error('port out of range') : undefined) });
  try {
    h.write('svc.yaml', `${svc('ok')}---\n${svc('bad')}`);
    await h.source.start();
    assert.ok(await h.source.synced);
    const warning = h.log.records.find((r) => r.level >= WARN && r.name === 'bad');
    assert.ok(warning);
    assert.equal([warning.file, warning.line, warning.kind], [join(h.dir, 'svc.yaml'), 10, 'Service']);
    assert.is(h.source.counters().objectErrors, 1);
  } finally {
    await h.close();
  }
});

const moves = suite('file source: moves and conflicts');

moves('an object moved from one file to another is never deleted, in one scan or across two', async () => {
  const h = harness();
  try {
    h.write('a.yaml', `${svc('web')}---\n${svc('other')}`);
    await h.source.start();
    assert.ok(await h.source.synced);
    // One scan: both files rewritten.
    h.write('b.yaml', svc('web'));
    h.write('a.yaml', svc('other'));
    assert.ok(await h.source.rescan());
    // Two scans: first added to c.yaml (a conflict for a moment), then removed from b.yaml.
    h.write('c.yaml', svc('web'));
    assert.ok(await h.source.rescan());
    rmSync(join(h.dir, 'b.yaml'));
    assert.ok(await h.source.rescan());
    assert.equal(h.sink.names(), ['Service default/other', 'Service default/web']);
    assert.not.ok(h.sink.changes().some((c) => c.type === 'delete'), 'no delete was ever sent');
    assert.is(h.source.health().status, 'ok');
  } finally {
    await h.close();
  }
});

moves('two files defining one object: the first by path wins whatever the order of creation; reported until resolved', async () => {
  const h = harness();
  try {
    h.write('b.yaml', svc('web', '10.96.0.2'));
    await h.source.start();
    assert.ok(await h.source.synced);
    h.write('a.yaml', svc('web', '10.96.0.1'));
    assert.ok(await h.source.rescan());
    assert.is(ipOf(h.sink, 'web'), '10.96.0.1', 'a.yaml sorts first');
    const health = h.source.health();
    assert.is(health.status, 'degraded');
    assert.match(health.problems.join(), /Service default\/web is also defined in .*a\.yaml:1, which wins; .*b\.yaml:1 ignored/);
    assert.is(h.source.counters().conflicts, 1);
    const batches = h.sink.batches.length;
    assert.ok(await h.source.rescan());
    assert.is(h.sink.batches.length, batches, 'no flapping between the two definitions');
    rmSync(join(h.dir, 'a.yaml'));
    assert.ok(await h.source.rescan());
    assert.is(ipOf(h.sink, 'web'), '10.96.0.2', 'b.yaml takes over');
    assert.not.ok(h.sink.changes().some((c) => c.type === 'delete'));
    assert.is(h.source.health().status, 'ok');
  } finally {
    await h.close();
  }
});

moves('a duplicate within one file: the first document wins, reported as a conflict', async () => {
  const h = harness();
  try {
    h.write('dup.yaml', `${svc('web', '10.96.0.1')}---\n${svc('web', '10.96.0.2')}`);
    await h.source.start();
    assert.ok(await h.source.synced);
    assert.is(ipOf(h.sink, 'web'), '10.96.0.1');
    assert.match(h.source.health().problems.join(), /dup\.yaml:1, which wins; .*dup\.yaml:10 ignored/);
  } finally {
    await h.close();
  }
});

const watching = suite('file source: watching');

watching('fs.watch picks up new, changed and removed files without an explicit scan', async () => {
  const h = harness({ debounceMs: 20 });
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    h.write('a.yaml', svc('a'));
    await h.sink.waitUntil('a added', (s) => s.objects.size === 1);
    h.write('a.yaml', svc('a', '10.96.0.7'));
    await h.sink.waitUntil('a changed', (s) => ipOf(s, 'a') === '10.96.0.7');
    // An atomic replace (write elsewhere, rename over), as editors and ConfigMap mounts do.
    writeFileSync(join(h.dir, '.a.yaml.tmp'), svc('a', '10.96.0.8'));
    renameSync(join(h.dir, '.a.yaml.tmp'), join(h.dir, 'a.yaml'));
    await h.sink.waitUntil('a replaced', (s) => ipOf(s, 'a') === '10.96.0.8');
    rmSync(join(h.dir, 'a.yaml'));
    await h.sink.waitUntil('a removed', (s) => s.objects.size === 0);
  } finally {
    await h.close();
  }
});

watching('the periodic rescan catches changes fs.watch did not report', async () => {
  // Change events are debounced beyond the test's horizon: only the rescan can see the file.
  const h = harness({ debounceMs: 600_000, rescanIntervalMs: 30 });
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    h.write('late.yaml', svc('late'));
    await h.sink.waitUntil('late added by a rescan', (s) => s.objects.size === 1);
    assert.ok(h.source.counters().scans >= 2);
  } finally {
    await h.close();
  }
});

watching('a directory that disappears keeps every object and degrades health; it recovers when back', async () => {
  const h = harness();
  try {
    h.write('a.yaml', svc('a'));
    await h.source.start();
    assert.ok(await h.source.synced);
    rmSync(h.dir, { recursive: true });
    assert.ok(await h.source.rescan());
    assert.equal(h.sink.names(), ['Service default/a']);
    assert.is(h.source.health().status, 'degraded');
    assert.match(h.source.health().problems.join(), /cannot read directory/);
    mkdirSync(h.dir);
    h.write('a.yaml', svc('a'));
    assert.ok(await h.source.rescan());
    assert.is(h.source.health().status, 'ok');
    assert.equal(h.sink.names(), ['Service default/a']);
  } finally {
    await h.close();
  }
});

watching('stop closes the watcher and timers, is idempotent, and nothing is scanned after', async () => {
  const handles = () => process.getActiveResourcesInfo().filter((r) => r === 'FSEventWrap' || r === 'Timeout').length;
  const before = handles();
  const h = harness({ debounceMs: 10, rescanIntervalMs: 20 });
  try {
    await h.source.start();
    assert.ok(await h.source.synced);
    await Promise.all([h.source.stop(), h.source.stop()]);
    assert.is(handles(), before);
    const scans = h.source.counters().scans;
    h.write('a.yaml', svc('a'));
    await new Promise((r) => setTimeout(r, 80));
    assert.is(h.source.counters().scans, scans);
    assert.is(h.sink.objects.size, 0);
    assert.is(h.source.health().status, 'stopped');
    assert.is(await h.source.rescan(), false);
  } finally {
    await h.close();
  }
});

watching('kinds limits what the source reads; other kinds are skipped with a note', async () => {
  const h = harness({ kinds: ['Service'] });
  try {
    h.write('a.yaml', `${svc('web')}---\n${policy('deny')}`);
    await h.source.start();
    assert.ok(await h.source.synced);
    assert.equal(h.sink.names(), ['Service default/web']);
    assert.equal(h.sink.initializers[0]!.kinds, ['Service']);
    assert.ok(h.log.messages().some((m) => /NetworkPolicy is not read by this source/.test(m)));
  } finally {
    await h.close();
  }
});

scan.run();
broken.run();
moves.run();
watching.run();
