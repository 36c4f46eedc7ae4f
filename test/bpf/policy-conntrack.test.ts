// Packet tests of policy connection tracking (BPF_PROG_TEST_RUN): replies of
// allowed flows pass both the peer's egress and the endpoint's ingress,
// established flows skip the lookup and survive a policy change while new
// flows are judged by the new policy, TCP and UDP, both endpoints on one
// node, and egress policy judged after service DNAT (backend identity and
// port) with the reply coming back through reverse NAT.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { diffCounters, type PolicyMapRule } from '../../datapath/index.js';
import { ipNum, putService } from '../support/datapath-fixture.js';
import { EP_F_EGRESS, EP_F_INGRESS, PolicyBed, type BedEndpoint } from '../support/policy-bed.js';
import { TcpFlag, buildPacket, parsePacket, type L4Proto } from '../support/packet.js';

const E1_IP = '10.10.0.1';
const E2_IP = '10.10.0.2';
const A_IP = '10.20.0.1';
const E1_ID = 1001;
const E2_ID = 1002;
const A_ID = 2001;
const CT_KEY_EGRESS = 1 << 2;
const CT_KEY_INGRESS = 1 << 3;
const CT_F_POLICY_ENFORCED = 1 << 8;

interface Pkt {
  from: string;
  to: string;
  sport: number;
  dport: number;
  proto?: L4Proto;
  flags?: number;
}
function pkt(p: Pkt): Buffer {
  return buildPacket({ saddr: p.from, daddr: p.to, proto: p.proto ?? 'tcp', sport: p.sport, dport: p.dport, tcpFlags: p.flags ?? TcpFlag.ACK, payload: 'x' });
}
/** The same flow in the other direction. */
function reply(p: Pkt, flags: number = TcpFlag.ACK): Pkt {
  return { ...p, from: p.to, to: p.from, sport: p.dport, dport: p.sport, flags };
}

const rule = (direction: PolicyMapRule['direction'], peerIdentity: number, protocol: number, port: number): PolicyMapRule => ({
  direction,
  peerIdentity,
  protocol,
  portLo: port,
  portHi: port,
});

interface Ctx {
  bed: PolicyBed;
  e1: BedEndpoint;
  e2: BedEndpoint;
}

function bedSuite(name: string) {
  const s = suite<Ctx>(name, {} as Ctx);
  s.before.each((ctx) => {
    ctx.bed = new PolicyBed(3);
    ctx.e1 = ctx.bed.endpoint(0, E1_ID, EP_F_INGRESS | EP_F_EGRESS);
    ctx.e2 = ctx.bed.endpoint(1, E2_ID, EP_F_INGRESS | EP_F_EGRESS);
    ctx.bed.enforcing(2);
    ctx.bed.ipcache(`${E1_IP}/32`, E1_ID);
    ctx.bed.ipcache(`${E2_IP}/32`, E2_ID);
    ctx.bed.ipcache(`${A_IP}/32`, A_ID);
    ctx.bed.policy(ctx.e1, []);
    ctx.bed.policy(ctx.e2, []);
  });
  s.after.each((ctx) => ctx.bed.dispose());
  return s;
}

// ------------------------------------------------------------ replies
const replies = bedSuite('replies');

for (const proto of ['tcp', 'udp'] as const) {
  replies(`${proto}: the reply to an allowed outgoing flow passes the endpoint's ingress, a new incoming flow does not`, ({ bed, e1 }) => {
    const n = proto === 'tcp' ? 6 : 17;
    bed.policy(e1, [rule('egress', A_ID, n, 80)]);
    const out: Pkt = { from: E1_IP, to: A_IP, sport: 40001, dport: 80, proto, flags: TcpFlag.SYN };
    assert.is(bed.send(e1, pkt(out)).verdict, 'pass');
    assert.is(bed.deliver(e1, pkt(reply(out, TcpFlag.SYN | TcpFlag.ACK))).verdict, 'pass', 'reply in');
    assert.is(bed.send(e1, pkt({ ...out, flags: TcpFlag.ACK })).verdict, 'pass', 'established out');
    assert.is(bed.deliver(e1, pkt(reply(out))).verdict, 'pass', 'second reply in');
    assert.is(bed.deliver(e1, pkt({ from: A_IP, to: E1_IP, sport: 80, dport: 40002, proto, flags: TcpFlag.SYN })).verdict, 'drop', 'unrelated flow in');
  });

  replies(`${proto}: the reply of an endpoint to an allowed incoming flow passes its egress, a flow it opens does not`, ({ bed, e2 }) => {
    const n = proto === 'tcp' ? 6 : 17;
    bed.policy(e2, [rule('ingress', A_ID, n, 5353)]);
    const inbound: Pkt = { from: A_IP, to: E2_IP, sport: 50000, dport: 5353, proto, flags: TcpFlag.SYN };
    assert.is(bed.deliver(e2, pkt(inbound)).verdict, 'pass');
    assert.is(bed.send(e2, pkt(reply(inbound, TcpFlag.SYN | TcpFlag.ACK))).verdict, 'pass', 'reply out');
    assert.is(bed.send(e2, pkt({ from: E2_IP, to: A_IP, sport: 5353, dport: 50001, proto, flags: TcpFlag.SYN })).verdict, 'drop', 'own flow out');
    const entry = bed.dp.maps.ct4.get({ saddr: ipNum(A_IP), daddr: ipNum(E2_IP), sport: 50000, dport: 5353, proto: n, flags: CT_KEY_INGRESS, pad: 0 });
    assert.ok(entry, 'an ingress entry keyed as the endpoint received the flow');
    assert.is(entry.flags & 1, 1, 'SEEN_REPLY');
    assert.is(entry.flags & CT_F_POLICY_ENFORCED, CT_F_POLICY_ENFORCED);
  });
}

replies('an endpoint enforcing ingress only still tracks what it opens, so the replies come in', ({ bed }) => {
  const e3 = bed.endpoint(2, 1003, EP_F_INGRESS);
  bed.enforcing(3);
  bed.policy(e3, []);
  const out: Pkt = { from: '10.10.0.3', to: A_IP, sport: 40100, dport: 443, flags: TcpFlag.SYN };
  assert.is(bed.send(e3, pkt(out)).verdict, 'pass');
  assert.is(bed.deliver(e3, pkt(reply(out, TcpFlag.SYN | TcpFlag.ACK))).verdict, 'pass');
  const entry = bed.dp.maps.ct4.get({ saddr: ipNum('10.10.0.3'), daddr: ipNum(A_IP), sport: 40100, dport: 443, proto: 6, flags: CT_KEY_EGRESS, pad: 0 });
  assert.equal([entry?.flags, entry?.policyMatch], [1, 0], 'tracked only (not enforced), reply seen');
  assert.is(bed.deliver(e3, pkt({ from: A_IP, to: '10.10.0.3', sport: 443, dport: 40101, flags: TcpFlag.SYN })).verdict, 'drop');
});

// ------------------------------------------------------------ both endpoints on the node
const local = bedSuite('endpoint to endpoint');

local('each side judges its own direction; the reply passes both, each on its own entry', ({ bed, e1, e2 }) => {
  bed.policy(e1, [rule('egress', E2_ID, 6, 8080)]);
  bed.policy(e2, [rule('ingress', E1_ID, 6, 8080)]);
  const flow: Pkt = { from: E1_IP, to: E2_IP, sport: 33000, dport: 8080, flags: TcpFlag.SYN };
  assert.is(bed.send(e1, pkt(flow)).verdict, 'pass', "e1's egress");
  assert.is(bed.deliver(e2, pkt(flow)).verdict, 'pass', "e2's ingress");
  assert.is(bed.send(e2, pkt(reply(flow, TcpFlag.SYN | TcpFlag.ACK))).verdict, 'pass', "reply through e2's egress");
  assert.is(bed.deliver(e1, pkt(reply(flow, TcpFlag.SYN | TcpFlag.ACK))).verdict, 'pass', "reply through e1's ingress");
});

local("the source's egress entry does not open the destination's ingress", ({ bed, e1, e2 }) => {
  bed.policy(e1, [rule('egress', E2_ID, 6, 8080)]);
  const flow: Pkt = { from: E1_IP, to: E2_IP, sport: 33001, dport: 8080, flags: TcpFlag.SYN };
  assert.is(bed.send(e1, pkt(flow)).verdict, 'pass');
  assert.is(bed.deliver(e2, pkt(flow)).verdict, 'drop');
  assert.is(bed.deliver(e2, pkt({ ...flow, flags: TcpFlag.ACK })).verdict, 'drop', 'and not for later packets either');
});

// ------------------------------------------------------------ policy changes
const change = bedSuite('policy change');

change('an established flow survives the removal of the rule that allowed it; new flows are denied', ({ bed, e2 }) => {
  bed.policy(e2, [rule('ingress', A_ID, 6, 80)]);
  const old: Pkt = { from: A_IP, to: E2_IP, sport: 45000, dport: 80, flags: TcpFlag.SYN };
  assert.is(bed.deliver(e2, pkt(old)).verdict, 'pass');
  bed.policy(e2, []);
  const before = bed.dp.counters();
  assert.is(bed.deliver(e2, pkt({ ...old, flags: TcpFlag.ACK })).verdict, 'pass', 'established packet');
  assert.is(bed.send(e2, pkt(reply(old))).verdict, 'pass', 'its reply');
  assert.is(bed.deliver(e2, pkt({ ...old, sport: 45001 })).verdict, 'drop', 'new connection');
  assert.is(diffCounters(bed.dp.counters(), before).DROP_POLICY_INGRESS.packets, 1);
});

change('a new SYN on the tuple of an established flow is judged again; refused, it ends the old entry', ({ bed, e2 }) => {
  bed.policy(e2, [rule('ingress', A_ID, 6, 80)]);
  const old: Pkt = { from: A_IP, to: E2_IP, sport: 45100, dport: 80, flags: TcpFlag.SYN };
  assert.is(bed.deliver(e2, pkt(old)).verdict, 'pass');
  bed.policy(e2, []);
  assert.is(bed.deliver(e2, pkt(old)).verdict, 'drop', 'reopening SYN');
  assert.is(bed.deliver(e2, pkt({ ...old, flags: TcpFlag.ACK })).verdict, 'drop', 'the old entry is gone');
});

change('UDP: an established flow keeps going after the rule is removed; a new source port is denied', ({ bed, e2 }) => {
  bed.policy(e2, [rule('ingress', A_ID, 17, 53)]);
  const old: Pkt = { from: A_IP, to: E2_IP, sport: 46000, dport: 53, proto: 'udp' };
  assert.is(bed.deliver(e2, pkt(old)).verdict, 'pass');
  bed.policy(e2, []);
  assert.is(bed.deliver(e2, pkt(old)).verdict, 'pass');
  assert.is(bed.deliver(e2, pkt({ ...old, sport: 46001 })).verdict, 'drop');
});

change('an expired entry is judged again', ({ bed, e2 }) => {
  bed.dp.setConfig({ ctTimeouts: { tcpSeconds: 0, synSeconds: 0, finSeconds: 0, otherSeconds: 0 } });
  bed.policy(e2, [rule('ingress', A_ID, 6, 80)]);
  const old: Pkt = { from: A_IP, to: E2_IP, sport: 45200, dport: 80, flags: TcpFlag.SYN };
  assert.is(bed.deliver(e2, pkt(old)).verdict, 'pass');
  bed.policy(e2, []);
  assert.is(bed.deliver(e2, pkt({ ...old, flags: TcpFlag.ACK })).verdict, 'drop');
});

// ------------------------------------------------------------ services
const lb = bedSuite('policy after DNAT');
const VIP = '10.96.0.10';
const B_IP = '10.30.0.2';
const C_IP = '10.30.0.3';
const B_ID = 3002;
const C_ID = 3003;

lb('egress judges the backend identity and port; the reply is reverse-NATed and passes the client ingress', ({ bed, e1 }) => {
  bed.ipcache(`${B_IP}/32`, B_ID);
  putService(bed.dp, { vip: VIP, port: 80, proto: 'tcp', id: 7, backends: [{ id: 70, addr: B_IP, port: 8080 }] });
  bed.policy(e1, [rule('egress', B_ID, 6, 8080)]);
  const flow: Pkt = { from: E1_IP, to: VIP, sport: 47000, dport: 80, flags: TcpFlag.SYN };
  const out = bed.send(e1, pkt(flow));
  assert.is(out.verdict, 'pass');
  const p = parsePacket(out.out);
  assert.equal([p.ip.daddr, p.l4?.dport], [B_IP, 8080]);
  // The backend's reply enters on another interface (not an endpoint), is
  // reverse-NATed there, and reaches e1 as VIP:80 -> e1.
  const back = bed.run('ingress', bed.ifindex(2), pkt({ from: B_IP, to: E1_IP, sport: 8080, dport: 47000, flags: TcpFlag.SYN | TcpFlag.ACK }));
  const rp = parsePacket(back.out);
  assert.equal([rp.ip.saddr, rp.l4?.sport], [VIP, 80]);
  assert.is(bed.deliver(e1, back.out).verdict, 'pass');
});

lb('a backend whose identity or port the policy does not allow is dropped, with the backend in the event', ({ bed, e1 }) => {
  bed.ipcache(`${C_IP}/32`, C_ID);
  bed.ipcache(`${B_IP}/32`, B_ID);
  putService(bed.dp, { vip: VIP, port: 80, proto: 'tcp', id: 8, backends: [{ id: 80, addr: C_IP, port: 8080 }] });
  putService(bed.dp, { vip: VIP, port: 81, proto: 'tcp', id: 9, backends: [{ id: 90, addr: B_IP, port: 9090 }] });
  bed.policy(e1, [rule('egress', B_ID, 6, 8080), rule('egress', 0, 6, 80), rule('egress', 0, 6, 81)]);
  const events = bed.dp.events();
  try {
    events.poll();
    assert.is(bed.send(e1, pkt({ from: E1_IP, to: VIP, sport: 47100, dport: 80, flags: TcpFlag.SYN })).verdict, 'drop', 'identity');
    assert.is(bed.send(e1, pkt({ from: E1_IP, to: VIP, sport: 47101, dport: 81, flags: TcpFlag.SYN })).verdict, 'drop', 'port (VIP port allowed, backend port not)');
    const drops = events.poll().filter((e) => e.type === 'drop');
    assert.equal(
      drops.map((e) => [e.reasonName, e.daddr, e.backendId, e.revNatIndex, e.srcIdentity, e.dstIdentity]),
      [
        ['DROP_POLICY_EGRESS', VIP, 80, 8, E1_ID, C_ID],
        ['DROP_POLICY_EGRESS', VIP, 90, 9, E1_ID, B_ID],
      ],
    );
  } finally {
    events.close();
  }
});

replies.run();
local.run();
change.run();
lb.run();
