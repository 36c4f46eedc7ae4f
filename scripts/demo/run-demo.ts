// The demo's steps (scripts/demo.mjs runs set-up first, then this):
// namespaces for two clients, three backends and a host side; the agent on
// the file source with examples/demo/; connections to the service's virtual
// IP spread over the backends; a NetworkPolicy written into the watched
// directory cuts one client off while the other still connects; the agent's
// tables and maps through the flagella command; and everything removed,
// also when interrupted (Ctrl-C, SIGTERM) or when a step fails.
//
//   node --import tsx scripts/demo/run-demo.ts [--short]
//
// Exit status 0 when every step did what it says, 1 with the failed step's
// message, 130/143 when interrupted.
import { spawn, spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { NetTopology } from '../../test/support/netns.js';
import { Cleanup } from './cleanup.js';
import { DemoAgent, FLAGELLA_BIN } from './demo-agent.js';
import { PodProcess, tally } from './demo-pods.js';
import { createDemoNetwork, describeDemoNetwork } from './demo-topology.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const examples = join(root, 'examples', 'demo');
const short = process.argv.includes('--short');
const VIP = '10.96.100.10';
const PORT = 80;
const NODE_NAME = 'flagella-demo';
const CONNECTIONS = short ? 9 : 30;
const DENIED_TRIES = 3;
const TIMEOUT_MS = 1500;

const out = (line = '') => process.stdout.write(`${line}\n`);
let stepNo = 1; // step 1 (set-up) is scripts/demo.mjs's
const step = (title: string) => out(`\n== ${++stepNo}. ${title}`);
const say = (line: string) => out(`   ${line}`);

const cleanup = new Cleanup();
let interrupted = false;

// Installed before anything is created, so they run before NetTopology's own
// exit hook: the whole clean-up is synchronous and done before exiting.
for (const [signal, code] of [['SIGINT', 130], ['SIGTERM', 143]] as const) {
  process.on(signal, () => {
    if (interrupted) return;
    interrupted = true;
    out(`\n${signal === 'SIGINT' ? 'interrupted' : 'terminated'}: removing what the demo created`);
    report(cleanup.runAll());
    process.exit(code);
  });
}

function report(failures: readonly string[]): void {
  for (const f of failures) process.stderr.write(`demo: clean-up: ${f}\n`);
  if (failures.length === 0) say('removed: the agent and pod processes, the namespaces, the pins, the temporary files');
}

/** Runs the flagella command with the terminal as its output (indented). */
function flagella(args: readonly string[], env: Record<string, string>): void {
  out(`\n   $ flagella ${args.join(' ')}`);
  const r = spawnSync(process.execPath, [FLAGELLA_BIN, ...args], { cwd: root, encoding: 'utf8', timeout: 60_000, env: { ...process.env, ...env } });
  const text = `${r.stdout}${r.stderr}`.trimEnd();
  for (const line of text.split('\n')) out(`   ${line}`);
  if (r.status !== 0) throw new Error(`flagella ${args.join(' ')} ended with ${r.status ?? r.signal}`);
}

const MONITOR_LINES = 3;

/**
 * Starts `flagella monitor` on the agent's event stream and resolves, once
 * it listens, to `lines`: its first MONITOR_LINES lines (bounded: what came
 * within 20 s; its error output too). The demo kills it at the end.
 */
async function startMonitor(socket: string, pinRoot: string): Promise<{ lines: Promise<string[]> }> {
  const child = spawn(process.execPath, [FLAGELLA_BIN, 'monitor', '--type', 'drop', '-n', String(MONITOR_LINES)], {
    cwd: root,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, FLAGELLA_API_SOCKET: socket, FLAGELLA_BPF_ROOT: pinRoot },
  });
  cleanup.add('monitor', () => child.kill('SIGKILL'));
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`flagella monitor did not start listening: ${stderr}`)), 30_000);
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      if (stderr.includes('Listening')) {
        clearTimeout(timer);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`flagella monitor ended (${code}): ${stderr}`)));
  });
  // Wrapped: an async function returning a bare promise would wait for it.
  const lines = new Promise<string[]>((resolve) => {
    const timer = setTimeout(() => child.kill('SIGINT'), 20_000);
    child.once('exit', () => {
      clearTimeout(timer);
      resolve([...stdout.trimEnd().split('\n').filter(Boolean), ...stderr.trimEnd().split('\n').filter((l) => l !== '' && !l.startsWith('Listening'))]);
    });
  });
  return { lines };
}

interface FrontendRow {
  address: string;
  serviceName: string;
  backends: unknown[];
  status: { kind: string };
}
interface EndpointPolicyRow {
  endpoint: string;
  enforced: { ingress: boolean };
  status: { kind: string };
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), `flagella-demo-${process.pid}-`));
  cleanup.add('temporary files', () => rmSync(workDir, { recursive: true, force: true }));
  const pinRoot = `/sys/fs/bpf/flagella-demo-${process.pid}`;
  cleanup.add('pins', () => rmSync(pinRoot, { recursive: true, force: true }));
  const topo = new NetTopology('demo');
  cleanup.add('namespaces and processes', () => topo.destroy());
  const sourceDir = join(workDir, 'objects');
  mkdirSync(sourceDir);

  step('network namespaces: two clients, three backends, the host side');
  const net = createDemoNetwork(topo);
  for (const line of describeDemoNetwork(net)) say(line);
  say(`(created: namespaces ${topo.prefix}-*, pin root ${pinRoot}, files in ${workDir})`);
  const [shop, scraper] = await Promise.all([PodProcess.start(topo, net.clients.shop, []), PodProcess.start(topo, net.clients.scraper, [])]);
  await Promise.all(net.backends.map((b) => PodProcess.start(topo, b, [8080])));
  say('a small server answers on port 8080 in each web pod with its name');

  step(`the agent, on the file source: ${relative(root, examples)}/ (a Service with a ClusterIP, its EndpointSlice, the pods)`);
  for (const f of readdirSync(examples).filter((f) => f.endsWith('.yaml'))) copyFileSync(join(examples, f), join(sourceDir, f));
  const agent = DemoAgent.start(topo, { host: net.host, sourceDir, workDir, pinRoot, devices: net.devices, nodeName: NODE_NAME });
  say(`$ flagella ${agent.args.join(' ')}`);
  await agent.until(
    'the service demo/web to be in the datapath with 3 backends',
    async () => (await agent.rows<FrontendRow>('frontends')).some((r) => r.object.serviceName === 'demo/web' && r.object.backends.length === 3 && r.object.status.kind === 'done'),
    60_000,
  );
  await agent.until('the 5 pods to be endpoints in the datapath', async () => (await agent.rows<EndpointPolicyRow>('endpoint-policies')).filter((r) => r.object.status.kind === 'done').length === 5, 30_000);
  say(`ready: service demo/web on ${VIP}:${PORT} -> 3 backends on port 8080`);

  step(`connections to the virtual IP ${VIP}:${PORT} are spread over the backends`);
  for (const client of [shop, scraper]) {
    const probes = await client.connectMany(VIP, PORT, CONNECTIONS, TIMEOUT_MS);
    say(`${client.pod.name.padEnd(8)} ${CONNECTIONS} connections -> ${tally(probes)}`);
    const served = new Set(probes.filter((p) => p.ok).map((p) => p.reply));
    if (probes.some((p) => !p.ok)) throw new Error(`${client.pod.name}: some connections failed before any policy: ${tally(probes)}`);
    if (served.size < 2) throw new Error(`${client.pod.name}: all ${CONNECTIONS} connections went to one backend: ${tally(probes)}`);
  }

  step('a NetworkPolicy: the web pods accept only the shop (a file written into the watched directory)');
  say('$ cp examples/demo/policy/web-allow-shop.yaml <the watched directory>/');
  copyFileSync(join(examples, 'policy', 'web-allow-shop.yaml'), join(sourceDir, 'web-allow-shop.yaml'));
  await agent.until(
    'the 3 web pods to enforce ingress policy',
    async () => (await agent.rows<EndpointPolicyRow>('endpoint-policies')).filter((r) => /^demo\/web-/.test(r.object.endpoint) && r.object.enforced.ingress && r.object.status.kind === 'done').length === 3,
    30_000,
  );
  say('in the datapath: the web pods enforce ingress policy');
  const monitor = await startMonitor(agent.socket, pinRoot);
  const denied = await scraper.connectMany(VIP, PORT, DENIED_TRIES, TIMEOUT_MS);
  say(`scraper  ${DENIED_TRIES} connections -> ${tally(denied)}   (dropped by policy: no answer within ${TIMEOUT_MS} ms)`);
  if (denied.some((p) => p.ok)) throw new Error(`the scraper still connects after the policy: ${tally(denied)}`);
  const drops = await monitor.lines;
  out(`\n   $ flagella monitor --type drop   (running meanwhile; its first ${MONITOR_LINES} lines)`);
  for (const line of drops) say(line);
  if (!drops.some((l) => l.includes('DROP_POLICY_INGRESS'))) throw new Error('flagella monitor showed no policy drop');
  out();
  const allowed = await shop.connectMany(VIP, PORT, CONNECTIONS, TIMEOUT_MS);
  say(`shop     ${CONNECTIONS} connections -> ${tally(allowed)}`);
  if (allowed.some((p) => !p.ok)) throw new Error(`the shop lost connections after the policy: ${tally(allowed)}`);

  step("the agent's view: its frontends table, and the load-balancing maps as the datapath reads them");
  const env = { FLAGELLA_API_SOCKET: agent.socket, FLAGELLA_BPF_ROOT: pinRoot };
  flagella(['db', 'show', 'frontends'], env);
  flagella(['lb', 'dump'], env);

  step('clean-up');
  await agent.stop(topo);
  say('agent stopped (a graceful stop leaves the datapath pinned; the demo removes it next)');
}

let failed = false;
try {
  out('flagella demo: a service and a network policy on a live eBPF datapath');
  await main();
} catch (e) {
  failed = true;
  process.stderr.write(`\ndemo failed: ${e instanceof Error ? e.message : String(e)}\n`);
} finally {
  if (!interrupted) report(cleanup.runAll());
}
if (!interrupted) {
  out(failed ? '' : '\ndemo done');
  process.exitCode = failed ? 1 : 0;
}
