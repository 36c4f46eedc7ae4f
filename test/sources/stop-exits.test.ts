// stop() leaves nothing running: a child process runs a source, is told to
// stop it at an awkward moment (an informer sleeping in its restart backoff,
// or in the client's own reconnect delay), and must then exit by itself,
// while the API server (here, in the parent) stays up and would accept any
// late reconnection.
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KubeApiServer } from '../support/kube-apiserver.js';
import { objectsOfEveryKind, tempDir, waitFor } from './fixtures.js';

const CHILD = join(fileURLToPath(new URL('.', import.meta.url)), 'stop-child.ts');
/** Far below the child's 60 s restart backoff and the client's 30 s watch timeout. */
const EXIT_BOUND_MS = 15_000;

interface Child {
  proc: ChildProcess;
  events: { event: string; [k: string]: unknown }[];
  exited: Promise<number | null>;
}

function runChild(mode: string, target: string): Child {
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', CHILD, mode, target], {
    detached: true,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const events: Child['events'] = [];
  createInterface({ input: proc.stdout }).on('line', (l) => events.push(JSON.parse(l) as Child['events'][number]));
  const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
  return { proc, events, exited };
}

function kill(child: Child): void {
  try {
    process.kill(-child.proc.pid!, 'SIGKILL');
  } catch {
    // already gone
  }
}

async function stopAndExpectExit(child: Child): Promise<void> {
  child.proc.stdin!.write('stop\n');
  const code = await Promise.race([child.exited, new Promise<'hung'>((r) => setTimeout(() => r('hung'), EXIT_BOUND_MS).unref())]);
  assert.is(code, 0, 'the child exited on its own after stop()');
  assert.ok(child.events.some((e) => e.event === 'stopped' && e.health === 'stopped'));
}

const seen = (child: Child, event: string) => () => child.events.some((e) => e.event === event);

test('Kubernetes source: stop during an informer restart backoff; nothing reconnects later', async () => {
  const server = await KubeApiServer.start();
  const tmp = tempDir('stop');
  objectsOfEveryKind().forEach((o) => server.create(o));
  server.failNext('/api/v1/pods', 1, { on: 'list' });
  const child = runChild('kube', server.writeKubeconfig(join(tmp.dir, 'kubeconfig')));
  try {
    await waitFor('five watches and the failed pod list', () =>
      server.openWatches() === 5 && server.requestsFor('/api/v1/pods').length === 1, 20_000);
    await stopAndExpectExit(child);
    assert.not.ok(child.events.some((e) => e.event === 'synced' && e.synced === true));
    assert.is(server.openWatches(), 0);
    assert.is(server.requestsFor('/api/v1/pods').length, 1, 'the pending restart never ran');
  } finally {
    kill(child);
    await server.close();
    tmp.cleanup();
  }
});

test("Kubernetes source: stop while the client's informers sleep before reconnecting", async () => {
  const server = await KubeApiServer.start();
  const tmp = tempDir('stop');
  const child = runChild('kube', server.writeKubeconfig(join(tmp.dir, 'kubeconfig')));
  try {
    await waitFor('synced', seen(child, 'synced'), 20_000);
    await waitFor('six watches', () => server.openWatches() === 6);
    // The first clean end reconnects at once; after the second, the
    // informer waits (1 s, growing) before reconnecting.
    server.dropWatches();
    await waitFor('six watches again', () => server.openWatches() === 6);
    const requests = server.requests.length;
    server.dropWatches();
    await stopAndExpectExit(child);
    assert.is(server.openWatches(), 0);
    await new Promise((r) => setTimeout(r, 1500));
    assert.is(server.requests.length, requests, 'no reconnection after stop');
  } finally {
    kill(child);
    await server.close();
    tmp.cleanup();
  }
});

test('file source: stop leaves no watcher or timer behind', async () => {
  const tmp = tempDir('stop');
  writeFileSync(join(tmp.dir, 'a.yaml'), 'apiVersion: v1\nkind: Service\nmetadata:\n  name: a\n');
  const child = runChild('files', tmp.dir);
  try {
    await waitFor('synced', seen(child, 'synced'), 20_000);
    await stopAndExpectExit(child);
  } finally {
    kill(child);
    tmp.cleanup();
  }
});

test.run();
