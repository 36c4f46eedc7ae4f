// Layout generation from BTF: the generated offsets match what the C compiler says,
// the codecs write the same bytes C does (byte order, bitfields, unions, arrays, nested
// structs), round-trip, and refuse what cannot cross the boundary.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { LayoutError, layoutsFromObject, verifyLayouts, type Codec, type LayoutSet, type MapSpec } from '../../datapath/index.js';
import { compileBpf, generateInto, importGenerated, kernelImport, repoRoot, runHostC, scratchDir } from './fixtures/kernel-fixtures.js';

interface FxKey {
  address: number;
  dport: number;
  backendSlot: number;
  proto: number;
  scope: number;
  pad?: Uint8Array;
}
interface FxBackend {
  address: number;
  port: number;
  proto: number;
  flags: number;
  clusterId: number;
  zone: number;
  pad?: number;
}
interface Generated {
  FxKeyCodec: Codec<FxKey>;
  FxServiceCodec: Codec<Record<string, unknown>>;
  FxBackendCodec: Codec<FxBackend>;
  FxEntryCodec: Codec<Record<string, unknown>>;
  FxLpmKeyCodec: Codec<Record<string, unknown>>;
  mapSpecs: Record<string, MapSpec<unknown, unknown>>;
  layoutSet: LayoutSet;
}

const object = compileBpf('kernel-fixture.c');
const generatedPath = generateInto(object, scratchDir('gen'));
const gen = await importGenerated<Generated>(generatedPath);
const host = runHostC('kernel-layouts-host.c');
const hostBytes = (name: string): Buffer => Buffer.from(/^bytes (\S+) (\S+)$/m.exec(host.split('\n').find((l) => l.startsWith(`bytes ${name} `)) ?? '')?.[2] ?? '', 'hex');

const layouts = suite('kernel layouts: generated from BTF');

layouts('every field offset and size and every struct size equal the C compiler', () => {
  let checked = 0;
  for (const line of host.split('\n')) {
    const size = /^size (\w+) (\d+)$/.exec(line);
    if (size) {
      assert.is(gen.layoutSet.structs[size[1]!]?.size, Number(size[2]), `sizeof(struct ${size[1]})`);
      checked++;
    }
    const field = /^field (\w+) (\w+) (\d+) (\d+)$/.exec(line);
    if (field) {
      const [, struct, name, offset, bytes] = field;
      const f = gen.layoutSet.structs[struct!]?.fields.find((x) => x.name === name);
      assert.ok(f, `${struct}.${name} is in the generated layout`);
      assert.is(f.offset, Number(offset), `offsetof(${struct}, ${name})`);
      assert.is(f.size, Number(bytes), `sizeof(${struct}.${name})`);
      checked++;
    }
  }
  assert.ok(checked >= 35, `checked ${checked} facts`);
});

layouts('types, byte order and bitfields are described as declared', () => {
  const key = gen.layoutSet.structs.fx_key!;
  assert.equal(key.fields.map((f) => `${f.name}:${f.type}`), ['address:__be32', 'dport:__be16', 'backend_slot:__u16', 'proto:__u8', 'scope:__u8', 'pad:__u8[2]']);
  const entry = gen.layoutSet.structs.fx_entry!;
  const bits = entry.fields.filter((f) => f.bitSize !== undefined).map((f) => [f.name, f.bitOffset, f.bitSize]);
  assert.equal(bits, [['rx_closing', 224, 1], ['tx_closing', 225, 1], ['seen_non_syn', 226, 1], ['reserved', 227, 5], ['node_port', 232, 8]]);
  assert.equal(entry.fields.find((f) => f.name === 'last'), { name: 'last', offset: 44, size: 24, type: 'struct fx_backend[2]' });
  assert.is(gen.layoutSet.structs['fx_entry.client']?.kind, 'union');
  // the anonymous union of fx_service is flattened, as C code reads it
  const svc = gen.layoutSet.structs.fx_service!.fields.slice(0, 2);
  assert.equal(svc.map((f) => [f.name, f.offset]), [['backend_id', 0], ['affinity_timeout', 0]]);
});

layouts('codecs write exactly the bytes C writes', () => {
  const keyBuf = Buffer.alloc(12, 0xee);
  gen.FxKeyCodec.encode({ address: 0x0a60000a, dport: 8080, backendSlot: 0x0102, proto: 6, scope: 1 }, keyBuf, 0);
  assert.is(keyBuf.toString('hex'), hostBytes('fx_key').toString('hex'));

  const svcBuf = Buffer.alloc(12, 0xee);
  gen.FxServiceCodec.encode({ affinityTimeout: 0x02000e10, count: 3, revNatIndex: 0x1234, flags: 0x41, flags2: 0x80, qcount: 2 }, svcBuf, 0);
  assert.is(svcBuf.toString('hex'), hostBytes('fx_service').toString('hex'));

  const entry = {
    natAddr: { addr: Uint8Array.from({ length: 16 }, (_, i) => 0xf0 + i) },
    packets: 0x0102030405060708n,
    delta: -2,
    rxClosing: 1,
    txClosing: 0,
    seenNonSyn: 1,
    nodePort: 0xab,
    natPort: 443,
    ports: [1, 0x10000, 0xffffffff],
    last: [
      { address: 0xc0a80001, port: 53, proto: 17, flags: 0, clusterId: 7, zone: 0 },
      { address: 0, port: 0, proto: 0, flags: 3, clusterId: 0, zone: 9 },
    ],
    client: { addr4: 0x7f000001 },
  };
  const entryBuf = Buffer.alloc(80, 0xee);
  gen.FxEntryCodec.encode(entry, entryBuf, 0);
  assert.is(entryBuf.toString('hex'), hostBytes('fx_entry').toString('hex'));
  const decoded = gen.FxEntryCodec.decode(hostBytes('fx_entry'), 0);
  const expected = { ...entry, reserved: 0, last: entry.last.map((b) => ({ ...b, pad: 0 })) };
  assert.equal({ ...decoded, client: { addr4: (decoded.client as { addr4: number }).addr4 } }, expected);
  // a union decodes every member over the same bytes
  // (bytes 7f 00 00 01 00.. read as a little-endian u64)
  assert.equal({ ...(decoded.client as object) }, { cookie: 0x0100007fn, addr4: 0x7f000001 });
});

layouts('network-order fields are big-endian in the bytes, host-order fields little-endian', () => {
  const buf = Buffer.alloc(16);
  gen.FxKeyCodec.encode({ address: 0x01020304, dport: 0x0506, backendSlot: 0x0708, proto: 9, scope: 10 }, buf, 4);
  assert.is(buf.subarray(4, 16).toString('hex'), '0102030405060807090a0000');
  assert.equal(buf.subarray(0, 4), Buffer.alloc(4), 'nothing written before the offset');
});

layouts('codecs round-trip arbitrary values; out-of-range values are refused', () => {
  const u = (bits: number) => fc.integer({ min: 0, max: 2 ** bits - 1 });
  fc.assert(
    fc.property(fc.record({ address: u(32), dport: u(16), backendSlot: u(16), proto: u(8), scope: u(8) }), (key) => {
      const buf = Buffer.alloc(12);
      gen.FxKeyCodec.encode(key, buf, 0);
      assert.equal({ ...gen.FxKeyCodec.decode(buf, 0) }, { ...key, pad: new Uint8Array(2) });
    }),
  );
  fc.assert(
    fc.property(fc.record({ address: u(32), port: u(16), proto: u(8), flags: u(8), clusterId: u(16), zone: u(8), pad: u(8) }), (backend) => {
      const buf = Buffer.alloc(24);
      gen.FxBackendCodec.encode(backend, buf, 12);
      assert.equal({ ...gen.FxBackendCodec.decode(buf, 12) }, { ...backend });
    }),
  );
  assert.throws(() => gen.FxKeyCodec.encode({ address: 1, dport: 70000, backendSlot: 0, proto: 0, scope: 0 }, Buffer.alloc(12), 0), /^fx_key\.dport: 70000 is not a valid u16$/);
  assert.throws(() => gen.FxKeyCodec.encode({ address: -1, dport: 1, backendSlot: 0, proto: 0, scope: 0 }, Buffer.alloc(12), 0), /fx_key\.address: -1 is not a valid u32/);
  assert.throws(() => gen.FxKeyCodec.encode({ address: 1, dport: 1, backendSlot: 1.5, proto: 0, scope: 0 }, Buffer.alloc(12), 0), /fx_key\.backend_slot: 1\.5 is not a valid u16/);
  assert.throws(() => gen.FxKeyCodec.encode({ address: 1, dport: 1, backendSlot: 0, scope: 0 } as unknown as FxKey, Buffer.alloc(12), 0), /fx_key\.proto: undefined is not a valid u8/);
  const entryWithNumber = { ...gen.FxEntryCodec.decode(hostBytes('fx_entry'), 0), packets: 5 };
  assert.throws(() => gen.FxEntryCodec.encode(entryWithNumber, Buffer.alloc(80), 0), /fx_entry\.packets: 5 is not a valid u64 \(a bigint\)/);
  assert.throws(() => gen.FxKeyCodec.encode({ address: 1, dport: 1, backendSlot: 0, proto: 0, scope: 0, pad: new Uint8Array(3) }, Buffer.alloc(12), 0), /fx_key\.pad: expected 2 bytes/);
  const bad = { ...gen.FxEntryCodec.decode(hostBytes('fx_entry'), 0), rxClosing: 2 };
  assert.throws(() => gen.FxEntryCodec.encode(bad, Buffer.alloc(80), 0), /fx_entry\.rx_closing: 2 does not fit a 1-bit field/);
  const short = { ...gen.FxEntryCodec.decode(hostBytes('fx_entry'), 0), ports: [1, 2] };
  assert.throws(() => gen.FxEntryCodec.encode(short, Buffer.alloc(80), 0), /fx_entry\.ports: expected 3 elements, got 2/);
});

layouts('map specs: type, sizes, flags, pinning, key/value types and the inner map', () => {
  const s = gen.mapSpecs;
  assert.equal(Object.keys(s).sort(), ['fx_backends', 'fx_counters', 'fx_ct', 'fx_events', 'fx_maglev', 'fx_services', 'fx_source_range']);
  const services = s.fx_services!;
  assert.equal([services.type, services.keySize, services.valueSize, services.maxEntries, services.flags, services.pinning], [1, 12, 12, 1024, 0, 'by-name']);
  assert.is(services.key, gen.FxKeyCodec);
  assert.equal([s.fx_source_range!.flags, s.fx_source_range!.keyType, s.fx_source_range!.valueType], [1, 'struct fx_lpm_key', '__u8']);
  assert.equal([s.fx_counters!.type, s.fx_counters!.valueType], [6, '__u64']);
  const maglev = s.fx_maglev!;
  assert.equal([maglev.type, maglev.keyType, maglev.valueType, maglev.inner?.type, maglev.inner?.valueSize], [13, '__be16', '__u32', 2, 4]);
  const be16 = Buffer.alloc(2);
  maglev.key.encode(0x0102, be16, 0);
  assert.is(be16.toString('hex'), '0102');
  for (const spec of Object.values(s)) {
    assert.is(spec.key.size, spec.keySize, `${spec.name} key codec`);
    assert.is(spec.value.size, spec.valueSize, `${spec.name} value codec`);
  }
});

layouts('the generator script writes only on change and fails clearly on a missing object', () => {
  const dir = scratchDir('script');
  const out = join(dir, 'out.generated.ts');
  const script = join(repoRoot, 'scripts', 'gen-layouts.ts');
  const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', script, ...args], { cwd: repoRoot, encoding: 'utf8' });
  const first = run(object, out, '--kernel-import', kernelImport);
  assert.is(first.status, 0, first.stderr);
  assert.match(first.stderr, /wrote/);
  const mtime = statSync(out).mtimeMs;
  const second = run(object, out, '--kernel-import', kernelImport);
  assert.is(second.status, 0, second.stderr);
  assert.not.match(second.stderr, /wrote/);
  assert.is(statSync(out).mtimeMs, mtime);
  assert.is(readFileSync(out, 'utf8'), readFileSync(generatedPath, 'utf8').replace(/from the BTF of \S+\./, `from the BTF of ${object}.`));
  const missing = run(`${object}.missing`, out);
  assert.is(missing.status, 1);
  assert.match(missing.stderr, /gen-layouts: .*\.missing does not exist/);
});

layouts('what cannot cross the boundary is refused with a clear error', () => {
  const signedBits = compileBpf('kernel-bad-layout.c', { FLG_BAD: 1 });
  assert.throws(() => layoutsFromObject(signedBits), (e: unknown) => e instanceof LayoutError && /bitfield fx_bad_value\.level must be an unsigned host-order integer/.test((e as Error).message));
  const pointer = compileBpf('kernel-bad-layout.c', { FLG_BAD: 2 });
  assert.throws(() => layoutsFromObject(pointer), (e: unknown) => e instanceof LayoutError && /fx_bad_value\.owner .*cannot cross the user\/kernel boundary/.test((e as Error).message));
});

layouts('the datapath object itself generates, type-checks as a module and verifies', async () => {
  const datapath = join(repoRoot, 'build', 'bpf', 'flagella.o');
  assert.ok(existsSync(datapath), 'setup builds build/bpf/flagella.o before the tests');
  const path = generateInto(datapath, scratchDir('datapath'));
  const mod = await importGenerated<{ mapSpecs: Record<string, MapSpec<unknown, unknown>>; layoutSet: LayoutSet }>(path);
  assert.ok(Object.keys(mod.mapSpecs).length > 0);
  for (const spec of Object.values(mod.mapSpecs)) {
    assert.is(spec.key.size, spec.keySize, `${spec.name} key`);
    assert.is(spec.value.size, spec.valueSize, `${spec.name} value`);
  }
  verifyLayouts(datapath, mod.layoutSet);
});

layouts.run();
