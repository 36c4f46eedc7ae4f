// Restart: the agent runs in the host namespace of a client/backends
// topology, attached to the host-side veths, with a service PUT through its
// API. While a client opens a new connection every few milliseconds and a
// long-lived connection keeps exchanging data through the virtual IP, the
// agent is killed with SIGKILL and started again. No connection fails; the
// restarted agent adopts the pinned links (same link IDs, not recreated)
// and its state (service IDs restored, zero map writes).
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { connectMany, createLbTopology, serverName, startTcpServer, TcpSession, withTopology, type NetTopology } from '../support/netns.js';
import { AgentDirs, AgentProcess } from './agent-process.js';
import { endpointSlice, service } from './fixtures.js';

const VIP = '10.96.0.10';
const LOOP = fileURLToPath(new URL('./conn-loop.ts', import.meta.url));

interface Status {
  sources: { synced: boolean }[];
  reconcilers: { pending: number; errored: number }[];
  tables: { initialized: boolean }[];
  datapath: { devices: { device: string; hook: string; linkId: number; outcome: string }[]; lbMapWrites: { total: number } };
}

async function settled(agent: AgentProcess): Promise<Status> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const s = (await agent.request('GET', '/v1/status')).json as Status;
    if (s.sources.every((x) => x.synced) && s.reconcilers.every((r) => r.pending === 0 && r.errored === 0) && s.tables.every((t) => t.initialized)) return s;
    if (Date.now() > deadline) throw new Error(`agent did not settle: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

interface LoopResult {
  t: number;
  ok: boolean;
  reply?: string;
  error?: string;
}

/** The connection loop: a child printing one result per connection. */
class ConnectionLoop {
  readonly results: LoopResult[] = [];
  private buffered = '';
  private readonly exited: Promise<void>;

  constructor(
    private readonly topo: NetTopology,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      const lines = this.buffered.split('\n');
      this.buffered = lines.pop() ?? '';
      for (const l of lines.filter(Boolean)) this.results.push(JSON.parse(l) as LoopResult);
    });
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
  }

  async waitFor(count: number, timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (this.results.length < count) {
      if (Date.now() > deadline) throw new Error(`only ${this.results.length} connections`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async stop(): Promise<void> {
    this.child.stdin?.end();
    const timer = setTimeout(() => void this.topo.kill(this.child, 'SIGKILL'), 10_000);
    await this.exited;
    clearTimeout(timer);
  }
}

test('SIGKILL and restart under traffic: no connection fails; links and state are adopted', async () => {
  const dirs = new AgentDirs('restart');
  try {
    await withTopology(async (topo) => {
      const t = createLbTopology(topo, 2);
      for (const [i, be] of t.backends.entries()) await startTcpServer(topo, be.ns, `b${i + 1}`, 8080);
      const devices = [t.client, ...t.backends].map((l) => l.hostIf).join(',');
      const args = ['--devices', devices, '--node-name', 'restart-node'];
      let agent = await AgentProcess.start(dirs, args, { topo, ns: t.host });
      const put = await agent.request('PUT', '/v1/services/default/web', {
        service: service('default', 'web', VIP),
        endpointSlices: [endpointSlice('default', 'web-1', 'web', t.backends.map((b) => b.address))],
      });
      assert.is(put.status, 200, put.text);
      const before = await settled(agent);
      assert.is(before.datapath.devices.length, 6, 'tcx ingress and egress on three devices');
      assert.ok(before.datapath.devices.every((d) => d.outcome === 'created'));
      const sanity = await connectMany(topo, t.client.ns, VIP, 80, 6);
      assert.ok(sanity.every((r) => r.ok && r.remote === `${VIP}:80`), JSON.stringify(sanity));
      const frontendsBefore = (await agent.request('GET', '/v1/tables/frontends')).json as { object: { address: string; id: number } }[];

      const session = await TcpSession.open(topo, t.client.ns, VIP, 80);
      const first = await session.request('first');
      assert.ok(first.ok, first.error);
      const loop = new ConnectionLoop(topo, topo.spawn(t.client.ns, process.execPath, ['--import', 'tsx', LOOP, VIP, '80', '5', '90']));
      let sessionOk = true;
      let exchanges = 0;
      let stopSession = false;
      const sessionLoop = (async () => {
        while (sessionOk && exchanges < 10_000) {
          const r = await session.request(`ping${exchanges}`);
          if (!r.ok || serverName(r.reply) !== serverName(first.reply)) {
            sessionOk = false;
            throw new Error(`long-lived connection broke: ${JSON.stringify(r)}`);
          }
          exchanges++;
          await new Promise((res) => setTimeout(res, 20));
          if (stopSession) return;
        }
      })();
      try {
        await loop.waitFor(20);
        const killedAt = Date.now();
        const killed = await agent.stop('SIGKILL');
        assert.is(killed.signal, 'SIGKILL');
        agent = await AgentProcess.start(dirs, args, { topo, ns: t.host });
        const readyAt = Date.now();
        const after = await settled(agent);
        await loop.waitFor(loop.results.length + 20);
        const whileDown = loop.results.filter((r) => r.t >= killedAt && r.t <= readyAt).length;
        assert.ok(whileDown > 0, 'connections ran while the agent was down');
        console.log(`  ${whileDown} connections while the agent was down (${readyAt - killedAt} ms)`);

        assert.equal(
          after.datapath.devices.map((d) => [d.device, d.hook, d.linkId]),
          before.datapath.devices.map((d) => [d.device, d.hook, d.linkId]),
          'the same links (not recreated)',
        );
        assert.ok(after.datapath.devices.every((d) => d.outcome === 'adopted' || d.outcome === 'updated'), JSON.stringify(after.datapath.devices));
        assert.is(after.datapath.lbMapWrites.total, 0, 'no map rewrites after the restart');
        const frontendsAfter = (await agent.request('GET', '/v1/tables/frontends')).json as { object: { address: string; id: number } }[];
        assert.equal(
          frontendsAfter.map((r) => [r.object.address, r.object.id]),
          frontendsBefore.map((r) => [r.object.address, r.object.id]),
          'service IDs restored',
        );
      } finally {
        stopSession = true;
        await loop.stop();
      }
      await sessionLoop;
      assert.ok(sessionOk);
      assert.ok(exchanges > 5, `the long-lived connection exchanged data (${exchanges} times)`);
      const failures = loop.results.filter((r) => !r.ok);
      assert.equal(failures, [], `${failures.length} of ${loop.results.length} connections failed`);
      assert.ok(loop.results.length >= 40, `${loop.results.length} connections`);
      assert.equal(new Set(loop.results.map((r) => serverName(r.reply))), new Set(['b1', 'b2']), 'both backends served');
      const last = await session.request('last');
      assert.ok(last.ok && serverName(last.reply) === serverName(first.reply), 'the long-lived connection survived');
      await session.close();
      await agent.stop('SIGTERM');
    }, 'r');
  } finally {
    dirs.cleanup();
  }
});

test.run();
