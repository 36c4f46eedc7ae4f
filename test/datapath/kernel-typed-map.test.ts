// TypedMap: real maps read and written with plain objects through the codecs
// generated from the fixture object's BTF.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfError, BpfMap, BpfObject, possibleCpuCount, TypedMap, type Codec, type MapSpec } from '../../datapath/index.js';
import { compileBpf, generateInto, importGenerated, scratchDir, tempPinRoot } from './fixtures/kernel-fixtures.js';

interface FxKey {
  address: number;
  dport: number;
  backendSlot: number;
  proto: number;
  scope: number;
  pad?: Uint8Array;
}
interface FxService {
  backendId?: number;
  affinityTimeout?: number;
  count: number;
  revNatIndex: number;
  flags: number;
  flags2: number;
  qcount: number;
}
interface Generated {
  FxKeyCodec: Codec<FxKey>;
  mapSpecs: {
    fx_services: MapSpec<FxKey, FxService>;
    fx_counters: MapSpec<number, bigint>;
    fx_source_range: MapSpec<{ prefixlen: number; revNatId: number; addr: number; pad?: number }, number>;
    fx_backends: MapSpec<number, Record<string, number>>;
  };
}

const object = compileBpf('kernel-fixture.c');
const gen = await importGenerated<Generated>(generateInto(object, scratchDir('typed')));
const specs = gen.mapSpecs;

const key = (i: number): FxKey => ({ address: 0x0a600000 + i, dport: 80, backendSlot: 0, proto: 6, scope: 0 });
const service = (i: number): FxService => ({ backendId: i, count: i % 7, revNatIndex: i, flags: 1, flags2: 0, qcount: 0 });
const decoded = (s: FxService): FxService => ({ ...s, affinityTimeout: s.backendId ?? 0 });

const typed = suite('kernel typed maps');

typed('put, get, has, delete with plain objects on a map from a loaded object', () => {
  using obj = BpfObject.load(object, { pinRoot: tempPinRoot() });
  using services = TypedMap.fromObject(obj, specs.fx_services);
  assert.is(services.name, 'fx_services');
  assert.is(services.get(key(1)), undefined);
  services.put(key(1), service(1), 'noexist');
  assert.equal({ ...services.get(key(1)) }, decoded(service(1)));
  assert.ok(services.has(key(1)));
  assert.throws(() => services.put(key(1), service(2), 'noexist'), (e: unknown) => BpfError.is(e, 'EEXIST') && /^map update fx_services: EEXIST/.test((e as Error).message));
  services.put(key(1), { ...service(2), backendId: undefined, affinityTimeout: 0x1000 }, 'exist');
  assert.is(services.get(key(1))?.backendId, 0x1000);
  assert.ok(services.delete(key(1)));
  assert.not.ok(services.delete(key(1), { idempotent: true }));
  assert.throws(() => services.delete(key(1)), (e: unknown) => BpfError.is(e, 'ENOENT'));
});

typed('the key bytes are exactly the codec bytes, so raw and typed views agree', () => {
  using obj = BpfObject.load(object, { pinRoot: tempPinRoot() });
  using services = TypedMap.fromObject(obj, specs.fx_services);
  services.put(key(5), service(5));
  const raw = Buffer.alloc(12);
  gen.FxKeyCodec.encode(key(5), raw, 0);
  assert.ok(services.map.has(raw));
  assert.is(raw.subarray(4, 6).toString('hex'), '0050'); // dport 80, network order
});

typed('batch put, getAll, iteration and batch delete', () => {
  using obj = BpfObject.load(object, { pinRoot: tempPinRoot() });
  using services = TypedMap.fromObject(obj, specs.fx_services);
  const entries = Array.from({ length: 1000 }, (_, i) => [key(i), service(i)] as const);
  assert.is(services.putBatch(entries, { chunkSize: 300 }), 1000);
  const all = services.getAll();
  assert.is(all.length, 1000);
  const byAddress = new Map(all.map(([k, v]) => [k.address, v]));
  for (let i = 0; i < 1000; i++) assert.equal({ ...byAddress.get(0x0a600000 + i) }, decoded(service(i)));
  assert.is([...services.keys()].length, 1000);
  assert.is([...services.entries()].length, 1000);
  const half = entries.filter((_, i) => i % 2 === 0).map(([k]) => k);
  assert.is(services.deleteBatch(half), 500);
  assert.is(services.deleteBatch([...half.slice(0, 3), key(1)], { idempotent: true }), 1);
  assert.is(services.getAll().length, 499);
  try {
    services.putBatch(Array.from({ length: 1000 }, (_, i) => [key(5000 + i), service(i)] as const));
    assert.unreachable('the map holds 1024');
  } catch (err) {
    assert.ok(BpfError.is(err, 'E2BIG'), String(err));
    assert.is((err).processed, 1024 - 499);
  }
});

typed('per-CPU values: one decoded value per possible CPU', () => {
  using obj = BpfObject.load(object, { pinRoot: tempPinRoot() });
  using counters = TypedMap.fromObject(obj, specs.fx_counters);
  const cpus = possibleCpuCount();
  counters.putPerCpu(2, Array.from({ length: cpus }, (_, i) => BigInt(10 + i)));
  assert.equal(counters.getPerCpu(2), Array.from({ length: cpus }, (_, i) => BigInt(10 + i)));
  counters.putPerCpu(3, 5n);
  assert.equal(counters.getPerCpu(3), Array.from({ length: cpus }, () => 5n));
  assert.throws(() => counters.get(2), /per-CPU: use getPerCpu/);
  assert.throws(() => counters.put(2, 1n), /per-CPU: use putPerCpu/);
});

typed('a map created from a spec; an LPM trie keyed by a generated struct', () => {
  using ranges = TypedMap.create(specs.fx_source_range, { maxEntries: 16 });
  ranges.put({ prefixlen: 32 + 16, revNatId: 7, addr: 0x0a600000 }, 1);
  ranges.put({ prefixlen: 32 + 24, revNatId: 7, addr: 0x0a600300 }, 2);
  assert.is(ranges.get({ prefixlen: 64, revNatId: 7, addr: 0x0a600304 }), 2);
  assert.is(ranges.get({ prefixlen: 64, revNatId: 7, addr: 0x0a600404 }), 1);
  assert.is(ranges.get({ prefixlen: 64, revNatId: 8, addr: 0x0a600304 }), undefined);
  assert.is(ranges.getAll().length, 2);
});

typed('opening a pinned map checks it against the spec', () => {
  const pinRoot = tempPinRoot();
  BpfObject.load(object, { pinRoot }).close();
  using backends = TypedMap.openPinned(specs.fx_backends, `${pinRoot}/fx_backends`);
  assert.is(backends.map.keySize, 4);
  assert.throws(() => TypedMap.openPinned(specs.fx_services, `${pinRoot}/fx_backends`), /kernel key\/value sizes 4\/12 do not match struct fx_key \(12\) \/ struct fx_service \(12\)/);
  using lpm = BpfMap.openPinned(`${pinRoot}/fx_source_range`);
  assert.throws(() => TypedMap.wrap({ ...specs.fx_source_range, type: 1 }, lpm), /kernel map is LPM_TRIE, the spec says HASH/);
});

typed.run();
