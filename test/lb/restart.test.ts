// Restart: agents as separate processes on the same pinned maps. The first
// writes everything; a second one fed the same objects restores every ID
// and entry from the maps and writes nothing at all (counted below the
// operations, prune included); a third one with one change applies it with
// the restored IDs and new IDs after them. In between, `flagella lb dump`
// reads the pinned maps with no agent running.
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { tempPinRoot } from '../support/datapath-fixture.js';

const HERE = fileURLToPath(new URL('./', import.meta.url));
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface AgentResult {
  errors: string[];
  writes: { puts: number; deletes: number; total: number; byMap: Record<string, number> };
  ids: Record<string, number>;
  dump: string;
}

/** Runs agent-process.ts to completion (bounded) in its own process group. */
function runAgent(spec: object): Promise<AgentResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', join(HERE, 'agent-process.ts'), JSON.stringify(spec)], {
      cwd: ROOT,
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, 60_000);
    child.on('close', (code) => {
      clearTimeout(timer);
      if (code !== 0) return reject(new Error(`agent exited ${code}: ${err.trim()}`));
      try {
        resolve(JSON.parse(out.trim().split('\n').pop() ?? '') as AgentResult);
      } catch (e) {
        reject(new Error(`agent printed no result: ${out} ${err} (${String(e)})`));
      }
    });
  });
}

const OBJECTS = `
apiVersion: v1
kind: Node
metadata: {name: testnode}
status:
  addresses: [{type: InternalIP, address: 192.168.7.1}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec:
  type: NodePort
  clusterIP: 10.96.7.1
  externalIPs: [198.51.100.70]
  sessionAffinity: ClientIP
  ports: [{name: http, port: 80, targetPort: 8080, nodePort: 30700}]
---
apiVersion: v1
kind: Service
metadata: {name: edge, namespace: shop}
spec:
  type: LoadBalancer
  allocateLoadBalancerNodePorts: false
  clusterIP: 10.96.7.2
  loadBalancerSourceRanges: [10.0.0.0/8, 192.168.0.0/16]
  ports: [{port: 443, targetPort: 8443}]
status:
  loadBalancer: {ingress: [{ip: 172.16.7.1}]}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-1
  namespace: shop
  labels: {kubernetes.io/service-name: web}
addressType: IPv4
ports: [{name: http, port: 8080}]
endpoints:
- {addresses: [10.244.7.1]}
- {addresses: [10.244.7.2]}
- addresses: [10.244.7.3]
  conditions: {ready: false, serving: true, terminating: true}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: edge-1
  namespace: shop
  labels: {kubernetes.io/service-name: edge}
addressType: IPv4
ports: [{port: 8443}]
endpoints:
- {addresses: [10.244.7.10]}
`;

const CHANGED_SLICE = `
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: edge-1
  namespace: shop
  labels: {kubernetes.io/service-name: edge}
addressType: IPv4
ports: [{port: 8443}]
endpoints:
- {addresses: [10.244.7.10]}
- {addresses: [10.244.7.11]}
`;

test('a restarted agent restores IDs and writes nothing; a change after the restart keeps them', async () => {
  const pinRoot = tempPinRoot('lb-restart');
  const dir = mkdtempSync(join(tmpdir(), 'flg-lb-restart-'));
  try {
    const objects = join(dir, 'objects.yaml');
    const changed = join(dir, 'changed.yaml');
    writeFileSync(objects, OBJECTS);
    writeFileSync(changed, CHANGED_SLICE);
    const spec = { pinRoot, maglevTableSize: 251, defaultAlgorithm: 'maglev' };

    const first = await runAgent({ ...spec, files: [objects] });
    assert.equal(first.errors, []);
    assert.ok(first.writes.puts > 20, `the first agent wrote the maps (${first.writes.puts} puts)`);
    assert.match(first.dump, /^MAGLEV: ID=\d+ INNER=/m, 'a Maglev table is among what is restored');
    assert.match(first.dump, /^SRCRANGE: /m);
    assert.match(first.dump, /^AFF: /m);

    // No agent is running now: the CLI reads the pinned maps.
    const cli = execFileSync(process.execPath, [join(ROOT, 'bin/flagella.js'), 'lb', 'dump', '--bpf-root', pinRoot], { encoding: 'utf8' });
    assert.is(cli, first.dump, 'flagella lb dump prints what the agent saw');
    const json = JSON.parse(execFileSync(process.execPath, [join(ROOT, 'bin/flagella.js'), 'lb', 'dump', '--bpf-root', pinRoot, '-o', 'json'], { encoding: 'utf8' })) as { type: string }[];
    assert.is(json.length, first.dump.trimEnd().split('\n').length, 'the same entries as objects');

    const second = await runAgent({ ...spec, files: [objects] });
    assert.equal(second.writes, { puts: 0, deletes: 0, total: 0, byMap: {} }, 'nothing rewritten, nothing pruned');
    assert.equal(second.ids, first.ids, 'every frontend has its old ID');
    assert.is(second.dump, first.dump);

    const third = await runAgent({ ...spec, files: [objects, changed] });
    assert.equal(third.ids, first.ids, 'IDs survive a change after the restart');
    assert.ok(third.writes.total > 0 && third.writes.deletes === 0, JSON.stringify(third.writes));
    const newBackend = /^BE: ID=(\d+) ADDR=10\.244\.7\.11:8443\/TCP STATE=active$/m.exec(third.dump);
    assert.ok(newBackend, third.dump);
    const oldIds = [...first.dump.matchAll(/^BE: ID=(\d+)/gm)].map((m) => Number(m[1]));
    assert.ok(Number(newBackend[1]) > Math.max(...oldIds), 'a new backend ID follows the restored ones');
    // Of the old lines only the edge service's masters (counts) and its Maglev table changed.
    const lbId = first.ids['172.16.7.1:443/TCP'];
    const removed = first.dump.split('\n').filter((l) => !third.dump.includes(l));
    const expectedChange = new RegExp(`172\\.16\\.7\\.1:443/TCP SLOT=0|10\\.96\\.7\\.2:443/TCP SLOT=0|^MAGLEV: ID=${lbId} `);
    assert.ok(removed.length === 3 && removed.every((l) => expectedChange.test(l)), removed.join('\n'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
    rmSync(pinRoot, { recursive: true, force: true });
  }
});

test('lb dump says clearly when there are no maps', () => {
  const root = join(tmpdir(), `flg-no-maps-${process.pid}`);
  let failed: { status: number; stderr: string } | undefined;
  try {
    execFileSync(process.execPath, [join(ROOT, 'bin/flagella.js'), 'lb', 'dump', '--bpf-root', root], { encoding: 'utf8', stdio: 'pipe' });
  } catch (e) {
    failed = e as { status: number; stderr: string };
  }
  assert.ok(failed, 'the command fails');
  assert.is(failed.status, 3);
  assert.match(failed.stderr, /no load-balancing maps under .*flg-no-maps.*--bpf-root/);
});

test.run();
