// End to end in network namespaces: a client and two backends joined through
// a host namespace where the datapath is attached with tcx on the host-side
// veths. Real TCP connections (Node net) to the virtual IP reach both
// backends and the replies come from the virtual IP. The loader runs in its
// own process; after it exits, an established connection keeps working and
// new ones still succeed; a second loader process adopts the pinned links.
import type { ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { loadDatapath } from '../../datapath/index.js';
import { tempPinRoot, type ServiceSpec } from '../support/datapath-fixture.js';
import { createLbTopology, waitForLine, withTopology, type NetTopology, type Netns } from '../support/netns.js';

const SUPPORT = fileURLToPath(new URL('../support/', import.meta.url));
const TSX = ['--import', 'tsx'];
const VIP = '10.96.0.10';

interface ClientResult {
  ok: boolean;
  local?: string;
  remote?: string;
  reply?: string;
  error?: string;
}

/** Runs `count` one-shot connections from a namespace; resolves with one result each. */
async function connectMany(topo: NetTopology, ns: Netns, host: string, port: number, count: number): Promise<ClientResult[]> {
  const child = topo.spawn(ns, process.execPath, [...TSX, join(SUPPORT, 'tcp-client.ts'), host, String(port), 'once', String(count)]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => void topo.kill(child, 'SIGKILL'), 10_000 + count * 4000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const results = out.split('\n').filter(Boolean).map((l) => JSON.parse(l) as ClientResult);
  assert.is(results.length, count, `client exited ${code} with ${results.length} results: ${out}`);
  return results;
}

/** A long-lived connection driven line by line. */
class Session {
  private pending: ((r: ClientResult) => void)[] = [];
  private buffered = '';
  constructor(private readonly child: ChildProcess) {
    child.stdout?.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const parsed = JSON.parse(line) as ClientResult & { connected?: string };
        if (parsed.connected === undefined) this.pending.shift()?.(parsed);
      }
    });
  }

  request(line: string): Promise<ClientResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${line} within 5 s`)), 5000);
      this.pending.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.child.stdin?.write(`${line}\n`);
    });
  }
}

function backendName(reply: string | undefined): string {
  return (reply ?? '').split(' ')[0] ?? '';
}

test('TCP through the VIP reaches both backends, replies come from the VIP, and survives the loader exiting', async () => {
  const pinRoot = tempPinRoot('e2e');
  try {
    await withTopology(async (topo) => {
      const t = createLbTopology(topo, 2);
      for (const [i, be] of t.backends.entries()) {
        const server = topo.spawn(be.ns, process.execPath, [...TSX, join(SUPPORT, 'tcp-server.ts'), `b${i + 1}`, '8080']);
        await waitForLine(server, /^listening/);
      }
      // Negative control: without the datapath, the VIP is unreachable.
      const before = await connectMany(topo, t.client.ns, VIP, 80, 1);
      assert.is(before[0]!.ok, false, 'VIP unreachable before the datapath is loaded');

      const service: ServiceSpec = {
        vip: VIP,
        port: 80,
        proto: 'tcp',
        id: 1,
        backends: t.backends.map((be, i) => ({ id: i + 1, addr: be.address, port: 8080 })),
      };
      const devices = [t.client, ...t.backends].map((leaf) => ({ ifname: leaf.hostIf, netns: t.host.name }));
      const spec = JSON.stringify({ devices, services: [service] });
      const startLoader = async () => {
        const loader = topo.spawn(null, process.execPath, [...TSX, join(SUPPORT, 'run-datapath.ts'), pinRoot, spec]);
        const ready = await waitForLine(loader, /^ready /, 30_000);
        return { loader, links: JSON.parse(ready.slice('ready '.length)) as { outcome: string }[] };
      };

      const first = await startLoader();
      assert.is(first.links.length, 6, 'ingress and egress on three devices');
      assert.ok(first.links.every((l) => l.outcome === 'created'));

      const results = await connectMany(topo, t.client.ns, VIP, 80, 20);
      for (const r of results) {
        assert.ok(r.ok, `connection failed: ${r.error}`);
        assert.is(r.remote, `${VIP}:80`, 'the client talks to the VIP');
        assert.match(r.reply ?? '', new RegExp(`^b[12] ${t.client.address.replace(/\./g, '\\.')}:\\d+ req`), 'backends see the real client');
      }
      assert.equal(new Set(results.map((r) => backendName(r.reply))), new Set(['b1', 'b2']), 'both backends served');

      const sessionChild = topo.spawn(t.client.ns, process.execPath, [...TSX, join(SUPPORT, 'tcp-client.ts'), VIP, '80', 'session']);
      await waitForLine(sessionChild, /"connected"/);
      const session = new Session(sessionChild);
      const one = await session.request('one');
      assert.ok(one.ok, one.error);

      // The loader exits without detaching: pins keep the datapath running.
      first.loader.stdin?.end();
      await new Promise((resolve) => first.loader.once('exit', resolve));
      assert.is(readdirSync(join(pinRoot, 'links')).length, 6, 'links stay pinned');
      const two = await session.request('two');
      assert.ok(two.ok, `established connection after the loader exited: ${two.error}`);
      assert.is(backendName(two.reply), backendName(one.reply), 'same backend');
      const after = await connectMany(topo, t.client.ns, VIP, 80, 5);
      assert.ok(after.every((r) => r.ok && r.remote === `${VIP}:80`), JSON.stringify(after));

      // A restarted loader adopts the pinned links, swapping in its new programs.
      const second = await startLoader();
      assert.ok(second.links.every((l) => l.outcome === 'updated'), JSON.stringify(second.links));
      const three = await session.request('three');
      assert.ok(three.ok && backendName(three.reply) === backendName(one.reply), 'connection survives the program swap');
      assert.ok((await connectMany(topo, t.client.ns, VIP, 80, 5)).every((r) => r.ok));
      second.loader.stdin?.end();
      await new Promise((resolve) => second.loader.once('exit', resolve));
      sessionChild.stdin?.end();
    });
  } finally {
    if (existsSync(pinRoot)) {
      const dp = loadDatapath({ pinRoot });
      try {
        dp.detachAll();
      } finally {
        dp.close();
        rmSync(pinRoot, { recursive: true, force: true });
      }
    }
  }
});

test.run();
