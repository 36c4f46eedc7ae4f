// The load-balancing control plane end to end: 50,000 ClusterIP services
// with one backend each, from Kubernetes objects (Service + EndpointSlice)
// through LBWriter, statedb and the reconciler into the maps, once into
// in-memory maps and once into the kernel's. Reported as services per
// second and retained heap bytes per service, beside the conversion alone
// measured in the same run (the floor) and Cilium's published figure
// (70,607 services/s, 3.5 KB in use per service into fake maps, PR #40218).
// Figures are from a 2-core noisy VM: compare ratios, not absolutes.
import { rmSync } from 'node:fs';
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { kernelLBMaps, LBOperations, loadDatapath, memoryLBMaps, newLBReconciler, type LBMaps } from '../../datapath/index.js';
import { DB } from '../../statedb/index.js';
import { fromEndpointSlice, fromService, LBWriter, newLBTables, type LBObjectChange } from '../../tables/index.js';
import { tempPinRoot } from '../support/datapath-fixture.js';
import { Report } from './harness.js';

const N = Number(process.env.FLAGELLA_LB_BENCH_SERVICES ?? 50_000);
/** Changes per writer batch (Cilium's reflector commits up to 5000 events per transaction). */
const BATCH = 1000;
const gc = (globalThis as { gc?: () => void }).gc ?? (() => undefined);

function objects(n = N): LBObjectChange[] {
  const out: LBObjectChange[] = [];
  for (let i = 0; i < n; i++) {
    const name = `svc-${i}`;
    const svc: V1Service = {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name, namespace: 'bench', resourceVersion: String(i) },
      spec: { type: 'ClusterIP', clusterIP: `10.${96 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, ports: [{ name: 'http', port: 80, protocol: 'TCP', targetPort: 8080 }], selector: { app: name } },
    };
    const slice: V1EndpointSlice = {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `${name}-abcde`, namespace: 'bench', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4',
      ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: [{ addresses: [`10.${244 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`], conditions: { ready: true }, nodeName: 'node-1' }],
    };
    out.push({ type: 'upsert', kind: 'Service', object: svc }, { type: 'upsert', kind: 'EndpointSlice', object: slice });
  }
  return out;
}

function heapUsed(): number {
  gc();
  gc();
  return process.memoryUsage().heapUsed;
}

/** The conversion alone: what every pipeline pays before any table write (by wall and by CPU time). */
function conversionRate(): { wall: number; cpu: number } {
  const changes = objects();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  let frontends = 0;
  for (const c of changes) {
    if (c.kind === 'Service') frontends += fromService(c.object as V1Service).frontends.length;
    else frontends += fromEndpointSlice(c.object as V1EndpointSlice).backends.length;
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  if (frontends !== 2 * N) throw new Error(`conversion produced ${frontends} rows`);
  return { wall: N / seconds, cpu: N / ((cpu.user + cpu.system) / 1e6) };
}

interface RunResult {
  /** By wall time. */
  servicesPerSecond: number;
  /** By this process's CPU time (user + system): less sensitive to other load on the VM. */
  servicesPerCpuSecond: number;
  bytesPerService: number;
}

/** Hands the objects to the writer in batches, letting the reconciler run between them (as a source would). */
async function feed(writer: LBWriter, changes: readonly LBObjectChange[]): Promise<void> {
  for (let i = 0; i < changes.length; i += BATCH) {
    const errors = writer.apply(changes.slice(i, i + BATCH)).errors;
    if (errors.length > 0) throw errors[0]!.error;
    await new Promise((r) => setImmediate(r));
  }
}

/** Objects -> writer (batches) -> reconciler -> maps; until every frontend is done. The objects are garbage before the heap is measured. */
async function pipeline(maps: LBMaps, n = N): Promise<RunResult> {
  const before = heapUsed();
  const db = new DB();
  const tables = newLBTables(db);
  const writer = new LBWriter(db, tables, { nodeName: 'node-1' });
  const ops = new LBOperations({ tables, maps });
  const reconciler = newLBReconciler({ db, tables, operations: ops, roundRate: { perSecond: Infinity }, refreshIntervalMs: 0 });
  reconciler.start();
  const cpu0 = process.cpuUsage();
  const start = performance.now();
  await feed(writer, objects(n));
  for (;;) {
    const progress = await reconciler.waitUntilReconciled(tables.frontends.revision(db.readTxn()));
    if (progress.retryLowWatermark !== 0) throw new Error('a frontend failed');
    if (tables.frontends.numObjects(db.readTxn()) === n && [...tables.frontends.all(db.readTxn())].every((e) => e.object.status.kind === 'done')) break;
  }
  const seconds = (performance.now() - start) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const bytes = (heapUsed() - before) / n;
  await reconciler.stop();
  // Keep everything alive until measured.
  if (ops.state.byAddress.size !== n || writer.sliceCount !== n) throw new Error('incomplete');
  return { servicesPerSecond: n / seconds, servicesPerCpuSecond: n / ((cpu.user + cpu.system) / 1e6), bytesPerService: bytes };
}

// Warm-up (JIT) with a tenth of the services, so neither measured run pays for compilation.
await pipeline(memoryLBMaps(), Math.ceil(N / 10));
const conversion = conversionRate();
const memory = await pipeline(memoryLBMaps());

const pinRoot = tempPinRoot('lb-bench');
let kernel: RunResult;
try {
  const dp = loadDatapath({ pinRoot, mapSizes: { flg_lb4_services: 4 * N, flg_lb4_backends: 2 * N } });
  try {
    kernel = await pipeline(kernelLBMaps(dp));
  } finally {
    dp.close();
  }
} finally {
  rmSync(pinRoot, { recursive: true, force: true });
}

const report = new Report(`LB pipeline: ${N} ClusterIP services, 1 backend each, objects to maps (2-core noisy VM)`);
for (const [name, run] of [
  ['in-memory maps', memory],
  ['kernel maps', kernel],
] as const) {
  const target = name === 'kernel maps' ? '>= 40,000 svc/s' : '>= 70,000 svc/s (Cilium: 70,607)';
  report.add({ name: `into ${name}, wall`, value: run.servicesPerSecond, unit: 'svc/s', better: 'higher', baseline: { name: 'conversion alone, wall', value: conversion.wall }, target });
  report.add({ name: `into ${name}, per CPU second`, value: run.servicesPerCpuSecond, unit: 'svc/s', better: 'higher', baseline: { name: 'conversion alone, CPU', value: conversion.cpu }, target });
}
report.add({
  name: 'heap in use, in-memory maps',
  value: memory.bytesPerService,
  unit: 'B/svc',
  better: 'lower',
  baseline: { name: 'Cilium (fake maps)', value: 3500 },
  target: '<= 3.5 KB/svc',
});
report.add({
  name: 'heap in use, kernel maps',
  value: kernel.bytesPerService,
  unit: 'B/svc',
  better: 'lower',
  baseline: { name: 'Cilium (fake maps)', value: 3500 },
  target: '<= 3.5 KB/svc',
});
report.print();
