// Datapath cost per packet with BPF_PROG_TEST_RUN: the kernel's own timing
// (mean ns per run over repeat = 1e6), median of several calls, against an
// empty program of the same hook type loaded in the same run. Scenarios:
// service hit with conntrack hit, conntrack miss with backend selection, and
// non-service pass-through; with 10 and with 100,000 services loaded.
//
// The packet is rewritten in place on every run, so the service scenarios
// register the backend as a service pointing back at the VIP: the packet
// flips VIP -> backend -> VIP and every run is a service hit. For "CT miss"
// the conntrack timeouts are 0, so every run finds its entry expired and
// selects a backend and rewrites the entry, as a new flow does.
// Figures are from a 2-core noisy VM: compare ratios, not absolutes.
import { BpfProgram, ProgType, returnProgram, type Datapath } from '../../datapath/index.js';
import { openTestDatapath, putService, type ServiceSpec } from '../support/datapath-fixture.js';
import { TcpFlag, buildPacket } from '../support/packet.js';
import { Report } from './harness.js';

const REPEAT = 1_000_000;
const ROUNDS = 7;
const VIP = '10.96.0.10';
const BACKEND = '10.100.0.2';

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/**
 * Kernel-timed mean ns per packet of each program, medians over ROUNDS
 * rounds that run every program once in turn, so a noisy stretch of the VM
 * hits all of them alike instead of one.
 */
function interleaved(progs: readonly BpfProgram[], frame: Buffer): number[] {
  for (const p of progs) p.testRun({ data: frame, repeat: 1000 }); // warm up (and create CT entries)
  const samples = progs.map(() => [] as number[]);
  for (let r = 0; r < ROUNDS; r++) {
    progs.forEach((p, i) => samples[i]!.push(p.testRun({ data: frame, repeat: REPEAT }).duration));
  }
  return samples.map(median);
}

/** `count` services in all: the flip pair plus fillers, written with batches. */
function loadServices(dp: Datapath, count: number): void {
  const flip: ServiceSpec[] = [
    { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: [{ id: 1, addr: BACKEND, port: 8080 }] },
    { vip: BACKEND, port: 8080, proto: 'tcp', id: 2, backends: [{ id: 2, addr: VIP, port: 80 }] },
  ];
  for (const svc of flip) putService(dp, svc);
  const services: Parameters<typeof dp.maps.lb4Services.putBatch>[0][number][] = [];
  const backends: Parameters<typeof dp.maps.lb4Backends.putBatch>[0][number][] = [];
  for (let i = 0; i < count - flip.length; i++) {
    const id = 10 + i;
    const address = (0x0b000000 + i) >>> 0; // 11.x.y.z
    backends.push([id, { address: (0x0c000000 + i) >>> 0, port: 8080, proto: 6, flags: 0, clusterId: 0, zone: 0, pad: 0 }]);
    const key = { address, dport: 80, backendSlot: 0, proto: 6, scope: 0 };
    services.push([{ ...key, backendSlot: 1 }, { backendId: id, count: 0, revNatIndex: id & 0xffff, flags: 0x40, flags2: 0, qcount: 0 }]);
    services.push([key, { backendId: 0, count: 1, revNatIndex: id & 0xffff, flags: 0x40, flags2: 0, qcount: 0 }]);
  }
  dp.maps.lb4Backends.putBatch(backends);
  dp.maps.lb4Services.putBatch(services);
}

const MAP_SIZES = { flg_lb4_services: 262144, flg_lb4_backends: 131072, flg_lb4_reverse_nat: 131072 } as const;

interface Scenario {
  name: string;
  frame: Buffer;
  /** Conntrack timeouts of 0: every packet is a new flow. */
  ctMiss?: boolean;
}

const serviceSyn = buildPacket({ saddr: '10.0.0.1', daddr: VIP, proto: 'tcp', sport: 40000, dport: 80, tcpFlags: TcpFlag.ACK, payload: 'x'.repeat(10) });
const scenarios: Scenario[] = [
  { name: 'service hit, CT hit', frame: serviceSyn },
  { name: 'CT miss, backend selection', frame: serviceSyn, ctMiss: true },
  { name: 'non-service pass-through', frame: buildPacket({ saddr: '10.0.0.1', daddr: '10.200.0.9', proto: 'tcp', sport: 40000, dport: 443, tcpFlags: TcpFlag.ACK, payload: 'x'.repeat(10) }) },
];

const emptyTc = BpfProgram.load({ type: ProgType.SCHED_CLS, insns: returnProgram(0), name: 'bench_empty_tc' });
const emptyXdp = BpfProgram.load({ type: ProgType.XDP, insns: returnProgram(2), name: 'bench_empty_xdp' });
const small = openTestDatapath({}, { mapSizes: MAP_SIZES });
const large = openTestDatapath({}, { mapSizes: MAP_SIZES });
const report = new Report(`datapath ns/packet (BPF_PROG_TEST_RUN, repeat 1e6, median of ${ROUNDS} interleaved rounds; 2-core noisy VM)`);
try {
  loadServices(small, 10);
  loadServices(large, 100_000);
  for (const sc of scenarios) {
    const ctTimeouts = sc.ctMiss ? { tcpSeconds: 0, synSeconds: 0, finSeconds: 0, otherSeconds: 0 } : { tcpSeconds: 21600, synSeconds: 60, finSeconds: 10, otherSeconds: 60 };
    for (const dp of [small, large]) dp.setConfig({ ctTimeouts });
    for (const hook of ['tc', 'xdp'] as const) {
      const pick = (dp: Datapath) => (hook === 'tc' ? dp.programs.tcIngress : dp.programs.xdp);
      const [empty, ns10, ns100k] = interleaved([hook === 'tc' ? emptyTc : emptyXdp, pick(small), pick(large)], sc.frame) as [number, number, number];
      const target = sc.name === 'non-service pass-through' ? '' : '<= 4x empty';
      for (const [count, ns] of [['10', ns10], ['100,000', ns100k]] as const) {
        report.add({ name: `${hook}: ${sc.name}, ${count} services`, value: ns, unit: 'ns/pkt', better: 'lower', baseline: { name: `empty ${hook}`, value: empty }, target });
      }
      report.add({ name: `${hook}: ${sc.name}, 100k vs 10 services`, value: ns100k, unit: 'ns/pkt', better: 'lower', baseline: { name: '10 services', value: ns10 }, target: 'within 10% (flat)' });
    }
  }
} finally {
  small.dispose();
  large.dispose();
  emptyTc.close();
  emptyXdp.close();
}
report.print();
