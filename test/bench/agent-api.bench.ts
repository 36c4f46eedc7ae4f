// The agent end to end, as a user drives it: API round trips over the unix
// socket (PUT a service = validate, durable commit, writers, answer) against
// a bare GET /healthz, with and without the fsync of durable commits; and
// `--once` over a directory of services (start, sync, reconcile into the
// maps, summary) against `--once` over an empty directory. Reported, never
// asserted; 2-core noisy VM: compare ratios, not absolute values.
import { spawn } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { AgentDirs, AgentProcess, BIN, ROOT } from '../agent/agent-process.js';
import { endpointSlice, service, yamlDocuments } from '../agent/fixtures.js';
import { Report } from './harness.js';

const REQUESTS = 200;
const FILE_SERVICES = 1000;

async function meanMs(n: number, fn: (i: number) => Promise<void>): Promise<number> {
  for (let i = 0; i < 10; i++) await fn(-1 - i); // warm-up
  const t0 = performance.now();
  for (let i = 0; i < n; i++) await fn(i);
  return (performance.now() - t0) / n;
}

function ip(i: number): string {
  return `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
}

async function apiFigures(report: Report, fsync: boolean): Promise<void> {
  const dirs = new AgentDirs('bench-api');
  let agent: AgentProcess | undefined;
  try {
    agent = await AgentProcess.start(dirs, ['--health-addr', 'off', '--metrics-addr', 'off', ...(fsync ? [] : ['--no-state-fsync'])]);
    const a = agent;
    const health = await meanMs(REQUESTS, async () => {
      const r = await a.request('GET', '/healthz');
      if (r.status !== 200) throw new Error(r.text);
    });
    const put = await meanMs(REQUESTS, async (i) => {
      const name = `svc-${i + 20}`;
      const body = { service: service('default', name, ip(i + 20)), endpointSlices: [endpointSlice('default', `${name}-1`, name, ['10.0.0.1', '10.0.0.2'])] };
      const r = await a.request('PUT', `/v1/services/default/${name}`, body);
      if (r.status !== 200) throw new Error(r.text);
    });
    const get = await meanMs(REQUESTS, async () => {
      const r = await a.request('GET', '/v1/tables/frontends');
      if (r.status !== 200) throw new Error(r.text);
    });
    const suffix = fsync ? '' : ', --no-state-fsync';
    report.add({ name: `PUT service + 2 endpoints${suffix}`, value: put, unit: 'ms/req', better: 'lower', baseline: { name: 'GET /healthz', value: health } });
    if (fsync) report.add({ name: `GET /v1/tables/frontends (${REQUESTS + 10} rows)`, value: get, unit: 'ms/req', better: 'lower', baseline: { name: 'GET /healthz', value: health } });
  } finally {
    await agent?.stop('SIGKILL');
    dirs.cleanup();
  }
}

function onceSeconds(dirs: AgentDirs): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const child = spawn(process.execPath, [BIN, 'agent', ...dirs.args(), '--once', '--log-level', 'warn', '--source-dir', dirs.sourceDir, '--node-name', 'bench'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? resolve((performance.now() - t0) / 1000) : reject(new Error(`--once exited ${code}: ${err}`))));
  });
}

async function onceFigures(report: Report): Promise<void> {
  const empty = new AgentDirs('bench-once0');
  const full = new AgentDirs('bench-once');
  try {
    mkdirSync(empty.sourceDir, { recursive: true });
    mkdirSync(full.sourceDir, { recursive: true });
    for (let f = 0; f < FILE_SERVICES / 100; f++) {
      const objects = [];
      for (let i = f * 100; i < (f + 1) * 100; i++) {
        objects.push(service('default', `s${i}`, ip(i + 1)), endpointSlice('default', `s${i}-1`, `s${i}`, ['10.1.0.1', '10.1.0.2']));
      }
      writeFileSync(join(full.sourceDir, `f${f}.yaml`), yamlDocuments(objects));
    }
    const base = await onceSeconds(empty);
    const value = await onceSeconds(full);
    report.add({ name: `--once, ${FILE_SERVICES} services x 2 endpoints from files`, value, unit: 's', better: 'lower', baseline: { name: '--once, empty directory', value: base } });
    report.add({ name: '  of which per service', value: ((value - base) / FILE_SERVICES) * 1000, unit: 'ms', better: 'lower', baseline: { name: 'start-up / 1000', value: (base / FILE_SERVICES) * 1000 } });
  } finally {
    empty.cleanup();
    full.cleanup();
  }
}

const report = new Report('agent: API round trips and --once (2-core VM, noisy; compare ratios)');
await apiFigures(report, true);
await apiFigures(report, false);
await onceFigures(report);
report.print();
