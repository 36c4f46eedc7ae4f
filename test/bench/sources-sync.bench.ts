// How fast the sources turn objects into sink batches, beside the floor each
// must pay in the same run: for Kubernetes, fetching and parsing the same
// list or watch stream from the loopback API server by hand; for files,
// reading and YAML-parsing the same files by hand. Best of 3 rounds each.
// Figures are from a 2-core noisy VM: compare the ratio, not the absolutes.
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pino } from 'pino';
import { parseAllDocuments } from 'yaml';
import { FileSource, KubernetesSource, loadKubeConfig, RecordingSink } from '../../agent/index.js';
import { KubeApiServer } from '../support/kube-apiserver.js';
import { service, tempDir } from '../sources/fixtures.js';
import { Report, timeOnce } from './harness.js';

const N = 20_000;
const FILES = 1000;
const PER_FILE = 10;
const logger = pino({ level: 'silent' });

async function best(rounds: number, fn: () => Promise<unknown>): Promise<number> {
  let min = Infinity;
  for (let i = 0; i < rounds; i++) min = Math.min(min, await timeOnce(fn));
  return min;
}

/** Reads a watch stream until `count` events arrived. */
async function readEvents(url: string, count: number, started: () => void): Promise<void> {
  const ac = new AbortController();
  const res = await fetch(url, { signal: ac.signal });
  started();
  let seen = 0;
  let buffered = '';
  const decoder = new TextDecoder();
  for await (const chunk of res.body!) {
    buffered += decoder.decode(chunk as Uint8Array, { stream: true });
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      JSON.parse(buffered.slice(0, nl));
      buffered = buffered.slice(nl + 1);
      seen++;
    }
    if (seen >= count) break;
  }
  ac.abort();
}

const tmp = tempDir('bench-sources');
const report = new Report(`Sources: ${N} Services from the loopback API server, ${FILES * PER_FILE} from ${FILES} files (2-core noisy VM)`);
const server = await KubeApiServer.start();
try {
  const { config } = loadKubeConfig({ kubeconfigPath: server.writeKubeconfig(join(tmp.dir, 'kc')), env: {} });
  for (let i = 0; i < N; i++) server.create(service(`s${i}`, 'default', `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`));

  const rawList = await best(3, async () => {
    const body = (await (await fetch(`${server.url}/api/v1/services`)).json()) as { items: unknown[] };
    if (body.items.length !== N) throw new Error('short list');
  });
  const sourceList = await best(3, async () => {
    const sink = new RecordingSink();
    const source = new KubernetesSource({ sink, config, kinds: ['Service'], logger });
    await source.start();
    await source.synced;
    await source.stop();
    if (sink.objects.size !== N) throw new Error('short sync');
  });
  report.add({
    name: 'initial sync: list -> sink, synced',
    value: sourceList / N / 1e3,
    unit: 'µs/object',
    better: 'lower',
    baseline: { name: 'fetch + JSON.parse of the list', value: rawList / N / 1e3 },
  });

  // Watch: N creates streamed to a synced watcher.
  const rawWatch = await best(3, async () => {
    server.compact();
    let go!: () => void;
    const ready = new Promise<void>((r) => (go = r));
    const reading = readEvents(`${server.url}/api/v1/services?watch=true&resourceVersion=${server.resourceVersion}`, N, go);
    await ready;
    for (let i = 0; i < N; i++) server.update(service(`s${i}`, 'default', '10.96.0.1'));
    await reading;
  });
  const sink = new RecordingSink();
  const source = new KubernetesSource({ sink, config, kinds: ['Service'], logger });
  await source.start();
  await source.synced;
  let version = 0;
  const sourceWatch = await best(3, async () => {
    version++;
    const before = sink.batches.length;
    for (let i = 0; i < N; i++) server.update({ ...service(`s${i}`), metadata: { name: `s${i}`, namespace: 'default', labels: { v: String(version) } } });
    await sink.waitUntil('all updates', (s) => s.get('Service', 'default', `s${N - 1}`)?.metadata?.labels?.v === String(version), 60_000);
    if (sink.batches.length - before > N / 100) throw new Error('unexpectedly many batches');
  });
  await source.stop();
  report.add({
    name: 'watch: updates -> sink (batched)',
    value: sourceWatch / N / 1e3,
    unit: 'µs/event',
    better: 'lower',
    baseline: { name: 'read + JSON.parse of the stream', value: rawWatch / N / 1e3 },
  });

  const dir = join(tmp.dir, 'files');
  mkdirSync(dir);
  for (let f = 0; f < FILES; f++) {
    const docs = Array.from({ length: PER_FILE }, (_, j) =>
      `apiVersion: v1\nkind: Service\nmetadata:\n  name: f${f}-${j}\nspec:\n  clusterIP: 10.97.${f & 255}.${j}\n  ports:\n  - port: 80\n`);
    writeFileSync(join(dir, `f${f}.yaml`), docs.join('---\n'));
  }
  const rawFiles = await best(3, () => {
    let objects = 0;
    for (const name of readdirSync(dir)) {
      for (const doc of parseAllDocuments(readFileSync(join(dir, name), 'utf8')) as { toJS(): unknown }[]) {
        if (doc.toJS() !== null) objects++;
      }
    }
    if (objects !== FILES * PER_FILE) throw new Error('short parse');
    return Promise.resolve();
  });
  const fileSync = await best(3, async () => {
    const fsink = new RecordingSink();
    const fsource = new FileSource({ sink: fsink, dir, logger });
    await fsource.start();
    await fsource.synced;
    await fsource.stop();
    if (fsink.objects.size !== FILES * PER_FILE) throw new Error('short file sync');
  });
  report.add({
    name: 'file source: first scan -> sink, synced',
    value: fileSync / (FILES * PER_FILE) / 1e3,
    unit: 'µs/object',
    better: 'lower',
    baseline: { name: 'readFile + YAML parse by hand', value: rawFiles / (FILES * PER_FILE) / 1e3 },
  });
  report.print();
} finally {
  await server.close();
  tmp.cleanup();
}
