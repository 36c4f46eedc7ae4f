// The datapath loader: state kept across reloads, clear refusals (pinned map
// mismatch, bad config, XDP on veth), and pinned links that are created,
// adopted, updated in place and detached.
import { rmSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DatapathConfigError,
  PinnedMapMismatchError,
  XdpOnVethError,
  deviceDriver,
  loadDatapath,
  queryTcx,
  type Datapath,
} from '../../datapath/index.js';
import { ipNum, putService, runTc, tempPinRoot } from '../support/datapath-fixture.js';
import { NetTopology, type Netns } from '../support/netns.js';
import { buildPacket, parsePacket } from '../support/packet.js';

const load = suite('load');

function withPinRoot(fn: (pinRoot: string) => void): void {
  const pinRoot = tempPinRoot('loader');
  try {
    fn(pinRoot);
  } finally {
    rmSync(pinRoot, { recursive: true, force: true });
  }
}

load('a reload over the same pin root keeps map state and the datapath keeps working', () => {
  withPinRoot((pinRoot) => {
    const first = loadDatapath({ pinRoot });
    putService(first, { vip: '10.96.0.1', port: 80, proto: 'tcp', id: 1, backends: [{ id: 1, addr: '10.4.0.2', port: 8080 }] });
    first.close();
    const second = loadDatapath({ pinRoot, config: { defaultLbAlgorithm: 'maglev', maglevTableSize: 1021 } });
    try {
      assert.is(second.maps.lb4Backends.get(1)?.address, ipNum('10.4.0.2'));
      assert.equal(second.maps.config.get(0)?.maglevTableSize, 1021, 'config rewritten on load');
      const out = runTc(second, buildPacket({ saddr: '10.0.0.1', daddr: '10.96.0.1', proto: 'tcp', dport: 80 })).out;
      assert.is(parsePacket(out).ip.daddr, '10.4.0.2');
    } finally {
      second.close();
    }
  });
});

load('a pinned map whose size changed is named, with what differs and how to recover', () => {
  withPinRoot((pinRoot) => {
    loadDatapath({ pinRoot }).close();
    try {
      loadDatapath({ pinRoot, mapSizes: { flg_ct4: 4096 } }).close();
      assert.unreachable('load should have failed');
    } catch (err) {
      assert.instance(err, PinnedMapMismatchError);
      const e = err as PinnedMapMismatchError;
      assert.is(e.mapName, 'flg_ct4');
      assert.match(e.message, /max_entries: pinned 262144, requested 4096/);
      assert.match(e.message, /rm \/sys\/fs\/bpf\/.*flg_ct4/);
    }
  });
});

load('bad configuration is refused before anything is created', () => {
  const pinRoot = tempPinRoot('loader');
  assert.throws(() => loadDatapath({ pinRoot, config: { maglevTableSize: 1000 } }), (err: unknown) => err instanceof DatapathConfigError && /maglevTableSize 1000/.test(err.message));
  assert.throws(() => loadDatapath({ pinRoot, config: { ctTimeouts: { tcpSeconds: -1 } } }), (err: unknown) => err instanceof DatapathConfigError);
  rmSync(pinRoot, { recursive: true, force: true });
});

load.run();

// ------------------------------------------------------------ links
interface LinkCtx {
  topo: NetTopology;
  ns: Netns;
  pinRoot: string;
  dp: Datapath;
}

const links = suite<LinkCtx>('links', {} as LinkCtx);

links.before.each((ctx) => {
  ctx.topo = new NetTopology('l');
  ctx.ns = ctx.topo.namespace('links');
  const peer = ctx.topo.namespace('peer');
  ctx.topo.veth({ ns: ctx.ns, name: 'dev0', address: '10.9.0.1/24' }, { ns: peer, name: 'eth0', address: '10.9.0.2/24' });
  ctx.pinRoot = tempPinRoot('links');
  ctx.dp = loadDatapath({ pinRoot: ctx.pinRoot });
});

links.after.each((ctx) => {
  try {
    ctx.dp.detachAll();
    ctx.dp.close();
  } finally {
    ctx.topo.destroy();
    rmSync(ctx.pinRoot, { recursive: true, force: true });
  }
});

links('tcx links are pinned, adopted when asked again, and updated in place by a reloaded datapath', (ctx) => {
  const dev = { ifname: 'dev0', netns: ctx.ns.name };
  const created = ctx.dp.attach([dev]);
  assert.equal(created.map((l) => [l.hook, l.outcome]), [['tcx-ingress', 'created'], ['tcx-egress', 'created']]);
  assert.equal(queryTcx(dev, 'ingress').programIds, [ctx.dp.programs.tcIngress.id]);
  assert.equal(ctx.dp.pinnedLinks(), [`${ctx.ns.name}:dev0:tcx-egress`, `${ctx.ns.name}:dev0:tcx-ingress`]);

  assert.ok(ctx.dp.attach([dev]).every((l) => l.outcome === 'adopted'), 'same programs: adopted');

  const reloaded = loadDatapath({ pinRoot: ctx.pinRoot });
  try {
    const updated = reloaded.attach([dev]);
    assert.ok(updated.every((l) => l.outcome === 'updated'), 'new programs: updated');
    assert.equal(queryTcx(dev, 'ingress').programIds, [reloaded.programs.tcIngress.id], 'one program on the hook, the new one');
    assert.equal(updated.map((l) => l.linkId), created.map((l) => l.linkId), 'the same links');
  } finally {
    reloaded.close();
  }
  assert.is(ctx.dp.detach(dev), 2);
  assert.equal(queryTcx(dev, 'ingress').programIds, []);
  assert.is(ctx.dp.detach(dev), 0, 'detach is idempotent');
});

links('XDP on a veth is refused with a clear error unless forced; forced XDP also gets tcx egress', (ctx) => {
  const dev = { ifname: 'dev0', netns: ctx.ns.name };
  assert.is(deviceDriver('dev0', ctx.ns.name), 'veth');
  assert.throws(() => ctx.dp.attach([dev], { mode: 'xdp' }), (err: unknown) => err instanceof XdpOnVethError && /TSO/.test(err.message));
  assert.equal(ctx.dp.pinnedLinks(), [], 'nothing attached after the refusal');
  const forced = ctx.dp.attach([dev], { mode: 'xdp', forceXdpOnVeth: true });
  assert.equal(forced.map((l) => l.hook), ['xdp', 'tcx-egress']);
  assert.is(ctx.dp.detachAll(), 2);
});

links('a link whose device vanished is replaced on the next attach', (ctx) => {
  const dev = { ifname: 'dev0', netns: ctx.ns.name };
  ctx.dp.attach([dev], { tcxDirections: ['ingress'] });
  ctx.topo.exec(ctx.ns, 'ip', ['link', 'del', 'dev0']);
  ctx.topo.exec(ctx.ns, 'ip', ['link', 'add', 'dev0', 'type', 'veth', 'peer', 'name', 'dev0p']);
  const again = ctx.dp.attach([dev], { tcxDirections: ['ingress'] });
  assert.is(again[0]!.outcome, 'created');
  assert.equal(queryTcx(dev, 'ingress').programIds, [ctx.dp.programs.tcIngress.id]);
});

links('bad device names are refused', (ctx) => {
  const isConfigError = (err: unknown) => err instanceof DatapathConfigError;
  assert.throws(() => ctx.dp.attach([{ ifname: 'a:b' }]), isConfigError);
  assert.throws(() => ctx.dp.attach([{ ifname: 'much-too-long-name' }]), isConfigError);
});

links.run();
