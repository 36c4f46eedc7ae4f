// The flagella commands against a spawned agent (test/agent/agent-process.ts
// spawns it with its own state dir, pin root and socket; the file source
// reads a temporary directory): outputs of the db commands, status, lb dump
// and monitor in each format, changes streamed while files change, exit
// codes for an absent agent, a stale socket, an unknown table, a bad index
// or key, and closed pipes.
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';
import { BpfProgram } from '../../datapath/index.js';
import { AgentDirs, AgentProcess } from '../agent/agent-process.js';
import { endpointSlice, service, yamlDocuments } from '../agent/fixtures.js';
import { buildPacket } from '../support/packet.js';
import { BIN, flagella, noStack, ROOT, Running } from './cli-support.js';

const dirs = new AgentDirs('cli');
const env = { FLAGELLA_API_SOCKET: dirs.socket, FLAGELLA_BPF_ROOT: dirs.pinRoot };
let agent: AgentProcess | undefined;

function writeObjects(file: string, objects: readonly unknown[]): void {
  writeFileSync(join(dirs.sourceDir, file), yamlDocuments(objects));
}

/** Polls `check` (bounded) until it returns true. */
async function eventually(what: string, check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

const absent = suite('flagella commands without an agent');

absent('no socket: exit 4 naming the socket; a stale socket file: exit 4 too', () => {
  const missing = join(dirs.tmp, 'nobody.sock');
  for (const args of [['db', 'tables'], ['db', 'show', 'frontends'], ['db', 'watch', 'frontends'], ['status'], ['monitor']]) {
    const r = flagella(['--api-socket', missing, ...args]);
    assert.is(r.code, 4, `${args.join(' ')}: ${r.stderr}`);
    assert.is(r.stderr, `flagella: agent not running: no API socket at ${missing} (start it with "flagella agent", or point --api-socket at its socket)\n`);
    assert.is(r.stdout, '');
  }
  // A socket file nobody listens on (a dead agent's).
  const stale = join(dirs.tmp, 'stale.sock');
  const py = spawnSync('python3', ['-c', `import socket; socket.socket(socket.AF_UNIX).bind(${JSON.stringify(stale)})`]);
  assert.is(py.status, 0, String(py.stderr));
  const r = flagella(['db', 'tables'], { FLAGELLA_API_SOCKET: stale });
  assert.is(r.code, 4);
  assert.match(r.stderr, /nothing listens on .*stale\.sock, a stale socket file/);
  noStack(r);
  rmSync(stale, { force: true });
});

absent('--local has no agent: status says so (exit 2)', () => {
  const r = flagella(['--local', 'status']);
  assert.is(r.code, 2);
  assert.match(r.stderr, /needs a running agent/);
});

absent.run();

const db = suite('flagella db and status against a running agent');

db.before(async () => {
  mkdirSync(dirs.sourceDir, { recursive: true });
  writeObjects('web.yaml', [service('default', 'web', '10.96.0.50'), endpointSlice('default', 'web-1', 'web', ['10.201.1.2', '10.201.2.2'])]);
  writeObjects('empty.yaml', [service('default', 'empty', '10.96.0.60')]);
  agent = await AgentProcess.start(dirs, ['--source-dir', dirs.sourceDir, '--node-name', 'cli-node']);
  await eventually('frontends reconciled', () => {
    const r = flagella(['db', 'show', 'frontends', '-o', 'json'], env);
    const rows = r.code === 0 ? (JSON.parse(r.stdout) as { status?: { kind?: string } }[]) : [];
    return rows.length === 2 && rows.every((f) => f.status?.kind === 'done');
  });
});

db.after(async () => {
  try {
    await agent?.stop();
  } finally {
    dirs.cleanup();
  }
});

db('db tables in every format', () => {
  const r = flagella(['db', 'tables'], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Name\s+Objects\s+Revision\s+Indexes\s+Initialized/);
  assert.match(r.stdout, /\nfrontends\s+2\s+\d+\s+address \(primary\), service \(non-unique\)\s+yes/);
  const json = JSON.parse(flagella(['db', 'tables', '-o', 'json'], env).stdout) as { name: string; objects: number; indexes: { name: string }[] }[];
  const frontends = json.find((t) => t.name === 'frontends');
  assert.is(frontends?.objects, 2);
  assert.equal(frontends?.indexes.map((i) => i.name), ['address', 'service']);
  const yaml = parseAllDocuments(flagella(['db', 'tables', '-o', 'yaml'], env).stdout).map((d) => (d.toJS() as { name: string }).name);
  assert.equal(yaml, json.map((t) => t.name));
  assert.is(flagella(['db', 'tables', '--columns', 'name,objects'], env).stdout.split('\n')[0], 'Name                Objects');
});

db('db show: the table\'s own columns, JSON objects with their fields, YAML documents', () => {
  const r = flagella(['db', 'show', 'frontends'], env);
  assert.is(r.code, 0, r.stderr);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^Address\s+Type\s+ServiceName\s+PortName\s+ID\s+Backends\s+Status/);
  assert.match(lines[1]!, /^10\.96\.0\.50:80\/TCP\s+ClusterIP\s+default\/web\s+http\s+\d+\s+10\.201\.1\.2:8080\/TCP, 10\.201\.2\.2:8080\/TCP\s+Done/);
  assert.match(lines[2]!, /^10\.96\.0\.60:80\/TCP\s+ClusterIP\s+default\/empty/);
  const rows = JSON.parse(flagella(['db', 'show', 'frontends', '-o', 'json'], env).stdout) as { address: string; serviceName: string; backends: unknown[] }[];
  assert.equal(rows.map((f) => [f.address, f.serviceName, f.backends.length]), [
    ['10.96.0.50:80/TCP', 'default/web', 2],
    ['10.96.0.60:80/TCP', 'default/empty', 0],
  ]);
  const docs = parseAllDocuments(flagella(['db', 'show', 'services', '-o', 'yaml'], env).stdout).map((d) => d.toJS() as { name: string });
  assert.equal(docs.map((d) => d.name), ['default/empty', 'default/web']);
  const cols = flagella(['db', 'show', 'backends', '--columns', 'address'], env);
  assert.is(cols.stdout, 'Address\n10.201.1.2:8080/TCP\n10.201.2.2:8080/TCP\n');
});

db('db get, list, prefix and lowerbound by the primary and a secondary index', () => {
  const get = flagella(['db', 'get', 'frontends', '10.96.0.50:80/TCP', '-o', 'json'], env);
  assert.is(get.code, 0, get.stderr);
  assert.is((JSON.parse(get.stdout) as { serviceName: string }).serviceName, 'default/web');
  const list = flagella(['db', 'list', 'frontends', 'default/empty', '--index', 'service', '--columns', 'address'], env);
  assert.is(list.stdout, 'Address\n10.96.0.60:80/TCP\n');
  const prefix = flagella(['db', 'prefix', 'services', 'default/w', '-o', 'json'], env);
  assert.is(prefix.code, 0, prefix.stderr);
  assert.equal((JSON.parse(prefix.stdout) as { name: string }[]).map((s) => s.name), ['default/web']);
  const lower = flagella(['db', 'lowerbound', 'services', 'default/f', '-o', 'json'], env);
  assert.equal((JSON.parse(lower.stdout) as { name: string }[]).map((s) => s.name), ['default/web']);
  const none = flagella(['db', 'list', 'frontends', 'nobody/none', '--index', 'service', '-o', 'json'], env);
  assert.is(none.code, 0, 'an empty list is an answer');
  assert.is(none.stdout, '[]\n');
});

db('not found and bad requests: the agent\'s messages with the CLI\'s exit codes', () => {
  const table = flagella(['db', 'show', 'nope'], env);
  assert.is(table.code, 3);
  assert.match(table.stderr, /^flagella: table "nope" not found; the tables are: .*frontends/);
  const miss = flagella(['db', 'get', 'frontends', '1.2.3.4:5/TCP'], env);
  assert.is(miss.code, 3);
  assert.match(miss.stderr, /no row with key "1\.2\.3\.4:5\/TCP" in the primary index/);
  const index = flagella(['db', 'list', 'frontends', 'x', '--index', 'port'], env);
  assert.is(index.code, 2);
  assert.match(index.stderr, /index "port".*the indexes are: address, service/);
  const key = flagella(['db', 'get', 'frontends', 'not-an-address'], env);
  assert.is(key.code, 2);
  assert.match(key.stderr, /bad key "not-an-address"/);
  const watch = flagella(['db', 'watch', 'nope', '-n', '1'], env);
  assert.is(watch.code, 3);
  for (const r of [table, miss, index, key, watch]) noStack(r);
});

db('db watch: the rows, then changes as files change (an upsert and a delete)', async () => {
  const watch = new Running(['db', 'watch', 'services', '-o', 'json'], env);
  try {
    await watch.waitFor(/default\/web/);
    writeObjects('api.yaml', [service('default', 'api', '10.96.0.70')]);
    await watch.waitFor(/"default\/api"/);
    rmSync(join(dirs.sourceDir, 'api.yaml'));
    await watch.waitFor(/"deleted":true/);
    const changes = watch.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { deleted: boolean; object: { name: string } });
    assert.equal(changes.map((c) => [c.object.name, c.deleted]), [
      ['default/empty', false],
      ['default/web', false],
      ['default/api', false],
      ['default/api', true],
    ]);
    watch.child.kill('SIGINT');
    assert.is(await watch.exit(), 0, watch.stderr);
  } finally {
    watch.kill();
  }
  const table = flagella(['db', 'watch', 'frontends', '-n', '2'], env);
  assert.is(table.code, 0, table.stderr);
  const lines = table.stdout.trimEnd().split('\n');
  assert.is(lines.length, 3);
  // A remote table's changes carry objects only: the columns are their fields.
  assert.match(lines[0]!, /^Revision\s+Op\s+address\s+type\s+serviceName/);
  assert.ok(lines.some((l) => /^\d+\s+upsert\s+10\.96\.0\.50:80\/TCP\s+ClusterIP\s+default\/web/.test(l)), table.stdout);
});

db('| head -1 ends show at once and a watch at its next change, with status 0', async () => {
  const show = spawnSync('bash', ['-c', `timeout 20 node ${BIN} db show frontends | head -1; echo "status=\${PIPESTATUS[0]}"`], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, ...env } });
  assert.match(show.stdout, /^Address\s+Type[^\n]*\nstatus=0\n$/);
  const pipe = spawn('bash', ['-c', `timeout 30 node ${BIN} db watch services | head -1; echo "status=\${PIPESTATUS[0]}"`], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  pipe.stdout.on('data', (d: Buffer) => (out += d.toString()));
  const done = new Promise<void>((resolve) => pipe.on('exit', () => resolve()));
  try {
    await eventually('the header through head', () => out.includes('Revision'));
    // head has gone; the next change makes the watch write, see the closed pipe and end.
    writeObjects('api2.yaml', [service('default', 'api2', '10.96.0.71')]);
    await done;
    assert.match(out, /^Revision\s+Op\s+name[^\n]*\nstatus=0\n$/);
  } finally {
    rmSync(join(dirs.sourceDir, 'api2.yaml'), { force: true });
    try {
      process.kill(-pipe.pid!, 'SIGKILL');
    } catch {
      /* ended */
    }
  }
});

db('status: a summary, and the document in JSON and YAML', () => {
  const r = flagella(['status'], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^Agent: +flagella \d+\.\d+\.\d+ on node cli-node, up \d+/);
  assert.match(r.stdout, /\nHealth: +ok\n/);
  assert.match(r.stdout, /\n {2}files +ok +yes +\d+ +0 +-\n/);
  assert.match(r.stdout, /\n {2}lb-maps +frontends +ok +2 +0 +0 /);
  assert.match(r.stdout, new RegExp(`\\n {2}Pin root: +${dirs.pinRoot}\\n`));
  const json = JSON.parse(flagella(['status', '-o', 'json'], env).stdout) as { nodeName: string; sources: { name: string }[] };
  assert.is(json.nodeName, 'cli-node');
  assert.ok(json.sources.some((s) => s.name === 'files'));
  const yaml = parseAllDocuments(flagella(['status', '-o', 'yaml'], env).stdout).map((d) => d.toJS() as { nodeName: string });
  assert.is(yaml[0]?.nodeName, 'cli-node');
});

db('the REPL on the agent, fed from a pipe: the same commands, one source', () => {
  const r = spawnSync(process.execPath, [BIN, 'repl'], { cwd: ROOT, encoding: 'utf8', timeout: 60_000, input: 'tables\nget frontends 10.96.0.50:80/TCP -o json\nshow nope\nlb\nexit\n', env: { ...process.env, ...env } });
  assert.is(r.status, 0, r.stderr);
  assert.match(r.stdout, new RegExp(`^flagella \\d+\\.\\d+\\.\\d+ REPL on the agent at ${dirs.socket.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.`));
  assert.match(r.stdout, /\nfrontends\s+\d+\s+\d+\s+address \(primary\)/);
  assert.match(r.stdout, /"serviceName": "default\/web"/);
  assert.match(r.stdout, /\nSVC: ID=\d+ ADDR=10\.96\.0\.50:80\/TCP SLOT=0 /, 'lb dump on the session\'s --bpf-root ($FLAGELLA_BPF_ROOT)');
  assert.match(r.stderr, /table "nope" not found/);
});

db('lb dump reads the agent\'s pinned maps', () => {
  const r = flagella(['lb', 'dump'], env);
  assert.is(r.code, 0, r.stderr);
  assert.match(r.stdout, /^SVC: ID=\d+ ADDR=10\.96\.0\.50:80\/TCP SLOT=1 BEID=\d+/m);
  assert.match(r.stdout, /^BE: ID=\d+ ADDR=10\.201\.2\.2:8080\/TCP STATE=active$/m);
});

db('monitor: a drop in the agent\'s datapath, from the agent\'s event stream', async () => {
  const mon = new Running(['monitor', '-n', '1'], env);
  try {
    await mon.waitFor(/Listening for datapath events from the agent/, 'stderr');
    // The service without endpoints drops: run a packet through the agent's pinned program.
    const prog = BpfProgram.openPinned(join(dirs.pinRoot, 'progs', 'flg_tc_ingress'));
    try {
      prog.testRun({ data: buildPacket({ saddr: '10.0.0.7', daddr: '10.96.0.60', proto: 'tcp', sport: 41000, dport: 80 }) });
    } finally {
      prog.close();
    }
    assert.is(await mon.exit(), 0, mon.stderr);
    assert.match(mon.stdout, /^\d\d:\d\d:\d\d\.\d{3} {2}drop {3}DROP_NO_BACKEND {2}tc-ingress ifindex \d+ {2}TCP 10\.0\.0\.7:41000 -> 10\.96\.0\.60:80 {2}service \d+ {2}len \d+\n$/);
  } finally {
    mon.kill();
  }
});

db.run();
