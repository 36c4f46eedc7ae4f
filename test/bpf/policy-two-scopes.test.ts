// Packet tests of two-scope services (reference §7.1 TWO_SCOPES, §8.1 step
// 3): traffic from a local endpoint (skb->ifindex in flg_endpoints: the
// table the policy reconciler writes, hence here) to a service whose master
// carries TWO_SCOPES is looked up again in the internal scope and gets the
// internal backends; traffic from elsewhere keeps the external scope.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { Datapath } from '../../datapath/index.js';
import { ipNum, putService } from '../support/datapath-fixture.js';
import { PolicyBed } from '../support/policy-bed.js';
import { TcpFlag, buildPacket, parsePacket } from '../support/packet.js';

const VIP = '10.96.5.5';
const EXTERNAL_BACKEND = '10.40.0.1';
const INTERNAL_BACKEND = '10.40.0.2';
const TWO_SCOPES = 1 << 5; // flags2: FLG_SVC_F2_TWO_SCOPES
const ROUTABLE = 1 << 6;
const SCOPE_INTERNAL = 1;

/** External-scope service (written by the fixture), optionally flagged TWO_SCOPES and with an internal-scope twin. */
function twoScopeService(dp: Datapath, opts: { flag: boolean; internal: boolean }): void {
  putService(dp, { vip: VIP, port: 80, proto: 'tcp', id: 21, backends: [{ id: 210, addr: EXTERNAL_BACKEND, port: 8080 }] });
  const master = { address: ipNum(VIP), dport: 80, backendSlot: 0, proto: 6, scope: 0 };
  if (opts.flag) {
    const m = dp.maps.lb4Services.get(master)!;
    dp.maps.lb4Services.put(master, { ...m, flags2: m.flags2 | TWO_SCOPES });
  }
  if (opts.internal) {
    dp.maps.lb4Backends.put(211, { address: ipNum(INTERNAL_BACKEND), port: 8081, proto: 6, flags: 0, clusterId: 0, zone: 0, pad: 0 });
    const key = { ...master, scope: SCOPE_INTERNAL };
    dp.maps.lb4Services.put({ ...key, backendSlot: 1 }, { backendId: 211, count: 0, revNatIndex: 21, flags: ROUTABLE, flags2: 0, qcount: 0 });
    dp.maps.lb4Services.put(key, { backendId: 0, count: 1, revNatIndex: 21, flags: ROUTABLE, flags2: TWO_SCOPES, qcount: 0 });
  }
}

let sport = 20000;
const syn = () => buildPacket({ saddr: '10.10.0.9', daddr: VIP, proto: 'tcp', sport: sport++, dport: 80, tcpFlags: TcpFlag.SYN });

interface Ctx {
  bed: PolicyBed;
}
const scopes = suite<Ctx>('two scopes', {} as Ctx);
scopes.before.each((ctx) => {
  ctx.bed = new PolicyBed(2);
  ctx.bed.endpoint(0, 1000, 0); // an endpoint, no policy enforced, policy off node-wide
});
scopes.after.each((ctx) => ctx.bed.dispose());

function destination(bed: PolicyBed, fromEndpoint: boolean): [string, number | undefined] {
  const res = bed.run('ingress', bed.ifindex(fromEndpoint ? 0 : 1), syn());
  assert.is(res.verdict, 'pass');
  const p = parsePacket(res.out);
  return [p.ip.daddr, p.l4?.dport];
}

scopes('from a local endpoint the internal scope serves; from elsewhere the external one', ({ bed }) => {
  twoScopeService(bed.dp, { flag: true, internal: true });
  assert.equal(destination(bed, true), [INTERNAL_BACKEND, 8081]);
  assert.equal(destination(bed, false), [EXTERNAL_BACKEND, 8080]);
});

scopes('without the TWO_SCOPES flag an endpoint gets the external scope too', ({ bed }) => {
  twoScopeService(bed.dp, { flag: false, internal: true });
  assert.equal(destination(bed, true), [EXTERNAL_BACKEND, 8080]);
});

scopes('TWO_SCOPES without an internal entry: the VIP is no service for an endpoint (left untouched), still one from elsewhere', ({ bed }) => {
  twoScopeService(bed.dp, { flag: true, internal: false });
  assert.equal(destination(bed, true), [VIP, 80]);
  assert.equal(destination(bed, false), [EXTERNAL_BACKEND, 8080]);
});

scopes('the reply of the internal backend is reverse-NATed back to the VIP', ({ bed }) => {
  twoScopeService(bed.dp, { flag: true, internal: true });
  const port = sport;
  assert.equal(destination(bed, true), [INTERNAL_BACKEND, 8081]);
  const back = bed.run('ingress', bed.ifindex(1), buildPacket({ saddr: INTERNAL_BACKEND, daddr: '10.10.0.9', proto: 'tcp', sport: 8081, dport: port, tcpFlags: TcpFlag.SYN | TcpFlag.ACK }));
  const p = parsePacket(back.out);
  assert.equal([p.ip.saddr, p.l4?.sport], [VIP, 80]);
});

scopes.run();
