// Packet tests of the policy lookup (reference §8.6) with BPF_PROG_TEST_RUN:
// L3-only, L3+protocol, L3+protocol+port, port ranges at their edges,
// L4-only (identity 0), deny over allow, no entry -> drop with its reason,
// counter and event, world for unknown peers, both directions. The real
// programs run with skb->ifindex naming a veth in a test namespace.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffCounters, type PolicyMapRule } from '../../datapath/index.js';
import { ipNum } from '../support/datapath-fixture.js';
import { EP_F_EGRESS, EP_F_INGRESS, PolicyBed, type BedEndpoint } from '../support/policy-bed.js';
import { TcpFlag, buildPacket, type L4Proto } from '../support/packet.js';

// Identities: the endpoint, two peers, and world for everything else.
const EP_ID = 1000;
const PEER_A = 2000;
const PEER_B = 2001;
const WORLD = 2;
const EP_IP = '10.10.0.10';
const A_IP = '10.20.0.1';
const B_IP = '10.20.0.2';
const UNKNOWN_IP = '192.0.2.7';

let sport = 30000;
/** A new flow into the endpoint (a fresh source port each time: no conntrack hit). */
function into(from: string, dport: number, proto: L4Proto = 'tcp') {
  return buildPacket({ saddr: from, daddr: EP_IP, proto, sport: sport++, dport, tcpFlags: TcpFlag.SYN });
}
function outOf(to: string, dport: number, proto: L4Proto = 'tcp') {
  return buildPacket({ saddr: EP_IP, daddr: to, proto, sport: sport++, dport, tcpFlags: TcpFlag.SYN });
}

const ingress = (rule: Omit<PolicyMapRule, 'direction'>): PolicyMapRule => ({ direction: 'ingress', ...rule });
const ALL_PORTS = { portLo: 0, portHi: 65535 } as const;

interface Ctx {
  bed: PolicyBed;
  ep: BedEndpoint;
}

function bedSuite(name: string, flags = EP_F_INGRESS | EP_F_EGRESS) {
  const s = suite<Ctx>(name, {} as Ctx);
  s.before.each((ctx) => {
    ctx.bed = new PolicyBed(2);
    ctx.ep = ctx.bed.endpoint(0, EP_ID, flags);
    ctx.bed.enforcing(1);
    ctx.bed.ipcache(`${A_IP}/32`, PEER_A);
    ctx.bed.ipcache(`${B_IP}/32`, PEER_B);
    ctx.bed.ipcache(`${EP_IP}/32`, EP_ID);
  });
  s.after.each((ctx) => ctx.bed.dispose());
  return s;
}

/** The verdicts of delivering each (peer, port, proto) to the endpoint. */
function verdicts(bed: PolicyBed, ep: BedEndpoint, probes: readonly [string, number, L4Proto][]): string[] {
  return probes.map(([from, port, proto]) => bed.deliver(ep, into(from, port, proto)).verdict);
}

// ------------------------------------------------------------ wildcards
const wild = bedSuite('lookup wildcards');

wild('L3-only: every protocol and port from that identity, nothing from others', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 0, ...ALL_PORTS })]);
  assert.equal(
    verdicts(bed, ep, [[A_IP, 80, 'tcp'], [A_IP, 65535, 'tcp'], [A_IP, 53, 'udp'], [A_IP, 1, 'udp'], [B_IP, 80, 'tcp'], [UNKNOWN_IP, 80, 'tcp']]),
    ['pass', 'pass', 'pass', 'pass', 'drop', 'drop'],
  );
});

wild('L3 + protocol: every port of that protocol only', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 17, ...ALL_PORTS })]);
  assert.equal(verdicts(bed, ep, [[A_IP, 53, 'udp'], [A_IP, 9999, 'udp'], [A_IP, 53, 'tcp'], [B_IP, 53, 'udp']]), ['pass', 'pass', 'drop', 'drop']);
});

wild('L3 + protocol + port: that port only', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 6, portLo: 8080, portHi: 8080 })]);
  assert.equal(verdicts(bed, ep, [[A_IP, 8080, 'tcp'], [A_IP, 8081, 'tcp'], [A_IP, 8079, 'tcp'], [A_IP, 8080, 'udp']]), ['pass', 'drop', 'drop', 'drop']);
});

wild('port range: both edges in, the ports just outside out (unaligned range of several LPM blocks)', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 6, portLo: 1000, portHi: 2047 })]);
  assert.equal(
    verdicts(bed, ep, [[A_IP, 999, 'tcp'], [A_IP, 1000, 'tcp'], [A_IP, 1023, 'tcp'], [A_IP, 1024, 'tcp'], [A_IP, 1500, 'tcp'], [A_IP, 2047, 'tcp'], [A_IP, 2048, 'tcp']]),
    ['drop', 'pass', 'pass', 'pass', 'pass', 'pass', 'drop'],
  );
});

wild('port range up to 65535 and from 1', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 6, portLo: 60001, portHi: 65535 }), ingress({ peerIdentity: PEER_B, protocol: 6, portLo: 1, portHi: 3 })]);
  assert.equal(verdicts(bed, ep, [[A_IP, 60000, 'tcp'], [A_IP, 60001, 'tcp'], [A_IP, 65535, 'tcp']]), ['drop', 'pass', 'pass']);
  assert.equal(verdicts(bed, ep, [[B_IP, 1, 'tcp'], [B_IP, 3, 'tcp'], [B_IP, 4, 'tcp']]), ['pass', 'pass', 'drop']);
});

wild('L4-only (identity 0): the port from any peer, known or not', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: 0, protocol: 6, portLo: 443, portHi: 443 })]);
  assert.equal(verdicts(bed, ep, [[A_IP, 443, 'tcp'], [B_IP, 443, 'tcp'], [UNKNOWN_IP, 443, 'tcp'], [A_IP, 444, 'tcp'], [A_IP, 443, 'udp']]), ['pass', 'pass', 'pass', 'drop', 'drop']);
});

wild('L4-only over all ports and protocols (an allow-all entry) lets everything in', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: 0, protocol: 0, ...ALL_PORTS })]);
  assert.equal(verdicts(bed, ep, [[A_IP, 1, 'tcp'], [UNKNOWN_IP, 65535, 'udp']]), ['pass', 'pass']);
});

wild('an L3 entry and an L4-only entry add up (L3 miss falls through to L4-only)', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 6, portLo: 80, portHi: 80 }), ingress({ peerIdentity: 0, protocol: 6, portLo: 443, portHi: 443 })]);
  assert.equal(verdicts(bed, ep, [[A_IP, 80, 'tcp'], [A_IP, 443, 'tcp'], [B_IP, 80, 'tcp'], [B_IP, 443, 'tcp']]), ['pass', 'pass', 'drop', 'pass']);
});

wild('the matching entry is recorded in the flow: L3_L4, L4_ONLY, L3_ONLY', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 6, portLo: 80, portHi: 80 }), ingress({ peerIdentity: 0, protocol: 6, portLo: 443, portHi: 443 }), ingress({ peerIdentity: PEER_B, protocol: 0, ...ALL_PORTS })]);
  const match = (from: string, port: number) => {
    const frame = buildPacket({ saddr: from, daddr: EP_IP, proto: 'tcp', sport: 41000 + port, dport: port });
    assert.is(bed.deliver(ep, frame).verdict, 'pass');
    const entry = bed.dp.maps.ct4.get({ saddr: ipNum(from), daddr: ipNum(EP_IP), sport: 41000 + port, dport: port, proto: 6, flags: 1 << 3, pad: 0 });
    return [entry?.policyMatch, entry?.peerIdentity];
  };
  assert.equal(match(A_IP, 80), [3, PEER_A]);
  assert.equal(match(A_IP, 443), [6, PEER_A]);
  assert.equal(match(B_IP, 9), [1, PEER_B]);
});

// ------------------------------------------------------------ deny
const deny = bedSuite('deny');

deny('an L4-only deny beats an L3 allow of the same port', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 0, ...ALL_PORTS }), ingress({ peerIdentity: 0, protocol: 6, portLo: 22, portHi: 22, deny: true })]);
  const before = bed.dp.counters();
  assert.equal(verdicts(bed, ep, [[A_IP, 22, 'tcp'], [A_IP, 23, 'tcp'], [A_IP, 22, 'udp']]), ['drop', 'pass', 'pass']);
  assert.is(diffCounters(bed.dp.counters(), before).DROP_POLICY_DENY_INGRESS.packets, 1);
});

deny('an L3 deny beats an L4-only allow, and only for that identity', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: 0, protocol: 6, ...ALL_PORTS }), ingress({ peerIdentity: PEER_B, protocol: 6, portLo: 5000, portHi: 5999, deny: true })]);
  assert.equal(verdicts(bed, ep, [[B_IP, 5000, 'tcp'], [B_IP, 5999, 'tcp'], [B_IP, 6000, 'tcp'], [A_IP, 5000, 'tcp']]), ['drop', 'drop', 'pass', 'pass']);
});

deny('a broad deny beats a narrower allow of the same identity (LPM picks the allow; the L4 deny wins on precedence)', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 6, portLo: 80, portHi: 80 }), ingress({ peerIdentity: 0, protocol: 0, ...ALL_PORTS, deny: true })]);
  assert.equal(verdicts(bed, ep, [[A_IP, 80, 'tcp']]), ['drop']);
});

// ------------------------------------------------------------ no entry
const none = bedSuite('no entry');

none('no entry: dropped, counted per direction, and reported with both identities', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 6, portLo: 80, portHi: 80 })]);
  const events = bed.dp.events();
  try {
    events.poll();
    const before = bed.dp.counters();
    assert.is(bed.deliver(ep, into(B_IP, 80)).verdict, 'drop');
    assert.is(bed.send(ep, outOf(A_IP, 80)).verdict, 'drop');
    const diff = diffCounters(bed.dp.counters(), before);
    assert.is(diff.DROP_POLICY_INGRESS.packets, 1);
    assert.is(diff.DROP_POLICY_EGRESS.packets, 1);
    const drops = events.poll().filter((e) => e.type === 'drop');
    assert.equal(
      drops.map((e) => [e.reasonName, e.hook, e.ifindex, e.saddr, e.daddr, e.dport, e.srcIdentity, e.dstIdentity]),
      [
        ['DROP_POLICY_INGRESS', 'tc-egress', ep.ifindex, B_IP, EP_IP, 80, PEER_B, EP_ID],
        ['DROP_POLICY_EGRESS', 'tc-ingress', ep.ifindex, EP_IP, A_IP, 80, EP_ID, PEER_A],
      ],
    );
  } finally {
    events.close();
  }
});

none('an enforcing endpoint with no policy map at all drops (fail closed)', ({ bed, ep }) => {
  bed.removePolicyMap(ep);
  assert.equal(verdicts(bed, ep, [[A_IP, 80, 'tcp']]), ['drop']);
});

none('unknown peers are world (2): a world entry lets them in, an identity in the ipcache does not use it', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: WORLD, protocol: 6, portLo: 80, portHi: 80 })]);
  assert.equal(verdicts(bed, ep, [[UNKNOWN_IP, 80, 'tcp'], ['198.51.100.1', 80, 'tcp'], [A_IP, 80, 'tcp']]), ['pass', 'pass', 'drop']);
});

none('the ipcache is a longest-prefix match: a /32 inside a /16 has its own identity', ({ bed, ep }) => {
  bed.ipcache('172.16.0.0/16', 3000);
  bed.ipcache('172.16.5.5/32', 3001);
  bed.policy(ep, [ingress({ peerIdentity: 3000, protocol: 0, ...ALL_PORTS })]);
  assert.equal(verdicts(bed, ep, [['172.16.9.9', 80, 'tcp'], ['172.16.5.5', 80, 'tcp'], ['172.17.0.1', 80, 'tcp']]), ['pass', 'drop', 'drop']);
});

// ------------------------------------------------------------ directions
const dirs = bedSuite('directions', EP_F_EGRESS);

dirs('egress policy judges the destination identity and port; an endpoint not enforcing ingress takes anything in', ({ bed, ep }) => {
  bed.policy(ep, [{ direction: 'egress', peerIdentity: PEER_A, protocol: 17, portLo: 53, portHi: 53 }]);
  assert.equal(
    [outOf(A_IP, 53, 'udp'), outOf(A_IP, 54, 'udp'), outOf(B_IP, 53, 'udp'), outOf(A_IP, 53, 'tcp')].map((f) => bed.send(ep, f).verdict),
    ['pass', 'drop', 'drop', 'drop'],
  );
  assert.is(bed.deliver(ep, into(B_IP, 12345)).verdict, 'pass');
});

dirs('an ingress entry does not allow egress and the reverse', ({ bed, ep }) => {
  bed.policy(ep, [ingress({ peerIdentity: PEER_A, protocol: 0, ...ALL_PORTS })]);
  assert.is(bed.send(ep, outOf(A_IP, 80)).verdict, 'drop');
});

const off = bedSuite('policy switched off');

off('with no endpoint enforcing (flg_policy_state 0), nothing is judged and nothing is tracked', ({ bed, ep }) => {
  bed.policy(ep, []);
  bed.enforcing(0);
  assert.equal(verdicts(bed, ep, [[A_IP, 80, 'tcp'], [UNKNOWN_IP, 9, 'udp']]), ['pass', 'pass']);
  assert.is(bed.send(ep, outOf(B_IP, 80)).verdict, 'pass');
  assert.is([...bed.dp.maps.ct4.keys()].length, 0);
  bed.enforcing(1);
  assert.equal(verdicts(bed, ep, [[A_IP, 80, 'tcp']]), ['drop']);
});

off('a packet on an interface that is no endpoint is not judged', ({ bed, ep }) => {
  bed.policy(ep, []);
  const other = bed.ifindex(1);
  assert.is(bed.run('egress', other, into(A_IP, 80)).verdict, 'pass');
  assert.is(bed.run('ingress', other, outOf(A_IP, 80)).verdict, 'pass');
});

wild.run();
deny.run();
none.run();
dirs.run();
off.run();
