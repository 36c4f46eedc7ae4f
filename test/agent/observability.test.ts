// The agent's health and metrics endpoints and its logs: /healthz answers
// 200 and turns 503 with the problem when a source degrades; /metrics has
// the statedb, reconciler, source, datapath (per reason, read from the
// per-CPU map at scrape time) and process metrics; stdout is JSON lines
// with the expected fields, or text lines with --log-format text.
import { writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfProgram } from '../../datapath/index.js';
import { buildPacket } from '../support/packet.js';
import { AgentDirs, AgentProcess } from './agent-process.js';
import { service, yamlDocuments } from './fixtures.js';

const VIP = '10.96.9.10';

async function get(address: string, path: string, method = 'GET'): Promise<{ status: number; text: string; type: string }> {
  const res = await fetch(`http://${address}${path}`, { method, signal: AbortSignal.timeout(10_000) });
  return { status: res.status, text: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** The value of one sample line `name{labels} value` (labels matched as a substring), or undefined. */
function sample(metrics: string, name: string, labels = ''): number | undefined {
  for (const line of metrics.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels !== '' && !rest.includes(labels)) continue;
    return Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return undefined;
}

const obs = suite('flagella agent: health, metrics, logs');
const dirs = new AgentDirs('obs');
let agent: AgentProcess;
let health = '';
let metrics = '';

obs.before(async () => {
  mkdirSync(dirs.sourceDir, { recursive: true });
  writeFileSync(join(dirs.sourceDir, 'svc.yaml'), yamlDocuments([service('default', 'nobackends', VIP)]));
  agent = await AgentProcess.start(dirs, ['--source-dir', dirs.sourceDir, '--node-name', 'obs-node', '--node-addresses', '192.168.70.1']);
  health = agent.endpoint(1);
  metrics = agent.endpoint(2);
});

obs.after(async () => {
  try {
    await agent?.stop('SIGKILL');
  } finally {
    dirs.cleanup();
  }
});

obs('the ready line names the socket and the bound health and metrics addresses', () => {
  assert.is(agent.endpoint(0), dirs.socket);
  assert.match(health, /^127\.0\.0\.1:\d+$/);
  assert.match(metrics, /^127\.0\.0\.1:\d+$/);
  assert.is.not(health, '127.0.0.1:0');
});

obs('GET /healthz: 200 ok; other paths 404, other methods 405', async () => {
  const h = await get(health, '/healthz');
  assert.is(h.status, 200, h.text);
  const body = JSON.parse(h.text) as { status: string; problems: string[]; synced: boolean };
  assert.is(body.status, 'ok');
  assert.equal(body.problems, []);
  assert.is(body.synced, true);
  assert.is((await get(health, '/metrics')).status, 404);
  assert.is((await get(health, '/healthz', 'POST')).status, 405);
});

obs('GET /metrics: statedb, reconciler, source, datapath, API and process metrics', async () => {
  const prog = BpfProgram.openPinned(join(dirs.pinRoot, 'progs', 'flg_tc_ingress'));
  try {
    prog.testRun({ data: buildPacket({ saddr: '10.0.9.9', daddr: VIP, proto: 'tcp', sport: 40001, dport: 80 }) });
  } finally {
    prog.close();
  }
  await agent.request('GET', '/v1/tables');
  const m = await get(metrics, '/metrics');
  assert.is(m.status, 200);
  assert.match(m.type, /text\/plain/);
  const text = m.text;
  assert.is(sample(text, 'flagella_statedb_table_objects', 'table="frontends"'), 1);
  assert.ok(sample(text, 'flagella_statedb_write_txn_duration_seconds_count') !== undefined);
  assert.ok((sample(text, 'flagella_reconciler_rounds_total', 'reconciler="lb-maps"') ?? 0) >= 1);
  assert.ok(sample(text, 'flagella_reconciler_prune_runs_total', 'reconciler="ipcache"') !== undefined);
  assert.is(sample(text, 'flagella_source_synced', 'source="files"'), 1);
  assert.is(sample(text, 'flagella_source_synced', 'source="api"'), 1);
  assert.is(sample(text, 'flagella_source_events_total', 'source="files",kind="Service"'), 1);
  assert.is(sample(text, 'flagella_source_objects_rejected'), undefined, 'no rejected objects');
  assert.ok((sample(text, 'flagella_datapath_packets_total', 'reason="DROP_NO_BACKEND"') ?? 0) >= 1, 'the drop is counted');
  assert.ok((sample(text, 'flagella_datapath_bytes_total', 'reason="DROP_NO_BACKEND"') ?? 0) > 0);
  assert.ok(sample(text, 'flagella_datapath_packets_total', 'reason="FORWARDED"') !== undefined);
  assert.ok((sample(text, 'flagella_lb_map_writes_total', 'op="put"') ?? 0) >= 1);
  assert.ok((sample(text, 'flagella_api_requests_total', 'route="/v1/tables",code="200"') ?? 0) >= 1);
  assert.is(sample(text, 'flagella_agent_info', 'node="obs-node"'), 1);
  assert.ok(sample(text, 'process_cpu_user_seconds_total') !== undefined);
  assert.ok(sample(text, 'nodejs_heap_size_used_bytes') !== undefined);
});

obs('a broken file degrades health: /healthz answers 503 naming it, then recovers', async () => {
  const broken = join(dirs.sourceDir, 'broken.yaml');
  writeFileSync(broken, 'kind: Service\nmetadata: [\n');
  const wait = async (status: number) => {
    const deadline = Date.now() + 15_000;
    for (;;) {
      const h = await get(health, '/healthz');
      if (h.status === status) return JSON.parse(h.text) as { status: string; problems: string[] };
      if (Date.now() > deadline) throw new Error(`health stayed ${h.status}: ${h.text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  const degraded = await wait(503);
  assert.is(degraded.status, 'degraded');
  assert.ok(degraded.problems.some((p) => p.startsWith('source files:') && p.includes('broken.yaml')), JSON.stringify(degraded.problems));
  const viaSocket = await agent.request('GET', '/healthz');
  assert.is(viaSocket.status, 503);
  rmSync(broken);
  assert.is((await wait(200)).status, 'ok');
});

obs('stdout is JSON lines with level, time, pid, hostname and msg', () => {
  assert.ok(agent.logs.length > 5);
  for (const line of agent.logs) {
    assert.is.not(line.level, 'raw', `not JSON: ${line.msg}`);
    assert.ok(['trace', 'debug', 'info', 'warn', 'error', 'fatal'].includes(line.level), line.level);
    assert.match(String(line.time), /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    assert.type(line.pid, 'number');
    assert.type(line.hostname, 'string');
    assert.type(line.msg, 'string');
  }
  const msgs = agent.logs.map((l) => l.msg);
  for (const m of ['starting flagella agent', 'restored durable table', 'datapath loaded; load-balancing state restored from the pinned maps', 'serving the API', 'serving health', 'serving metrics', 'agent ready']) {
    assert.ok(msgs.includes(m), `log "${m}"`);
  }
  const ready = agent.logs.find((l) => l.msg === 'agent ready')!;
  assert.is(ready.node, 'obs-node');
  assert.equal(ready.nodeAddresses, ['192.168.70.1']);
  assert.ok(agent.logs.some((l) => l.component === 'source' && typeof l.msg === 'string'), 'component bindings');
});

obs('--log-format text writes one human-readable line per entry', async () => {
  const textDirs = new AgentDirs('obs-text');
  try {
    const { spawn } = await import('node:child_process');
    const { BIN, ROOT } = await import('./agent-process.js');
    const child = spawn(process.execPath, [BIN, 'agent', ...textDirs.args(), '--log-format', 'text', '--health-addr', 'off', '--metrics-addr', 'off'], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    const deadline = Date.now() + 30_000;
    while (!out.includes('agent ready') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 50));
    process.kill(-child.pid!, 'SIGTERM');
    await new Promise((r) => child.once('exit', r));
    const ready = out.split('\n').find((l) => l.includes('agent ready'));
    assert.ok(ready, out);
    assert.match(ready, /^\d{4}-\d\d-\d\dT[\d:.]+Z INFO {2}agent ready node=\S+ endpoints=\[".*api\.sock"\]/);
    assert.not.match(out, /^\{/m, 'no JSON lines');
  } finally {
    textDirs.cleanup();
  }
});

obs.run();
