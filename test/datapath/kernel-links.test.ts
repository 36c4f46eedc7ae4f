// Links (tcx ingress/egress, XDP generic and native) on a veth inside a namespace this
// test creates; pins, reopening, program replacement, detach; PROG_TEST_RUN.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  AttachType,
  BpfError,
  BpfLink,
  BpfObject,
  BpfProgram,
  exit,
  ifindexOf,
  insn,
  queryTcx,
  returnProgram,
  withNetns,
} from '../../datapath/index.js';
import { compileBpf, createTestNetns, ipLinkShow, tempPinRoot } from './fixtures/kernel-fixtures.js';

const fixture = compileBpf('kernel-fixture.c');

const links = suite('kernel links: tcx and XDP in a namespace');

links('tcx ingress and egress links: info, query order, pin, reopen, update, detach', () => {
  const ns = createTestNetns();
  const pinRoot = tempPinRoot();
  using obj = BpfObject.load(fixture, { pinRoot });
  using pass = obj.program('fx_tc_pass');
  using drop = obj.program('fx_tc_drop');
  const target = { ifname: ns.veth[0], netns: ns.name };
  const ifindex = ifindexOf(ns.veth[0], ns.name);

  const ingress = BpfLink.attachTcx(pass, target, 'ingress');
  using egress = BpfLink.attachTcx(drop, target, 'egress');
  const info = ingress.info();
  assert.equal([info.typeName, info.progId, info.ifindex, info.attachType], ['TCX', pass.id, ifindex, AttachType.TCX_INGRESS]);
  assert.is(egress.info().attachType, AttachType.TCX_EGRESS);
  assert.equal(queryTcx(target, 'ingress').programIds, [pass.id]);
  assert.equal(queryTcx(target, 'egress').linkIds, [egress.id]);

  // a second link on the same hook runs after the first
  using second = BpfLink.attachTcx(drop, target, 'ingress');
  assert.equal(queryTcx(target, 'ingress').programIds, [pass.id, drop.id]);
  second.close(); // an unpinned link detaches when its last fd closes
  assert.equal(queryTcx(target, 'ingress').programIds, [pass.id]);

  // pinned, the attachment outlives the fd (as it outlives the agent)
  ingress.pin(`${pinRoot}/link_ingress`);
  const id = ingress.id;
  ingress.close();
  assert.equal(queryTcx(target, 'ingress').linkIds, [id]);
  using reopened = BpfLink.openPinned(`${pinRoot}/link_ingress`);
  assert.is(reopened.id, id);

  // replace the program in place: same link, new program, revision moves on
  const before = queryTcx(target, 'ingress').revision;
  reopened.update(drop, pass);
  assert.is(reopened.info().progId, drop.id);
  assert.equal(queryTcx(target, 'ingress').programIds, [drop.id]);
  assert.ok(queryTcx(target, 'ingress').revision > before);
  const mismatch = (() => {
    try {
      reopened.update(pass, pass);
    } catch (err) {
      return err;
    }
    return undefined;
  })();
  assert.ok(BpfError.is(mismatch, 'EPERM'), String(mismatch));
  assert.match((mismatch as Error).message, /^link update tcx\/ingress: EPERM|^link update .*: EPERM \(old program mismatch/);

  reopened.detach();
  assert.equal(queryTcx(target, 'ingress').programIds, []);
  reopened.detach(); // harmless
});

links('XDP links in generic and native mode, shown by the kernel on the device', () => {
  const ns = createTestNetns();
  const pinRoot = tempPinRoot();
  using obj = BpfObject.load(fixture, { pinRoot });
  using prog = obj.program('fx_xdp_count');
  using generic = BpfLink.attachXdp(prog, { ifname: ns.veth[1], netns: ns.name }, 'generic');
  using native = BpfLink.attachXdp(prog, { ifname: ns.veth[0], netns: ns.name }, 'native');
  assert.is(generic.info().typeName, 'XDP');
  assert.is(native.info().ifindex, ifindexOf(ns.veth[0], ns.name));
  assert.match(ipLinkShow(ns.name, ns.veth[1]), /xdpgeneric/);
  assert.match(ipLinkShow(ns.name, ns.veth[0]), /prog\/xdp id \d+/);
  assert.throws(
    () => BpfLink.attachXdp(prog, { ifname: ns.veth[0], netns: ns.name }, 'native'),
    (e: unknown) => BpfError.is(e, 'EEXIST') || BpfError.is(e, 'EBUSY'),
  );
  native.pin(`${pinRoot}/xdp_native`);
  native.close();
  assert.match(ipLinkShow(ns.name, ns.veth[0]), /prog\/xdp/);
  using pinned = BpfLink.openPinned(`${pinRoot}/xdp_native`);
  pinned.detach();
  assert.not.match(ipLinkShow(ns.name, ns.veth[0]), /prog\/xdp/);
});

links('bad targets: unknown interface, unknown namespace, no target at all', () => {
  const ns = createTestNetns();
  using prog = BpfProgram.load({ type: 'SCHED_CLS', insns: returnProgram(0), name: 'flg_l_ok' });
  assert.throws(() => BpfLink.attachTcx(prog, { ifname: 'nosuchdev0', netns: ns.name }, 'ingress'), (e: unknown) => BpfError.is(e, 'ENODEV'));
  assert.throws(() => BpfLink.attachTcx(prog, { ifindex: 0x7ffffff0 }, 'ingress'), (e: unknown) => BpfError.is(e, 'ENODEV') && /no such interface/.test((e as Error).message));
  assert.throws(() => BpfLink.attachTcx(prog, { ifname: 'lo', netns: `nosuchns${process.pid}` }, 'ingress'), (e: unknown) => BpfError.is(e, 'ENOENT'));
  assert.throws(() => BpfLink.attachTcx(prog, {}, 'ingress'), /ifindex or an ifname/);
});

links('withNetns runs the callback inside the namespace and always switches back', () => {
  const ns = createTestNetns();
  const outside = ifindexOf('lo');
  const devs = withNetns(ns.name, () => [ifindexOf(ns.veth[0]), ifindexOf(ns.veth[1])]);
  assert.ok(devs.every((i) => i > 0));
  assert.throws(() => ifindexOf(ns.veth[0]), (e: unknown) => BpfError.is(e, 'ENODEV'));
  assert.throws(() => withNetns(ns.name, () => {
    throw new Error('boom');
  }), /boom/);
  assert.throws(() => withNetns(ns.name, () => Promise.resolve(1)), /must be synchronous/);
  assert.is(ifindexOf('lo'), outside);
  assert.throws(() => ifindexOf(ns.veth[0]), (e: unknown) => BpfError.is(e, 'ENODEV'));
});

links.run();

const testRun = suite('kernel programs: PROG_TEST_RUN and raw loads');

testRun('an XDP program rewrites the packet: data in, data out, retval, repeat, duration', () => {
  const pinRoot = tempPinRoot();
  using obj = BpfObject.load(fixture, { pinRoot });
  using swap = obj.program('fx_xdp_swap');
  const frame = Buffer.alloc(64);
  Buffer.from('aabbccddeeff', 'hex').copy(frame, 0);
  Buffer.from('112233445566', 'hex').copy(frame, 6);
  frame.writeUInt16BE(0x0800, 12);
  const once = swap.testRun({ data: frame });
  assert.is(once.retval, 3); // XDP_TX
  assert.is(once.data.length, 64);
  assert.is(once.data.subarray(0, 12).toString('hex'), '112233445566aabbccddeeff');
  assert.equal(once.data.subarray(12), frame.subarray(12));
  const many = swap.testRun({ data: frame, repeat: 1001 });
  assert.is(many.data.subarray(0, 12).toString('hex'), '112233445566aabbccddeeff'); // each run starts from the input
  assert.ok(Number.isInteger(many.duration) && many.duration >= 0);
  const stats = swap.info();
  assert.is(stats.name, 'fx_xdp_swap');
});

testRun('tc programs run on skbs; too-short input is EINVAL', () => {
  const pinRoot = tempPinRoot();
  using obj = BpfObject.load(fixture, { pinRoot });
  using drop = obj.program('fx_tc_drop');
  assert.is(drop.testRun({ data: Buffer.alloc(60) }).retval, 2);
  assert.throws(() => drop.testRun({ data: Buffer.alloc(4) }), (e: unknown) => BpfError.is(e, 'EINVAL') && (e).op === 'prog test run');
});

testRun('raw PROG_LOAD: a trivial program runs; a bad one carries the verifier log', () => {
  using prog = BpfProgram.load({ type: 'XDP', insns: returnProgram(2), name: 'flg_raw_pass' });
  assert.is(prog.testRun({ data: Buffer.alloc(64) }).retval, 2);
  assert.is(prog.info().typeName, 'XDP');
  const badInsns = Buffer.concat([insn(0x61, 0, 1, 0, 0), insn(0x71, 0, 0, 100, 0), exit()]);
  try {
    BpfProgram.load({ type: 'XDP', insns: badInsns, name: 'flg_raw_bad' });
    assert.unreachable('must be rejected');
  } catch (err) {
    assert.ok(BpfError.is(err, 'EACCES'), String(err));
    assert.match((err as Error).message, /^prog load flg_raw_bad: EACCES \(rejected by the verifier\)\n/);
    assert.match((err).log ?? '', /invalid access to packet, off=100/);
  }
  assert.throws(() => BpfProgram.load({ type: 'XDP', insns: Buffer.alloc(7) }), RangeError);
});

testRun.run();
