// New TCP connections per second through a virtual IP, in network
// namespaces (client -> host router -> backend), three modes in one run,
// each on fresh namespaces:
//   direct    the client connects to the backend's own address (no NAT);
//   ebpf      the datapath on tcx ingress of the host-side veths, 10,000
//             services loaded (ingress sees both directions here: replies
//             enter through the backend's veth and are rewritten there);
//   ebpf+egress  the same with the egress program attached too (the default
//             attach, needed where replies leave through a device whose
//             ingress did the DNAT), to show what the second hook costs;
//   iptables  kube-proxy-style DNAT: a linear KUBE-SERVICES chain of 10,000
//             services (iptables-restore), the measured service last.
// Connections are sequential connect/1-byte request/response/close loops in
// a small C program (test/support/crr.c, built with gcc here): Node's own
// per-connection cost would hide the few microseconds that separate the
// modes. Figures are from a 2-core noisy VM: compare ratios, not absolutes.
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Datapath } from '../../datapath/index.js';
import { ipNum, openTestDatapath, putService } from '../support/datapath-fixture.js';
import { fillerAddress, kubeIptablesRestore, type KubeService } from '../support/kube-iptables.js';
import { createLbTopology, waitForLine, withTopology, type LbTopology, type NetTopology } from '../support/netns.js';
import { Report } from './harness.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const CRR = join(ROOT, 'build', 'bench', 'crr');
const SERVICES = 10_000;
const VIP = '10.96.0.10';
const WARMUP = 300;
const CONNECTIONS = 3000;
const REPETITIONS = 3;
const ROUNDS = 2;

type Mode = 'direct' | 'ebpf' | 'ebpf+egress' | 'iptables';

interface Measure {
  connPerSec: number;
  p50us: number;
  failed: number;
}

function buildClient(): void {
  mkdirSync(join(ROOT, 'build', 'bench'), { recursive: true });
  execFileSync('gcc', ['-O2', '-Wall', '-o', CRR, join(ROOT, 'test', 'support', 'crr.c')]);
}

function runClient(topo: NetTopology, t: LbTopology, host: string, port: number, count: number): Measure {
  const out = topo.exec(t.client.ns, CRR, ['client', host, String(port), String(count), '30'], 60_000);
  const m = /ok=(\d+) failed=(\d+) seconds=([\d.]+) p50_us=([\d.]+)/.exec(out);
  if (!m) throw new Error(`unexpected client output: ${out}`);
  return { connPerSec: Number(m[1]) / Number(m[3]), p50us: Number(m[4]), failed: Number(m[2]) };
}

const FILLER_BASE = ipNum('10.128.0.0');

function setUpEbpf(t: LbTopology, backend: string, withEgress: boolean): Datapath & { dispose(): void } {
  const dp = openTestDatapath({}, { mapSizes: { flg_lb4_services: 65536, flg_lb4_backends: 65536 } });
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: [{ id: 1, addr: backend, port: 8080 }] });
  const services: Parameters<typeof dp.maps.lb4Services.putBatch>[0][number][] = [];
  const backends: Parameters<typeof dp.maps.lb4Backends.putBatch>[0][number][] = [];
  for (let i = 0; i < SERVICES - 1; i++) {
    const id = 2 + i;
    backends.push([id, { address: (ipNum('10.250.0.0') + i) >>> 0, port: 8080, proto: 6, flags: 0, clusterId: 0, zone: 0, pad: 0 }]);
    const key = { address: (FILLER_BASE + i) >>> 0, dport: 80, backendSlot: 0, proto: 6, scope: 0 };
    services.push([{ ...key, backendSlot: 1 }, { backendId: id, count: 0, revNatIndex: id, flags: 0x40, flags2: 0, qcount: 0 }]);
    services.push([key, { backendId: 0, count: 1, revNatIndex: id, flags: 0x40, flags2: 0, qcount: 0 }]);
  }
  dp.maps.lb4Backends.putBatch(backends);
  dp.maps.lb4Services.putBatch(services);
  const devices = [t.client, ...t.backends].map((leaf) => ({ ifname: leaf.hostIf, netns: t.host.name }));
  dp.attach(devices, { mode: 'tcx', tcxDirections: withEgress ? ['ingress', 'egress'] : ['ingress'] });
  return dp;
}

function setUpIptables(topo: NetTopology, t: LbTopology, backend: string): void {
  const services: KubeService[] = Array.from({ length: SERVICES - 1 }, (_, i) => ({
    vip: fillerAddress(FILLER_BASE, i),
    port: 80,
    backend: fillerAddress(ipNum('10.250.0.0'), i),
    backendPort: 8080,
  }));
  services.push({ vip: VIP, port: 80, backend, backendPort: 8080 });
  const file = join(ROOT, 'build', 'bench', `kube-iptables-${process.pid}.rules`);
  writeFileSync(file, kubeIptablesRestore(services));
  try {
    topo.exec(t.host, 'iptables-restore', [file], 120_000);
  } finally {
    rmSync(file, { force: true });
  }
}

/** One round of a mode on fresh namespaces: REPETITIONS measured runs after a warm-up. */
async function measureMode(mode: Mode): Promise<Measure[]> {
  return withTopology(async (topo) => {
    const t = createLbTopology(topo, 1);
    const backend = t.backends[0]!.address;
    const server = topo.spawn(t.backends[0]!.ns, CRR, ['server', '8080']);
    await waitForLine(server, /^listening/);
    let dp: (Datapath & { dispose(): void }) | undefined;
    try {
      if (mode === 'ebpf' || mode === 'ebpf+egress') dp = setUpEbpf(t, backend, mode === 'ebpf+egress');
      if (mode === 'iptables') setUpIptables(topo, t, backend);
      const [host, port] = mode === 'direct' ? [backend, 8080] : [VIP, 80];
      runClient(topo, t, host, port, WARMUP);
      return Array.from({ length: REPETITIONS }, () => runClient(topo, t, host, port, CONNECTIONS));
    } finally {
      dp?.dispose();
    }
  }, `t${mode.length}`);
}

function medianOf(runs: Measure[]): Measure {
  const sorted = [...runs].sort((a, b) => a.connPerSec - b.connPerSec);
  const mid = sorted[Math.floor(sorted.length / 2)]!;
  return { ...mid, failed: runs.reduce((n, r) => n + r.failed, 0) };
}

buildClient();
// Modes take turns over ROUNDS rounds, so a slow stretch of the VM (they
// last seconds here) does not land on one mode only.
const MODES = ['direct', 'ebpf', 'ebpf+egress', 'iptables'] as const;
const runs = Object.fromEntries(MODES.map((m) => [m, [] as Measure[]])) as Record<Mode, Measure[]>;
for (let round = 0; round < ROUNDS; round++) {
  for (const mode of MODES) runs[mode].push(...(await measureMode(mode)));
}
const results = Object.fromEntries(MODES.map((m) => [m, medianOf(runs[m])])) as Record<Mode, Measure>;

const report = new Report(
  `new TCP connections/s through a VIP (sequential connect/request/close, median of ${ROUNDS} rounds x ${REPETITIONS} runs x ${CONNECTIONS}; ${SERVICES.toLocaleString('en')} services; 2-core noisy VM)`,
);
const fig = (mode: Mode) => `${mode} (p50 ${results[mode].p50us.toFixed(0)} us${results[mode].failed ? `, ${results[mode].failed} failed` : ''})`;
report.add({ name: `ebpf vs iptables: ${fig('ebpf')}`, value: results.ebpf.connPerSec, unit: 'conn/s', better: 'higher', baseline: { name: fig('iptables'), value: results.iptables.connPerSec }, target: '>= 3x iptables' });
report.add({ name: `ebpf vs direct: ${fig('ebpf')}`, value: results.ebpf.connPerSec, unit: 'conn/s', better: 'higher', baseline: { name: fig('direct'), value: results.direct.connPerSec }, target: 'within 10% of direct' });
report.add({ name: `ebpf+egress vs direct: ${fig('ebpf+egress')}`, value: results['ebpf+egress'].connPerSec, unit: 'conn/s', better: 'higher', baseline: { name: fig('direct'), value: results.direct.connPerSec } });
report.add({ name: `iptables vs direct: ${fig('iptables')}`, value: results.iptables.connPerSec, unit: 'conn/s', better: 'higher', baseline: { name: fig('direct'), value: results.direct.connPerSec } });
report.print();
