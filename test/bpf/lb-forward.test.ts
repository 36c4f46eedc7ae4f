// Packet tests of the load-balancing datapath: real programs of the real
// object with real maps (BPF_PROG_TEST_RUN), packets built in TypeScript,
// every output checksum recomputed from scratch.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Reason, diffCounters, type Datapath } from '../../datapath/index.js';
import { ipNum, openTestDatapath, putService, putWildcard, runTc, runXdp, type ServiceSpec } from '../support/datapath-fixture.js';
import { TcpFlag, buildPacket, parsePacket, verifyChecksums, type PacketSpec } from '../support/packet.js';

const VIP = '10.96.0.10';
const CLIENT = '10.0.0.1';

function backends(n: number, port = 8080, idBase = 100): ServiceSpec['backends'] {
  return Array.from({ length: n }, (_, i) => ({ id: idBase + i, addr: `10.1.${i}.2`, port }));
}

function syn(over: Partial<PacketSpec> = {}): Buffer {
  return buildPacket({ saddr: CLIENT, daddr: VIP, proto: 'tcp', sport: 40000, dport: 80, tcpFlags: TcpFlag.SYN, payload: 'req', ...over });
}

function assertValidChecksums(frame: Buffer, label = ''): void {
  const v = verifyChecksums(frame);
  assert.ok(v.ip, `IPv4 header checksum ${label}`);
  assert.ok(v.l4 === true || v.l4 === 'absent', `L4 checksum ${label}`);
}

interface Ctx {
  dp: Datapath & { dispose(): void };
}

function datapathSuite(name: string, config: Parameters<typeof openTestDatapath>[0] = {}) {
  const s = suite<Ctx>(name, {} as Ctx);
  s.before.each((ctx) => {
    ctx.dp = openTestDatapath(config);
  });
  s.after.each((ctx) => {
    ctx.dp.dispose();
  });
  return s;
}

// ---------------------------------------------------------------- DNAT
const dnat = datapathSuite('dnat');

dnat('TCP to a VIP is DNATed to the backend with the port rewritten and checksums valid', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1) });
  const before = dp.counters();
  const res = runTc(dp, syn());
  assert.is(res.verdict, 'pass');
  const p = parsePacket(res.out);
  assert.equal([p.ip.saddr, p.ip.daddr, p.l4?.sport, p.l4?.dport], [CLIENT, '10.1.0.2', 40000, 8080]);
  assert.is(p.payload.toString(), 'req');
  assert.equal(verifyChecksums(res.out), { ip: true, l4: true });
  assert.is(diffCounters(dp.counters(), before).FORWARDED.packets, 1);
});

dnat('UDP with a checksum is DNATed with a valid checksum; a zero UDP checksum stays zero', ({ dp }) => {
  putService(dp, { vip: VIP, port: 53, proto: 'udp', id: 2, backends: backends(1, 5353) });
  const withSum = runTc(dp, buildPacket({ saddr: CLIENT, daddr: VIP, proto: 'udp', sport: 5000, dport: 53, payload: 'query' }));
  const p = parsePacket(withSum.out);
  assert.equal([p.ip.daddr, p.l4?.dport], ['10.1.0.2', 5353]);
  assert.equal(verifyChecksums(withSum.out), { ip: true, l4: true });
  const noSum = runTc(dp, buildPacket({ saddr: CLIENT, daddr: VIP, proto: 'udp', sport: 5001, dport: 53, payload: 'q', udpNoChecksum: true }));
  assert.is(parsePacket(noSum.out).ip.daddr, '10.1.0.2');
  assert.equal(verifyChecksums(noSum.out), { ip: true, l4: 'absent' });
});

dnat('the same port, or backend port 0, leaves the destination port alone', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 3, backends: [{ id: 7, addr: '10.1.0.7', port: 80 }] });
  putService(dp, { vip: VIP, port: 81, proto: 'tcp', id: 4, backends: [{ id: 8, addr: '10.1.0.8', port: 0 }] });
  for (const [dport, addr] of [[80, '10.1.0.7'], [81, '10.1.0.8']] as const) {
    const out = runTc(dp, syn({ dport })).out;
    const p = parsePacket(out);
    assert.equal([p.ip.daddr, p.l4?.dport], [addr, dport]);
    assertValidChecksums(out, `dport ${dport}`);
  }
});

dnat('XDP DNATs TCP and UDP with valid checksums (bpf_csum_diff path)', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1) });
  putService(dp, { vip: VIP, port: 53, proto: 'udp', id: 2, backends: backends(1, 5353, 150) });
  const tcp = runXdp(dp, syn({ payload: 'odd-length' }));
  assert.is(tcp.verdict, 'pass');
  assert.equal([parsePacket(tcp.out).ip.daddr, parsePacket(tcp.out).l4?.dport], ['10.1.0.2', 8080]);
  assert.equal(verifyChecksums(tcp.out), { ip: true, l4: true });
  const udp = runXdp(dp, buildPacket({ saddr: CLIENT, daddr: VIP, proto: 'udp', sport: 1234, dport: 53, payload: 'x' }));
  assert.equal(verifyChecksums(udp.out), { ip: true, l4: true });
  const none = runXdp(dp, buildPacket({ saddr: CLIENT, daddr: VIP, proto: 'udp', sport: 1235, dport: 53, udpNoChecksum: true }));
  assert.equal(verifyChecksums(none.out), { ip: true, l4: 'absent' });
});

dnat('many random addresses and ports keep every checksum valid (tc and XDP)', ({ dp }) => {
  const bes = Array.from({ length: 8 }, (_, i) => ({ id: 200 + i, addr: `172.${16 + i}.${(i * 37) % 256}.${(i * 91) % 255 + 1}`, port: 1 + ((i * 7919) % 65535) }));
  putService(dp, { vip: '192.168.255.254', port: 65535, proto: 'tcp', id: 9, backends: bes });
  for (let i = 0; i < 200; i++) {
    const frame = buildPacket({ saddr: `${1 + (i % 223)}.${i % 256}.${(i * 3) % 256}.${(i * 7) % 256}`, daddr: '192.168.255.254', proto: 'tcp', sport: 1024 + i * 97, dport: 65535, tcpFlags: TcpFlag.SYN, payload: 'p'.repeat(i % 5) });
    assertValidChecksums(runTc(dp, frame).out, `tc #${i}`);
    assertValidChecksums(runXdp(dp, frame).out, `xdp #${i}`);
  }
});

dnat.run();

// ------------------------------------------------------- reverse NAT
const rev = datapathSuite('reverse nat');

rev('a reply from the backend is rewritten back to VIP:port on ingress', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1) });
  runTc(dp, syn());
  const reply = buildPacket({ saddr: '10.1.0.2', daddr: CLIENT, proto: 'tcp', sport: 8080, dport: 40000, tcpFlags: TcpFlag.SYN | TcpFlag.ACK, payload: 'resp' });
  const before = dp.counters();
  const res = runTc(dp, reply);
  const p = parsePacket(res.out);
  assert.equal([p.ip.saddr, p.l4?.sport, p.ip.daddr, p.l4?.dport], [VIP, 80, CLIENT, 40000]);
  assert.is(p.payload.toString(), 'resp');
  assert.equal(verifyChecksums(res.out), { ip: true, l4: true });
  assert.is(diffCounters(dp.counters(), before).REVERSE_NAT.packets, 1);
});

rev('egress rewrites a reply the ingress did not, and is a no-op on one it did (idempotent)', ({ dp }) => {
  putService(dp, { vip: VIP, port: 53, proto: 'udp', id: 2, backends: backends(1, 5353) });
  runXdp(dp, buildPacket({ saddr: CLIENT, daddr: VIP, proto: 'udp', sport: 7000, dport: 53 }));
  const reply = buildPacket({ saddr: '10.1.0.2', daddr: CLIENT, proto: 'udp', sport: 5353, dport: 7000, payload: 'answer' });
  const viaEgress = runTc(dp, reply, 'egress');
  const p = parsePacket(viaEgress.out);
  assert.equal([p.ip.saddr, p.l4?.sport], [VIP, 53]);
  assert.equal(verifyChecksums(viaEgress.out), { ip: true, l4: true });
  const again = runTc(dp, viaEgress.out, 'egress');
  assert.equal(Buffer.compare(again.out, viaEgress.out), 0, 'second rewrite changed nothing');
});

rev('traffic sent straight to a backend, not through the VIP, is not rewritten', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1) });
  const direct = buildPacket({ saddr: CLIENT, daddr: '10.1.0.2', proto: 'tcp', sport: 41000, dport: 8080 });
  assert.equal(Buffer.compare(runTc(dp, direct).out, direct), 0);
  const reply = buildPacket({ saddr: '10.1.0.2', daddr: CLIENT, proto: 'tcp', sport: 8080, dport: 41000, tcpFlags: TcpFlag.SYN | TcpFlag.ACK });
  assert.equal(Buffer.compare(runTc(dp, reply).out, reply), 0);
});

rev.run();

// ------------------------------------------------- conntrack, selection
const ct = datapathSuite('conntrack and selection');

function backendOf(dp: Datapath, frame: Buffer): string {
  return parsePacket(runTc(dp, frame).out).ip.daddr;
}

ct('every packet of a flow goes to the same backend', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(10) });
  for (let flow = 0; flow < 20; flow++) {
    const first = backendOf(dp, syn({ sport: 30000 + flow }));
    for (let i = 0; i < 10; i++) {
      assert.is(backendOf(dp, syn({ sport: 30000 + flow, tcpFlags: TcpFlag.ACK })), first, `flow ${flow} packet ${i}`);
    }
  }
});

ct('2000 flows spread over 4 backends: every backend used, none above twice its share', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(4) });
  const hits = new Map<string, number>();
  for (let i = 0; i < 2000; i++) {
    const be = backendOf(dp, syn({ saddr: `10.2.${i >> 8}.${i & 255}`, sport: 20000 + i }));
    hits.set(be, (hits.get(be) ?? 0) + 1);
  }
  assert.is(hits.size, 4, `backends used: ${[...hits.keys()].join(', ')}`);
  for (const [be, n] of hits) assert.ok(n >= 1 && n <= 1000, `${be}: ${n} of 2000`);
});

ct('a flow keeps a terminating backend; a new SYN on it, or a vanished backend, reselects', ({ dp }) => {
  const bes = backends(2);
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: bes });
  // Find a flow that landed on the first backend.
  let sport = 50000;
  while (backendOf(dp, syn({ sport })) !== '10.1.0.2') sport += 1;
  // The first backend terminates: it leaves the selectable slots.
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: [bes[1]!, { ...bes[0]!, state: 'terminating' }], activeCount: 1 });
  assert.is(backendOf(dp, syn({ sport, tcpFlags: TcpFlag.ACK })), '10.1.0.2', 'established flow drains');
  assert.is(backendOf(dp, syn({ sport })), '10.1.1.2', 'a new SYN moves to an active backend');
  // Back on the first backend, then it vanishes from the backends map entirely.
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: bes });
  let sport2 = 51000;
  while (backendOf(dp, syn({ sport: sport2 })) !== '10.1.0.2') sport2 += 1;
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: [bes[1]!] });
  dp.maps.lb4Backends.delete(bes[0]!.id);
  dp.maps.lb4Services.delete({ address: ipNum(VIP), dport: 80, backendSlot: 2, proto: 6, scope: 0 }, { idempotent: true });
  assert.is(backendOf(dp, syn({ sport: sport2, tcpFlags: TcpFlag.ACK })), '10.1.1.2', 'gone backend: even a non-SYN reselects');
});

ct('session affinity sends every new flow of a client to the same backend until its match entry goes', ({ dp }) => {
  const bes = backends(5);
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: bes, affinityTimeoutSeconds: 600 });
  const first = backendOf(dp, syn({ sport: 10000 }));
  for (let i = 1; i < 50; i++) assert.is(backendOf(dp, syn({ sport: 10000 + i })), first, `flow ${i}`);
  // Another client is free to land elsewhere: over 50 clients, more than one backend is used.
  const others = new Set<string>();
  for (let i = 0; i < 50; i++) others.add(backendOf(dp, syn({ saddr: `10.3.0.${i + 1}`, sport: 10000 })));
  assert.ok(others.size > 1, 'different clients spread');
  // The sticky backend leaves the service: its match entry and slot go, new flows go elsewhere.
  const gone = bes.find((b) => b.addr === first)!;
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: bes.filter((b) => b !== gone), affinityTimeoutSeconds: 600 });
  dp.maps.lbAffinityMatch.delete({ backendId: gone.id, revNatId: 1, pad: 0 });
  dp.maps.lb4Services.delete({ address: ipNum(VIP), dport: 80, backendSlot: 5, proto: 6, scope: 0 }, { idempotent: true });
  const after = backendOf(dp, syn({ sport: 11000 }));
  assert.is.not(after, first);
  for (let i = 1; i < 20; i++) assert.is(backendOf(dp, syn({ sport: 11000 + i })), after, 'sticks to the new choice');
});

ct.run();

// --------------------------------------------- drops and pass-through
const drops = datapathSuite('drops, pass-through, counters and events');

drops('source ranges: allowed clients are forwarded, others dropped; deny mode inverts', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1), sourceRanges: ['10.0.0.0/24'] });
  putService(dp, { vip: VIP, port: 443, proto: 'tcp', id: 2, backends: backends(1), sourceRanges: ['10.0.0.0/24'], sourceRangeDeny: true });
  const before = dp.counters();
  assert.is(runTc(dp, syn({ saddr: '10.0.0.77' })).verdict, 'pass');
  assert.is(runTc(dp, syn({ saddr: '10.0.1.77' })).verdict, 'drop');
  assert.is(runTc(dp, syn({ saddr: '10.0.0.77', dport: 443 })).verdict, 'drop');
  assert.is(parsePacket(runTc(dp, syn({ saddr: '10.0.1.77', dport: 443 })).out).ip.daddr, '10.1.0.2');
  const d = diffCounters(dp.counters(), before);
  assert.is(d.DROP_NOT_IN_SOURCE_RANGE.packets, 2);
  assert.is(d.FORWARDED.packets, 2);
});

drops('a service with no backends drops with a no-backend event', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 5, backends: [] });
  const events = dp.events();
  try {
    events.poll();
    const frame = syn({ sport: 45678 });
    assert.is(runTc(dp, frame).verdict, 'drop');
    const got = events.poll();
    assert.is(got.length, 1);
    assert.equal(
      { ...got[0]!, timestampNs: 0n },
      { type: 'drop', reason: Reason.DROP_NO_BACKEND, reasonName: 'DROP_NO_BACKEND', hook: 'tc-ingress', timestampNs: 0n, ifindex: got[0]!.ifindex, length: frame.length, proto: 6, saddr: CLIENT, daddr: VIP, sport: 45678, dport: 80, backendId: 0, revNatIndex: 5, srcIdentity: 0, dstIdentity: 0 },
    );
    assert.is(dp.counters().DROP_NO_BACKEND.packets, 1);
  } finally {
    events.close();
  }
});

drops('the wildcard entry drops unknown ports of a VIP, unless wildcard drop is off', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1) });
  putWildcard(dp, VIP);
  assert.is(runTc(dp, syn({ dport: 81 })).verdict, 'drop');
  assert.is(runXdp(dp, syn({ dport: 82, proto: 'udp' })).verdict, 'drop');
  assert.is(runTc(dp, syn()).verdict, 'pass', 'the real service port still works');
  assert.is(dp.counters().DROP_NO_SERVICE_PORT.packets, 2);
  dp.setConfig({ wildcardDrop: false });
  const frame = syn({ dport: 81 });
  const res = runTc(dp, frame);
  assert.is(res.verdict, 'pass');
  assert.equal(Buffer.compare(res.out, frame), 0);
});

drops('non-service traffic passes byte for byte: other addresses, ports, ICMP, IPv6, ARP', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1) });
  const ipv6 = Buffer.concat([Buffer.from('02000000000202000000000186dd', 'hex'), Buffer.alloc(60, 0x60)]);
  const arp = Buffer.concat([Buffer.from('ffffffffffff0200000000010806', 'hex'), Buffer.alloc(28, 1)]);
  const frames = [
    syn({ daddr: '10.96.0.11' }),
    syn({ dport: 8080 }),
    syn({ proto: 'udp', dport: 80 }),
    buildPacket({ saddr: CLIENT, daddr: VIP, proto: 1, payload: Buffer.from('0800f7ff00000000', 'hex') }),
    ipv6,
    arp,
  ];
  const before = dp.counters();
  for (const [i, frame] of frames.entries()) {
    for (const run of [runTc, runXdp]) {
      const res = run(dp, frame);
      assert.is(res.verdict, 'pass', `frame ${i}`);
      assert.equal(Buffer.compare(res.out, frame), 0, `frame ${i} unchanged by ${run.name}`);
    }
  }
  assert.is(diffCounters(dp.counters(), before).PASSED.packets, frames.length * 2);
});

drops('trace events only when enabled; drops always', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1) });
  const events = dp.events();
  try {
    events.poll();
    runTc(dp, syn());
    assert.is(events.poll().length, 0, 'no trace events by default');
    dp.setConfig({ traceEvents: true });
    runTc(dp, syn({ sport: 40001 }));
    runTc(dp, syn({ daddr: '10.9.9.9' }));
    const got = events.poll();
    assert.equal(got.map((e) => [e.type, e.reasonName, e.backendId]), [['trace', 'FORWARDED', 100], ['trace', 'PASSED', 0]]);
  } finally {
    events.close();
  }
});

drops('a disabled datapath passes everything untouched and counts nothing', ({ dp }) => {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 1, backends: backends(1) });
  dp.setConfig({ enabled: false });
  const before = dp.counters();
  const frame = syn();
  assert.equal(Buffer.compare(runTc(dp, frame).out, frame), 0);
  assert.equal(Buffer.compare(runXdp(dp, frame).out, frame), 0);
  assert.equal(diffCounters(dp.counters(), before).PASSED, { packets: 0, bytes: 0 });
  assert.equal(diffCounters(dp.counters(), before).FORWARDED, { packets: 0, bytes: 0 });
});

drops.run();
