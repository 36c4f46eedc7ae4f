// Per-packet cost of the policy check with BPF_PROG_TEST_RUN on tc ingress
// (the hook that judges an endpoint's egress), against the service path
// alone in the same run: kernel-timed mean ns per run over REPEAT runs,
// median of ROUNDS interleaved rounds. skb->ifindex names a veth in a
// scratch namespace, so the endpoint lookup is real.
//
// Scenarios, each on the service path (a VIP hit with conntrack hit, the
// packet flipping VIP <-> backend as in datapath-prog.bench.ts), on plain
// forwarding (no service) and on an ICMP echo request (never a service;
// allowed by an L3-only rule, tracked by its identifier):
//   policy off              flg_policy_state 0: the service path alone
//   policy off, endpoints   endpoints registered but none enforcing: must cost the same
//   not an endpoint         policy on, the interface is not an endpoint
//   established             policy on, enforcing endpoint, policy CT hit
//   new flow every packet   conntrack timeouts 0: ipcache + two LPM lookups + CT rewrite each run
//
// Then what writing policy maps costs: one rule changed in place or by
// swapping a fresh map in, and installing many new maps batched or not.
// Figures are from a 2-core noisy VM: compare ratios, not absolutes.
import {
  deleteEndpointPolicyMaps,
  installPolicyMaps,
  policyMapEntries,
  syncEndpointPolicyMap,
  withNetns,
  type BpfProgram,
  type DatapathConfigInput,
  type PolicyMapRule,
} from '../../datapath/index.js';
import { putService } from '../support/datapath-fixture.js';
import { TcpFlag, buildPacket } from '../support/packet.js';
import { buildIcmpEcho } from '../support/packet-protocols.js';
import { EP_F_EGRESS, EP_F_INGRESS, PolicyBed } from '../support/policy-bed.js';
import { Report } from './harness.js';

const REPEAT = 200_000;
const ROUNDS = 7;
const VIP = '10.96.0.10';
const BACKEND = '10.100.0.2';
const CLIENT = '10.0.0.1';
const SKB_CTX = 192;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

const bed = new PolicyBed(2);
const report = new Report(`policy check ns/packet, tc ingress (BPF_PROG_TEST_RUN, repeat ${REPEAT}, median of ${ROUNDS} interleaved rounds; 2-core noisy VM)`);
try {
  const dp = bed.dp;
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: [{ id: 1, addr: BACKEND, port: 8080 }] });
  putService(dp, { vip: BACKEND, port: 8080, proto: 'tcp', id: 2, backends: [{ id: 2, addr: VIP, port: 80 }] });
  bed.ipcache(`${BACKEND}/32`, 3000);
  bed.ipcache(`${VIP}/32`, 3001);
  bed.ipcache('10.200.0.0/16', 3002);
  bed.ipcache('10.201.0.0/16', 3003);
  for (let i = 0; i < 1000; i++) bed.ipcache(`10.50.${i >> 8}.${i & 255}/32`, 4000 + i); // a populated ipcache
  const ep = bed.endpoint(0, 1000, EP_F_INGRESS | EP_F_EGRESS);
  const rules: PolicyMapRule[] = [];
  for (let id = 3000; id < 3003; id++) rules.push({ direction: 'egress', peerIdentity: id, protocol: 6, portLo: 1, portHi: 65535 });
  for (let i = 0; i < 200; i++) rules.push({ direction: 'egress', peerIdentity: 4000 + i, protocol: 6, portLo: 1000 + i, portHi: 1999 + i });
  rules.push({ direction: 'egress', peerIdentity: 3003, protocol: 0, portLo: 0, portHi: 65535 }); // L3-only: allows the ping
  bed.policy(ep, rules);
  const notEndpoint = bed.ifindex(1);

  const service = buildPacket({ saddr: CLIENT, daddr: VIP, proto: 'tcp', sport: 40000, dport: 80, tcpFlags: TcpFlag.ACK, payload: 'x'.repeat(10) });
  const plain = buildPacket({ saddr: CLIENT, daddr: '10.200.0.9', proto: 'tcp', sport: 40000, dport: 443, tcpFlags: TcpFlag.ACK, payload: 'x'.repeat(10) });
  const ping = buildIcmpEcho({ saddr: CLIENT, daddr: '10.201.0.9', ident: 7, payload: 'x'.repeat(10) });
  const LONG = { tcpSeconds: 21600, synSeconds: 60, finSeconds: 10, otherSeconds: 60 };
  const ZERO = { tcpSeconds: 0, synSeconds: 0, finSeconds: 0, otherSeconds: 0 };

  interface Scenario {
    name: string;
    ifindex: number;
    enforcing: number;
    ctTimeouts: DatapathConfigInput['ctTimeouts'];
    /** Index of the scenario it is compared with. */
    baseline: number;
    target?: string;
  }
  const scenarios: Scenario[] = [
    { name: 'policy off', ifindex: notEndpoint, enforcing: 0, ctTimeouts: LONG, baseline: 0 },
    { name: 'policy off, new flow every packet', ifindex: notEndpoint, enforcing: 0, ctTimeouts: ZERO, baseline: 1 },
    { name: 'policy off, on an endpoint', ifindex: ep.ifindex, enforcing: 0, ctTimeouts: LONG, baseline: 0, target: 'same as policy off' },
    { name: 'policy on, not an endpoint', ifindex: notEndpoint, enforcing: 1, ctTimeouts: LONG, baseline: 0 },
    { name: 'policy on, established flow', ifindex: ep.ifindex, enforcing: 1, ctTimeouts: LONG, baseline: 0 },
    { name: 'policy on, new flow every packet', ifindex: ep.ifindex, enforcing: 1, ctTimeouts: ZERO, baseline: 1 },
  ];

  const run = (prog: BpfProgram, frame: Buffer, sc: Scenario, repeat: number): number => {
    bed.enforcing(sc.enforcing);
    dp.setConfig({ ctTimeouts: sc.ctTimeouts ?? LONG });
    const ctx = Buffer.alloc(SKB_CTX);
    ctx.writeUInt32LE(sc.ifindex, 40);
    const res = withNetns(bed.nsName, () => prog.testRun({ data: frame, ctx, repeat }));
    if (res.retval !== 0) throw new Error(`${sc.name}: packet dropped (tc verdict ${res.retval})`);
    return res.duration;
  };

  for (const [label, frame] of [['service hit', service], ['no service', plain], ['ICMP echo', ping]] as const) {
    const samples = scenarios.map(() => [] as number[]);
    scenarios.forEach((sc) => run(dp.programs.tcIngress, frame, sc, 1000)); // warm up, create CT entries
    for (let r = 0; r < ROUNDS; r++) scenarios.forEach((sc, i) => samples[i]!.push(run(dp.programs.tcIngress, frame, sc, REPEAT)));
    const ns = samples.map(median);
    scenarios.forEach((sc, i) => {
      const base = scenarios[sc.baseline]!;
      report.add({ name: `${label}: ${sc.name}`, value: ns[i]!, unit: 'ns/pkt', better: 'lower', baseline: { name: i === sc.baseline ? 'itself' : base.name, value: ns[sc.baseline]! }, target: sc.target ?? '' });
    });
  }

  // Changing one rule of an endpoint's policy map of n entries: in place
  // against what was last written (what the reconciler does), in place
  // after reading the live map back (a refresh), and a fresh map swapped in.
  const updates = new Report('policy map writes (ms; 2-core noisy VM)');
  const timeMs = (fn: (round: number) => void): number => {
    const samples: number[] = [];
    for (let r = 0; r < ROUNDS; r++) {
      const start = process.hrtime.bigint();
      fn(r);
      samples.push(Number(process.hrtime.bigint() - start) / 1e6);
    }
    return median(samples);
  };
  for (const n of [100, 2000]) {
    const base: PolicyMapRule[] = Array.from({ length: n }, (_, i) => ({ direction: 'ingress', peerIdentity: 5000 + i, protocol: 6, portLo: 80, portHi: 80 }));
    const versions = [policyMapEntries(base), policyMapEntries([...base.slice(1), { ...base[0]!, portLo: 81, portHi: 81 }])] as const;
    const flip = (mode: 'swap' | 'diff', id: number, known: boolean) => {
      syncEndpointPolicyMap(dp.maps.policy, id, versions[0], mode);
      return timeMs((r) => syncEndpointPolicyMap(dp.maps.policy, id, versions[(r + 1) % 2]!, mode, known ? versions[r % 2] : undefined));
    };
    const diffKnown = flip('diff', 900001, true);
    const diffRead = flip('diff', 900002, false);
    const swap = flip('swap', 900003, true);
    const baseline = { name: 'diff against what was written', value: diffKnown };
    updates.add({ name: `one rule of ${n}: diff after reading the map back`, value: diffRead, unit: 'ms', better: 'lower', baseline });
    updates.add({ name: `one rule of ${n}: swap a fresh map in`, value: swap, unit: 'ms', better: 'lower', baseline, target: 'atomic, but waits an RCU grace period' });
  }
  // Installing the maps of 100 new endpoints: one outer batch against one update each.
  const newRules = policyMapEntries(Array.from({ length: 20 }, (_, i) => ({ direction: 'ingress' as const, peerIdentity: 6000 + i, protocol: 6, portLo: 443, portHi: 443 })));
  let idBase = 910000;
  const single = timeMs(() => {
    for (let i = 0; i < 100; i++) installPolicyMaps(dp.maps.policy, [[idBase + i, newRules]]);
    deleteEndpointPolicyMaps(dp.maps.policy, Array.from({ length: 100 }, (_, i) => idBase + i));
    idBase += 100;
  });
  const batched = timeMs(() => {
    installPolicyMaps(dp.maps.policy, Array.from({ length: 100 }, (_, i) => [idBase + i, newRules] as const));
    deleteEndpointPolicyMaps(dp.maps.policy, Array.from({ length: 100 }, (_, i) => idBase + i));
    idBase += 100;
  });
  updates.add({ name: '100 new endpoint maps installed and removed, batched', value: batched, unit: 'ms', better: 'lower', baseline: { name: 'one outer update each', value: single } });
  report.print();
  updates.print();
} finally {
  bed.dispose();
}
