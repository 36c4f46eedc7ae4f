// Packet tests (BPF_PROG_TEST_RUN) of network policy for what the service
// path does not parse: policy fails closed. ICMP echo allowed only by
// port-less entries and its reply passing through conntrack; ICMP errors
// passing when they quote a tracked flow; SCTP ports; other IPv4 protocols
// judged by protocol; IPv4 fragments tracked from the first; IPv6 dropped
// where enforced but neighbour discovery; ARP always passing. Every packet
// that passes leaves the program byte for byte as it came, checksums valid.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffCounters, type DatapathEvent, type PolicyMapRule } from '../../datapath/index.js';
import { ipNum } from '../support/datapath-fixture.js';
import { EP_F_EGRESS, EP_F_INGRESS, PolicyBed, type BedEndpoint, type PolicyRun } from '../support/policy-bed.js';
import { ETH_P_IP, IPPROTO_ICMP, TcpFlag, buildPacket, parsePacket, verifyChecksums } from '../support/packet.js';
import {
  ETH_P_ARP,
  IPPROTO_GRE,
  IPPROTO_SCTP,
  IcmpCode,
  IcmpType,
  buildArpRequest,
  buildIcmp,
  buildIcmpEcho,
  buildIcmpError,
  buildIcmpv6,
  buildIpv6,
  buildRawIpv4,
  buildSctp,
  fragment,
  icmpChecksumValid,
  icmpv6ChecksumValid,
  quoteOf,
  sctpChecksumValid,
} from '../support/packet-protocols.js';

const E1_IP = '10.10.0.1';
const E2_IP = '10.10.0.2';
const E3_IP = '10.10.0.3';
const A_IP = '10.20.0.1';
const ROUTER_IP = '192.0.2.1'; // in no ipcache prefix: world
const E1_ID = 1001;
const E2_ID = 1002;
const E3_ID = 1003;
const A_ID = 2001;
const E1_V6 = 'fd00::10:1';
const A_V6 = 'fd00::20:1';
const CT_KEY_EGRESS = 1 << 2;
const CT_KEY_INGRESS = 1 << 3;

const ALL_PORTS = { portLo: 0, portHi: 65535 } as const;
/** A rule without ports: every protocol to or from the peer (Kubernetes `to`/`from` without `ports`). */
const l3Only = (direction: PolicyMapRule['direction'], peerIdentity: number): PolicyMapRule => ({ direction, peerIdentity, protocol: 0, ...ALL_PORTS });
const portRule = (direction: PolicyMapRule['direction'], peerIdentity: number, protocol: number, port: number): PolicyMapRule => ({ direction, peerIdentity, protocol, portLo: port, portHi: port });

interface Ctx {
  bed: PolicyBed;
  e1: BedEndpoint;
  e2: BedEndpoint;
  e3: BedEndpoint;
}

/** E1 and E2 enforce both directions with no rule (default deny); E3 enforces nothing. */
function bedSuite(name: string) {
  const s = suite<Ctx>(name, {} as Ctx);
  s.before.each((ctx) => {
    ctx.bed = new PolicyBed(4);
    ctx.e1 = ctx.bed.endpoint(0, E1_ID, EP_F_INGRESS | EP_F_EGRESS);
    ctx.e2 = ctx.bed.endpoint(1, E2_ID, EP_F_INGRESS | EP_F_EGRESS);
    ctx.e3 = ctx.bed.endpoint(2, E3_ID, 0);
    ctx.bed.enforcing(2);
    for (const [ip, id] of [[E1_IP, E1_ID], [E2_IP, E2_ID], [E3_IP, E3_ID], [A_IP, A_ID]] as const) ctx.bed.ipcache(`${ip}/32`, id);
    ctx.bed.policy(ctx.e1, []);
    ctx.bed.policy(ctx.e2, []);
  });
  s.after.each((ctx) => ctx.bed.dispose());
  return s;
}

/** Every checksum the frame carries, recomputed from scratch, is valid. */
function assertChecksums(frame: Buffer, label: string): void {
  const type = frame.readUInt16BE(12);
  if (type === ETH_P_IP) {
    const p = parsePacket(frame);
    const v = verifyChecksums(frame);
    assert.ok(v.ip, `${label}: IPv4 header checksum`);
    const whole = p.ip.fragmentOffset === 0 && !p.ip.moreFragments;
    if (v.l4 !== undefined && whole) assert.ok(v.l4 === true || v.l4 === 'absent', `${label}: TCP/UDP checksum`);
    if (whole && p.ip.proto === IPPROTO_ICMP) assert.ok(icmpChecksumValid(frame), `${label}: ICMP checksum`);
    if (whole && p.ip.proto === IPPROTO_SCTP) assert.ok(sctpChecksumValid(frame), `${label}: SCTP CRC32c`);
  } else if (type === 0x86dd && frame[ETH_HLEN_V6_NEXT] === 58) {
    assert.ok(icmpv6ChecksumValid(frame), `${label}: ICMPv6 checksum`);
  }
}
const ETH_HLEN_V6_NEXT = 14 + 6;

/** Asserts the verdict; a passing packet must leave exactly as it came. */
function expect(run: PolicyRun, frame: Buffer, verdict: 'pass' | 'drop', label: string): void {
  assert.is(run.verdict, verdict, label);
  if (verdict === 'pass') {
    assert.ok(Buffer.compare(run.out, frame) === 0, `${label}: forwarded unchanged`);
    assertChecksums(run.out, label);
  }
}

function ct(bed: PolicyBed, saddr: string, daddr: string, sport: number, dport: number, proto: number, flags: number) {
  return bed.dp.maps.ct4.get({ saddr: ipNum(saddr), daddr: ipNum(daddr), sport, dport, proto, flags, pad: 0 });
}

function drops(events: DatapathEvent[]) {
  return events.filter((e) => e.type === 'drop').map((e) => [e.reasonName, e.hook, e.proto, e.srcIdentity, e.dstIdentity]);
}

// ------------------------------------------------------------ ICMP echo
const echo = bedSuite('ICMP echo');

echo('an L3-only egress rule lets a ping out; its reply passes the default-deny ingress through conntrack; a ping in does not', ({ bed, e1 }) => {
  bed.policy(e1, [l3Only('egress', A_ID)]);
  const request = buildIcmpEcho({ saddr: E1_IP, daddr: A_IP, ident: 0x1234, seq: 1 });
  expect(bed.send(e1, request), request, 'pass', 'request out');
  const entry = ct(bed, E1_IP, A_IP, 0x1234, 0, IPPROTO_ICMP, CT_KEY_EGRESS);
  assert.equal([entry?.policyMatch, entry?.peerIdentity], [1, A_ID], 'tracked by identifier, allowed as L3_ONLY');
  const reply = buildIcmpEcho({ saddr: A_IP, daddr: E1_IP, ident: 0x1234, seq: 1, reply: true });
  expect(bed.deliver(e1, reply), reply, 'pass', 'reply in');
  assert.is((ct(bed, E1_IP, A_IP, 0x1234, 0, IPPROTO_ICMP, CT_KEY_EGRESS)?.flags ?? 0) & 1, 1, 'SEEN_REPLY');
  const second = buildIcmpEcho({ saddr: E1_IP, daddr: A_IP, ident: 0x1234, seq: 2 });
  expect(bed.send(e1, second), second, 'pass', 'next request of the same ping');
  const before = bed.dp.counters();
  expect(bed.deliver(e1, buildIcmpEcho({ saddr: A_IP, daddr: E1_IP, ident: 0x1234 })), request, 'drop', 'a ping from A into E1');
  expect(bed.deliver(e1, buildIcmpEcho({ saddr: A_IP, daddr: E1_IP, ident: 0x9999, reply: true })), reply, 'drop', 'a reply of another identifier');
  assert.is(diffCounters(bed.dp.counters(), before).DROP_POLICY_INGRESS.packets, 2);
});

echo('an L3-only ingress rule lets a ping in; the reply passes the default-deny egress', ({ bed, e2 }) => {
  bed.policy(e2, [l3Only('ingress', A_ID)]);
  const request = buildIcmpEcho({ saddr: A_IP, daddr: E2_IP, ident: 77 });
  expect(bed.deliver(e2, request), request, 'pass', 'request in');
  assert.ok(ct(bed, A_IP, E2_IP, 77, 0, IPPROTO_ICMP, CT_KEY_INGRESS), 'ingress entry keyed by the identifier');
  const reply = buildIcmpEcho({ saddr: E2_IP, daddr: A_IP, ident: 77, reply: true });
  expect(bed.send(e2, reply), reply, 'pass', 'reply out');
  expect(bed.send(e2, buildIcmpEcho({ saddr: E2_IP, daddr: A_IP, ident: 77 })), request, 'drop', 'E2 pinging A itself');
});

echo('port rules do not allow ICMP: L3 + port, L3 + protocol, L4-only; default deny drops, with a drop event', ({ bed, e1 }) => {
  const ping = () => buildIcmpEcho({ saddr: E1_IP, daddr: A_IP, ident: Math.floor(Math.random() * 0xffff) });
  const ruleSets: [string, PolicyMapRule[]][] = [
    ['L3 + TCP/80', [portRule('egress', A_ID, 6, 80)]],
    ['L3 + UDP, any port', [{ direction: 'egress', peerIdentity: A_ID, protocol: 17, ...ALL_PORTS }]],
    ['L4-only TCP/443', [portRule('egress', 0, 6, 443)]],
    ['default deny', []],
  ];
  for (const [label, rules] of ruleSets) {
    bed.policy(e1, rules);
    assert.is(bed.send(e1, ping()).verdict, 'drop', label);
  }
  const events = bed.dp.events();
  try {
    events.poll();
    assert.is(bed.send(e1, ping()).verdict, 'drop');
    assert.equal(drops(events.poll()), [['DROP_POLICY_EGRESS', 'tc-ingress', IPPROTO_ICMP, E1_ID, A_ID]]);
  } finally {
    events.close();
  }
  bed.policy(e1, [{ direction: 'egress', peerIdentity: 0, protocol: 0, ...ALL_PORTS }]);
  assert.is(bed.send(e1, ping()).verdict, 'pass', 'an allow-all entry allows it');
});

echo('an unsolicited echo reply allowed in opens nothing: no entry, and a request back is judged', ({ bed, e1 }) => {
  bed.policy(e1, [l3Only('ingress', A_ID)]);
  const reply = buildIcmpEcho({ saddr: A_IP, daddr: E1_IP, ident: 5, reply: true });
  expect(bed.deliver(e1, reply), reply, 'pass', 'allowed by the ingress rule');
  assert.is(ct(bed, A_IP, E1_IP, 0, 5, IPPROTO_ICMP, CT_KEY_INGRESS), undefined, 'no entry for a reply');
  assert.is(bed.send(e1, buildIcmpEcho({ saddr: E1_IP, daddr: A_IP, ident: 5 })).verdict, 'drop', 'egress is still default deny');
});

echo('other ICMP types are judged by policy alone and never tracked', ({ bed, e1 }) => {
  const ts = buildIcmp({ saddr: E1_IP, daddr: A_IP, type: IcmpType.TIMESTAMP, body: Buffer.alloc(12) });
  assert.is(bed.send(e1, ts).verdict, 'drop', 'default deny');
  bed.policy(e1, [l3Only('egress', A_ID)]);
  expect(bed.send(e1, ts), ts, 'pass', 'L3-only');
  assert.is([...bed.dp.maps.ct4.keys()].filter((k) => k.proto === IPPROTO_ICMP).length, 0);
});

// ------------------------------------------------------------ ICMP errors
const errors = bedSuite('ICMP errors');

errors('port unreachable, fragmentation needed and time exceeded for flows E1 opened pass its default-deny ingress', ({ bed, e1 }) => {
  bed.policy(e1, [portRule('egress', A_ID, 17, 53), portRule('egress', A_ID, 6, 443), l3Only('egress', A_ID)]);
  const udp = buildPacket({ saddr: E1_IP, daddr: A_IP, proto: 'udp', sport: 40000, dport: 53, payload: 'q' });
  const tcp = buildPacket({ saddr: E1_IP, daddr: A_IP, proto: 'tcp', sport: 40001, dport: 443, tcpFlags: TcpFlag.SYN });
  const ping = buildIcmpEcho({ saddr: E1_IP, daddr: A_IP, ident: 4242, ttl: 1 });
  for (const f of [udp, tcp, ping]) assert.is(bed.send(e1, f).verdict, 'pass');
  const cases: [string, Buffer][] = [
    ['port unreachable from A', buildIcmpError({ saddr: A_IP, daddr: E1_IP, type: IcmpType.DEST_UNREACH, code: IcmpCode.PORT_UNREACH, quoted: quoteOf(udp) })],
    ['fragmentation needed from a router', buildIcmpError({ saddr: ROUTER_IP, daddr: E1_IP, type: IcmpType.DEST_UNREACH, code: IcmpCode.FRAG_NEEDED, mtu: 1400, quoted: quoteOf(tcp) })],
    ['time exceeded for the ping', buildIcmpError({ saddr: ROUTER_IP, daddr: E1_IP, type: IcmpType.TIME_EXCEEDED, quoted: quoteOf(ping) })],
    ['parameter problem', buildIcmpError({ saddr: ROUTER_IP, daddr: E1_IP, type: IcmpType.PARAMETER_PROBLEM, quoted: quoteOf(udp) })],
  ];
  for (const [label, frame] of cases) expect(bed.deliver(e1, frame), frame, 'pass', label);
});

errors('an error about a reply E2 sent passes in; E2 may send an error about a flow it accepted', ({ bed, e2 }) => {
  bed.policy(e2, [portRule('ingress', A_ID, 17, 5353)]);
  const query = buildPacket({ saddr: A_IP, daddr: E2_IP, proto: 'udp', sport: 50000, dport: 5353, payload: 'q' });
  assert.is(bed.deliver(e2, query).verdict, 'pass');
  const answer = buildPacket({ saddr: E2_IP, daddr: A_IP, proto: 'udp', sport: 5353, dport: 50000, payload: 'a' });
  assert.is(bed.send(e2, answer).verdict, 'pass', 'the reply');
  const unreachable = buildIcmpError({ saddr: A_IP, daddr: E2_IP, type: IcmpType.DEST_UNREACH, code: IcmpCode.PORT_UNREACH, quoted: quoteOf(answer) });
  expect(bed.deliver(e2, unreachable), unreachable, 'pass', 'error about the reply, into E2');
  const own = buildIcmpError({ saddr: E2_IP, daddr: A_IP, type: IcmpType.DEST_UNREACH, code: IcmpCode.PORT_UNREACH, quoted: quoteOf(query) });
  expect(bed.send(e2, own), own, 'pass', 'E2 refusing a datagram of the accepted flow (default-deny egress)');
});

errors('an error quoting no tracked flow is judged as ICMP: dropped by default deny, allowed by an L3-only rule', ({ bed, e1 }) => {
  const stray = buildPacket({ saddr: E1_IP, daddr: A_IP, proto: 'udp', sport: 41000, dport: 53, payload: 'q' });
  const error = buildIcmpError({ saddr: A_IP, daddr: E1_IP, type: IcmpType.DEST_UNREACH, code: IcmpCode.PORT_UNREACH, quoted: quoteOf(stray) });
  const before = bed.dp.counters();
  assert.is(bed.deliver(e1, error).verdict, 'drop');
  assert.is(diffCounters(bed.dp.counters(), before).DROP_POLICY_INGRESS.packets, 1);
  bed.policy(e1, [l3Only('ingress', A_ID)]);
  expect(bed.deliver(e1, error), error, 'pass', 'L3-only from the sender of the error');
});

errors("an error quoting another endpoint's flow, or a truncated quote, opens nothing", ({ bed, e1, e2 }) => {
  bed.policy(e2, [portRule('egress', A_ID, 17, 53)]);
  const e2Flow = buildPacket({ saddr: E2_IP, daddr: A_IP, proto: 'udp', sport: 42000, dport: 53, payload: 'q' });
  assert.is(bed.send(e2, e2Flow).verdict, 'pass');
  const misdirected = buildIcmpError({ saddr: A_IP, daddr: E1_IP, type: IcmpType.DEST_UNREACH, code: IcmpCode.PORT_UNREACH, quoted: quoteOf(e2Flow) });
  assert.is(bed.deliver(e1, misdirected).verdict, 'drop', "E2's flow quoted to E1");
  const truncated = buildIcmpError({ saddr: A_IP, daddr: E2_IP, type: IcmpType.DEST_UNREACH, code: IcmpCode.PORT_UNREACH, quoted: quoteOf(e2Flow).subarray(0, 24) });
  assert.is(bed.deliver(e2, truncated).verdict, 'drop', 'a quote without its ports');
  const proper = buildIcmpError({ saddr: A_IP, daddr: E2_IP, type: IcmpType.DEST_UNREACH, code: IcmpCode.PORT_UNREACH, quoted: quoteOf(e2Flow) });
  expect(bed.deliver(e2, proper), proper, 'pass', 'the same error to E2');
});

// ------------------------------------------------------------ SCTP and other protocols
const other = bedSuite('SCTP and other IPv4 protocols');

other('SCTP: a port rule allows its port only; the reply passes through conntrack; nothing is rewritten', ({ bed, e2 }) => {
  bed.policy(e2, [portRule('ingress', A_ID, IPPROTO_SCTP, 5000)]);
  const init = buildSctp({ saddr: A_IP, daddr: E2_IP, sport: 40000, dport: 5000 });
  expect(bed.deliver(e2, init), init, 'pass', 'allowed port');
  const entry = ct(bed, A_IP, E2_IP, 40000, 5000, IPPROTO_SCTP, CT_KEY_INGRESS);
  assert.equal([entry?.policyMatch, entry?.peerIdentity], [3, A_ID], 'tracked by ports, allowed as L3_L4');
  const reply = buildSctp({ saddr: E2_IP, daddr: A_IP, sport: 5000, dport: 40000, payload: 'ack' });
  expect(bed.send(e2, reply), reply, 'pass', 'reply out through default-deny egress');
  const before = bed.dp.counters();
  assert.is(bed.deliver(e2, buildSctp({ saddr: A_IP, daddr: E2_IP, sport: 40000, dport: 5001 })).verdict, 'drop', 'other port');
  assert.is(bed.deliver(e2, buildPacket({ saddr: A_IP, daddr: E2_IP, proto: 'tcp', sport: 40002, dport: 5000 })).verdict, 'drop', 'TCP on the SCTP port');
  assert.is(diffCounters(bed.dp.counters(), before).DROP_POLICY_INGRESS.packets, 2);
});

other('GRE (47): only a port-less entry allows it, the reply passes through conntrack', ({ bed, e1 }) => {
  const gre = buildRawIpv4({ saddr: E1_IP, daddr: A_IP, proto: IPPROTO_GRE });
  bed.policy(e1, [portRule('egress', A_ID, 6, 80), portRule('egress', 0, 17, 53)]);
  assert.is(bed.send(e1, gre).verdict, 'drop', 'port rules');
  bed.policy(e1, [{ direction: 'egress', peerIdentity: A_ID, protocol: 6, ...ALL_PORTS }]);
  assert.is(bed.send(e1, gre).verdict, 'drop', 'a rule for another protocol');
  bed.policy(e1, [l3Only('egress', A_ID)]);
  expect(bed.send(e1, gre), gre, 'pass', 'L3-only');
  assert.equal(ct(bed, E1_IP, A_IP, 0, 0, IPPROTO_GRE, CT_KEY_EGRESS)?.policyMatch, 1, 'tracked with ports 0');
  const back = buildRawIpv4({ saddr: A_IP, daddr: E1_IP, proto: IPPROTO_GRE });
  expect(bed.deliver(e1, back), back, 'pass', 'reply through default-deny ingress');
  assert.is(bed.send(e1, buildRawIpv4({ saddr: E1_IP, daddr: '10.20.0.99', proto: IPPROTO_GRE })).verdict, 'drop', 'another peer (world)');
});

other('a truncated SCTP or ICMP header is dropped where enforced and passes where not', ({ bed, e1, e3 }) => {
  const shortSctp = buildRawIpv4({ saddr: A_IP, daddr: E1_IP, proto: IPPROTO_SCTP, payload: Buffer.from([0x9c, 0x40, 0x13]) });
  const shortIcmp = buildRawIpv4({ saddr: A_IP, daddr: E1_IP, proto: IPPROTO_ICMP, payload: Buffer.from([8, 0, 0, 0]) });
  bed.policy(e1, [l3Only('ingress', A_ID)]);
  const before = bed.dp.counters();
  for (const f of [shortSctp, shortIcmp]) assert.is(bed.deliver(e1, f).verdict, 'drop');
  assert.is(diffCounters(bed.dp.counters(), before).DROP_MALFORMED.packets, 2);
  for (const f of [shortSctp, shortIcmp]) assert.is(bed.deliver(e3, f).verdict, 'pass');
});

// ------------------------------------------------------------ fragments
const frags = bedSuite('IPv4 fragments');

/** A UDP datagram of 64 payload bytes in three fragments (first with the UDP header). */
function udpFragments(from: string, to: string, sport: number, dport: number, id: number): Buffer[] {
  return fragment(buildPacket({ saddr: from, daddr: to, proto: 'udp', sport, dport, id, payload: 'f'.repeat(64) }), 32);
}

frags('the first fragment is judged by its ports; the later ones follow it (and not the ones of a denied first)', ({ bed, e2 }) => {
  bed.policy(e2, [portRule('ingress', A_ID, 17, 53)]);
  const allowed = udpFragments(A_IP, E2_IP, 40000, 53, 0x1111);
  assert.is(allowed.length, 3);
  for (const [i, f] of allowed.entries()) expect(bed.deliver(e2, f), f, 'pass', `fragment ${i} of the allowed datagram`);
  assert.equal(bed.dp.maps.frag4.get({ saddr: ipNum(A_IP), daddr: ipNum(E2_IP), id: 0x1111, proto: 17, pad: 0 })?.dport, 53);
  const before = bed.dp.counters();
  const denied = udpFragments(A_IP, E2_IP, 40000, 54, 0x2222);
  assert.equal(denied.map((f) => bed.deliver(e2, f).verdict), ['drop', 'drop', 'drop']);
  const diff = diffCounters(bed.dp.counters(), before);
  assert.equal([diff.DROP_POLICY_INGRESS.packets, diff.DROP_FRAG_NOT_FOUND.packets], [1, 2]);
});

frags('a later fragment whose first was never seen: DROP_FRAG_NOT_FOUND where enforced, with an event; passes where not', ({ bed, e2, e3 }) => {
  bed.policy(e2, [l3Only('ingress', A_ID)]);
  const [, second] = udpFragments(A_IP, E2_IP, 40000, 53, 0x3333);
  const events = bed.dp.events();
  try {
    events.poll();
    assert.is(bed.deliver(e2, second!).verdict, 'drop');
    assert.equal(drops(events.poll()), [['DROP_FRAG_NOT_FOUND', 'tc-egress', 17, A_ID, E2_ID]]);
  } finally {
    events.close();
  }
  const [, toE3] = udpFragments(A_IP, E3_IP, 40000, 53, 0x3334);
  expect(bed.deliver(e3, toE3!), toE3!, 'pass', 'E3 enforces nothing');
});

frags('a fragmented ping (L3-only) and its fragmented reply pass; a fragmented ping under default deny does not', ({ bed, e1 }) => {
  bed.policy(e1, [l3Only('egress', A_ID)]);
  const request = fragment(buildIcmpEcho({ saddr: E1_IP, daddr: A_IP, ident: 9, id: 0x4444, payload: 'p'.repeat(100) }), 48);
  const reply = fragment(buildIcmpEcho({ saddr: A_IP, daddr: E1_IP, ident: 9, id: 0x5555, reply: true, payload: 'p'.repeat(100) }), 48);
  for (const [i, f] of request.entries()) expect(bed.send(e1, f), f, 'pass', `request fragment ${i}`);
  for (const [i, f] of reply.entries()) expect(bed.deliver(e1, f), f, 'pass', `reply fragment ${i}`);
  const unsolicited = fragment(buildIcmpEcho({ saddr: A_IP, daddr: E1_IP, ident: 10, id: 0x6666, payload: 'p'.repeat(100) }), 48);
  assert.equal(unsolicited.map((f) => bed.deliver(e1, f).verdict), ['drop', 'drop', 'drop']);
});

frags('a first fragment too short for its TCP header is malformed where enforced (no tiny-fragment games)', ({ bed, e2 }) => {
  bed.policy(e2, [l3Only('ingress', A_ID)]);
  const [tiny] = fragment(buildPacket({ saddr: A_IP, daddr: E2_IP, proto: 'tcp', sport: 40000, dport: 22, id: 0x7777, payload: 'x'.repeat(40) }), 8);
  const before = bed.dp.counters();
  assert.is(bed.deliver(e2, tiny!).verdict, 'drop');
  assert.is(diffCounters(bed.dp.counters(), before).DROP_MALFORMED.packets, 1);
});

frags('an entry older than the reassembly timeout belongs to another datagram: ignored', ({ bed, e2 }) => {
  bed.policy(e2, [l3Only('ingress', A_ID)]);
  const [first, second] = udpFragments(A_IP, E2_IP, 40000, 53, 0x8888);
  assert.is(bed.deliver(e2, first!).verdict, 'pass');
  const key = { saddr: ipNum(A_IP), daddr: ipNum(E2_IP), id: 0x8888, proto: 17, pad: 0 };
  const entry = bed.dp.maps.frag4.get(key);
  assert.ok(entry);
  bed.dp.maps.frag4.put(key, { ...entry, created: entry.created - 31 });
  assert.is(bed.deliver(e2, second!).verdict, 'drop');
});

// ------------------------------------------------------------ IPv6 and ARP
const v6 = bedSuite('IPv6 and ARP');

v6('IPv6 is dropped in both enforced directions with its own reason; passes at an endpoint enforcing nothing', ({ bed, e1, e3 }) => {
  bed.policy(e1, [l3Only('ingress', A_ID), l3Only('egress', A_ID), { direction: 'egress', peerIdentity: 0, protocol: 0, ...ALL_PORTS }]);
  const tcp6 = buildIpv6({ saddr: A_V6, daddr: E1_V6, nextHeader: 6, payload: Buffer.alloc(20) });
  const ping6 = buildIcmpv6({ saddr: E1_V6, daddr: A_V6, type: 128 });
  const events = bed.dp.events();
  try {
    events.poll();
    const before = bed.dp.counters();
    assert.is(bed.deliver(e1, tcp6).verdict, 'drop', 'in, even with an allow-all rule');
    assert.is(bed.send(e1, ping6).verdict, 'drop', 'out');
    assert.is(diffCounters(bed.dp.counters(), before).DROP_POLICY_UNSUPPORTED_FAMILY.packets, 2);
    assert.equal(drops(events.poll()), [
      ['DROP_POLICY_UNSUPPORTED_FAMILY', 'tc-egress', 6, 0, E1_ID],
      ['DROP_POLICY_UNSUPPORTED_FAMILY', 'tc-ingress', 58, E1_ID, 0],
    ]);
  } finally {
    events.close();
  }
  expect(bed.deliver(e3, tcp6), tcp6, 'pass', 'E3 in');
  expect(bed.send(e3, ping6), ping6, 'pass', 'E3 out');
  const ingressOnly = bed.endpoint(3, 1004, EP_F_INGRESS);
  bed.policy(ingressOnly, []);
  expect(bed.send(ingressOnly, ping6), ping6, 'pass', 'out of an endpoint enforcing ingress only');
  assert.is(bed.deliver(ingressOnly, tcp6).verdict, 'drop', 'into it');
});

v6('neighbour discovery (ICMPv6 133..137) passes both ways at an enforcing endpoint; other ICMPv6 does not', ({ bed, e1 }) => {
  for (const type of [133, 134, 135, 136, 137]) {
    const out = buildIcmpv6({ saddr: E1_V6, daddr: 'ff02::1:ff20:1', type });
    const back = buildIcmpv6({ saddr: A_V6, daddr: E1_V6, type });
    expect(bed.send(e1, out), out, 'pass', `type ${type} out`);
    expect(bed.deliver(e1, back), back, 'pass', `type ${type} in`);
  }
  for (const type of [1, 128, 129, 138, 143]) {
    assert.is(bed.send(e1, buildIcmpv6({ saddr: E1_V6, daddr: A_V6, type })).verdict, 'drop', `type ${type}`);
  }
  const ndBehindHopByHop = buildIpv6({ saddr: E1_V6, daddr: A_V6, nextHeader: 0, payload: Buffer.from([58, 0, 5, 2, 0, 0, 1, 0, 135, 0, 0, 0]) });
  assert.is(bed.send(e1, ndBehindHopByHop).verdict, 'drop', 'ICMPv6 behind an extension header is no neighbour discovery');
});

v6('ARP passes both ways at an enforcing endpoint, untouched and uncounted as a drop', ({ bed, e1 }) => {
  const arp = buildArpRequest(E1_IP, '10.10.0.254');
  assert.is(arp.readUInt16BE(12), ETH_P_ARP);
  const before = bed.dp.counters();
  expect(bed.send(e1, arp), arp, 'pass', 'out');
  expect(bed.deliver(e1, arp), arp, 'pass', 'in');
  const diff = diffCounters(bed.dp.counters(), before);
  assert.is(Object.entries(diff).filter(([name, c]) => name.startsWith('DROP') && c.packets > 0).length, 0);
});

// ------------------------------------------------------------ policy off, malformed
const off = bedSuite('policy switched off, malformed IPv4');

off('with no endpoint enforcing, ICMP, SCTP, GRE, fragments and IPv6 pass and nothing is tracked', ({ bed, e1 }) => {
  bed.enforcing(0);
  const frames = [
    buildIcmpEcho({ saddr: A_IP, daddr: E1_IP, ident: 1 }),
    buildSctp({ saddr: A_IP, daddr: E1_IP, sport: 1, dport: 2 }),
    buildRawIpv4({ saddr: A_IP, daddr: E1_IP, proto: IPPROTO_GRE }),
    ...udpFragments(A_IP, E1_IP, 1, 2, 0x9999).slice(1),
    buildIcmpv6({ saddr: A_V6, daddr: E1_V6, type: 128 }),
  ];
  for (const f of frames) {
    expect(bed.deliver(e1, f), f, 'pass', 'in');
    expect(bed.send(e1, f), f, 'pass', 'out');
  }
  assert.is([...bed.dp.maps.ct4.keys()].length, 0);
  assert.is([...bed.dp.maps.frag4.keys()].length, 0);
});

off('malformed IPv4 into an enforcing endpoint is dropped; into one enforcing nothing it passes', ({ bed, e1, e3 }) => {
  const bad = buildPacket({ saddr: A_IP, daddr: E1_IP, proto: 'tcp', sport: 1, dport: 80 }).subarray(0, 14 + 20 + 10);
  assert.is(bed.deliver(e1, bad).verdict, 'drop');
  assert.is(bed.deliver(e3, bad).verdict, 'pass');
});

echo.run();
errors.run();
other.run();
frags.run();
v6.run();
off.run();
