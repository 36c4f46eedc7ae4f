// Real kernel maps through the raw bpf(2) layer: every map type the datapath uses,
// element operations with each flag, iteration, pins, info and the typed errors.
import { mkdirSync } from 'node:fs';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfError, BpfMap, MapFlag, MapType, possibleCpuCount } from '../../datapath/index.js';
import { tempPinRoot } from './fixtures/kernel-fixtures.js';

const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(n);
  return b;
};
const u64key = (n: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(n));
  return b;
};
const value16 = (n: number): Buffer => Buffer.alloc(16, n & 0xff);

function expectBpfError(fn: () => unknown, code: string, message?: string): BpfError {
  try {
    fn();
  } catch (err) {
    assert.instance(err, BpfError);
    const e = err as BpfError;
    assert.is(e.code, code, e.message);
    if (message !== undefined) assert.is(e.message, message);
    return e;
  }
  throw new assert.Assertion({ message: `expected BpfError ${code}, nothing was thrown`, generated: true, operator: 'throws', expects: code, actual: 'no error' });
}

const types = suite('kernel maps: types');

types('creates each map type the datapath uses, with the shape the kernel reports', () => {
  const inner = BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1, name: 'flg_t_inner' });
  const specs = [
    { type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 64, flags: 0 },
    { type: 'LRU_HASH', keySize: 8, valueSize: 16, maxEntries: 64, flags: 0 },
    { type: 'LPM_TRIE', keySize: 8, valueSize: 1, maxEntries: 64, flags: MapFlag.NO_PREALLOC },
    { type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 8, flags: 0 },
    { type: 'PERCPU_ARRAY', keySize: 4, valueSize: 8, maxEntries: 8, flags: 0 },
    { type: 'HASH_OF_MAPS', keySize: 2, valueSize: 4, maxEntries: 8, flags: 0, innerMap: inner },
    { type: 'RINGBUF', keySize: 0, valueSize: 0, maxEntries: 4096, flags: 0 },
  ] as const;
  try {
    for (const spec of specs) {
      const map = BpfMap.create({ ...spec, name: `flg_t_${spec.type.toLowerCase()}` });
      try {
        const info = map.info();
        assert.is(info.typeName, spec.type);
        assert.is(info.type, MapType[spec.type]);
        assert.is(info.keySize, spec.keySize);
        assert.is(info.valueSize, spec.type === 'HASH_OF_MAPS' ? 4 : spec.valueSize);
        assert.is(info.maxEntries, spec.maxEntries);
        assert.is(info.flags, spec.flags);
        assert.ok(info.id > 0);
        assert.is(map.id, info.id);
        assert.is(info.name, `flg_t_${spec.type.toLowerCase()}`.slice(0, 15));
      } finally {
        map.close();
      }
    }
  } finally {
    inner.close();
  }
});

types('LPM_TRIE without NO_PREALLOC is refused with EINVAL and the definition in the message', () => {
  const e = expectBpfError(() => BpfMap.create({ type: 'LPM_TRIE', keySize: 8, valueSize: 1, maxEntries: 4, name: 'flg_t_lpm' }), 'EINVAL');
  assert.match(e.message, /^map create flg_t_lpm: EINVAL \(.*\) \[LPM_TRIE key 8 value 1 max 4 flags 0\]$/);
});

types.run();

const ops = suite('kernel maps: element operations');

ops('update with ANY, NOEXIST and EXIST; lookup hit and miss; delete', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 16, name: 'flg_t_ops' });
  assert.is(map.lookup(u64key(1)), undefined);
  map.update(u64key(1), value16(1), 'noexist');
  assert.equal(map.lookup(u64key(1)), value16(1));
  const exists = expectBpfError(() => map.update(u64key(1), value16(2), 'noexist'), 'EEXIST', 'map update flg_t_ops: EEXIST (key exists, NOEXIST given)');
  assert.is(exists.errno, 17);
  assert.is(exists.op, 'map update');
  assert.is(exists.object, 'flg_t_ops');
  map.update(u64key(1), value16(3), 'exist');
  assert.equal(map.lookup(u64key(1)), value16(3));
  expectBpfError(() => map.update(u64key(2), value16(3), 'exist'), 'ENOENT', 'map update flg_t_ops: ENOENT (no such key, EXIST given)');
  map.update(u64key(2), value16(4), 'any');
  map.update(u64key(2), value16(5));
  assert.equal(map.lookup(u64key(2)), value16(5));
  assert.ok(map.has(u64key(2)));
  assert.ok(map.delete(u64key(2)));
  assert.not.ok(map.has(u64key(2)));
});

ops('lookup into a caller buffer reuses it; scratch operations work on the map-owned buffers', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 16, name: 'flg_t_scr' });
  map.keyScratch.writeBigUInt64LE(7n);
  map.valueScratch.fill(0x42);
  map.updateScratch();
  const out = Buffer.alloc(16);
  assert.is(map.lookup(u64key(7), out), out);
  assert.equal(out, Buffer.alloc(16, 0x42));
  map.valueScratch.fill(0);
  assert.ok(map.lookupScratch());
  assert.equal(map.valueScratch, Buffer.alloc(16, 0x42));
  assert.ok(map.deleteScratch());
  assert.not.ok(map.lookupScratch());
});

ops('delete of a missing key: ENOENT, or false when idempotent', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 16, name: 'flg_t_del' });
  expectBpfError(() => map.delete(u64key(9)), 'ENOENT', 'map delete flg_t_del: ENOENT (no such key)');
  assert.is(map.delete(u64key(9), { idempotent: true }), false);
  map.update(u64key(9), value16(9));
  assert.is(map.delete(u64key(9), { idempotent: true }), true);
});

ops('a full hash map refuses a new key with E2BIG (map full) but accepts overwrites', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 4, name: 'flg_lb4_services' });
  for (let i = 0; i < 4; i++) map.update(u64key(i), value16(i));
  const e = expectBpfError(() => map.update(u64key(99), value16(1)), 'E2BIG', 'map update flg_lb4_services: E2BIG (map full)');
  assert.is(e.errno, 7);
  map.update(u64key(3), value16(33));
  assert.equal(map.lookup(u64key(3)), value16(33));
});

ops('LRU hash evicts instead of failing when full', () => {
  using map = BpfMap.create({ type: 'LRU_HASH', keySize: 8, valueSize: 16, maxEntries: 64, name: 'flg_t_lru' });
  for (let i = 0; i < 1000; i++) map.update(u64key(i), value16(i));
  const count = [...map.keys()].length;
  assert.ok(count > 0 && count <= 64 + possibleCpuCount() * 64, `LRU holds ${count}`);
  assert.equal(map.lookup(u64key(999)), value16(999));
});

ops('LPM trie returns the longest matching prefix', () => {
  using map = BpfMap.create({ type: 'LPM_TRIE', keySize: 8, valueSize: 1, maxEntries: 16, flags: MapFlag.NO_PREALLOC, name: 'flg_t_lpm' });
  const key = (len: number, a: number, b: number, c: number, d: number): Buffer => Buffer.from([len, 0, 0, 0, a, b, c, d]);
  map.update(key(16, 10, 96, 0, 0), Buffer.from([16]));
  map.update(key(24, 10, 96, 3, 0), Buffer.from([24]));
  assert.equal(map.lookup(key(32, 10, 96, 3, 4)), Buffer.from([24]));
  assert.equal(map.lookup(key(32, 10, 96, 4, 4)), Buffer.from([16]));
  assert.is(map.lookup(key(32, 10, 97, 0, 1)), undefined);
  assert.is([...map.keys()].length, 2);
});

ops('ARRAY: every index exists (zeroed), out-of-range is ENOENT, delete is EINVAL', () => {
  using map = BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 4, name: 'flg_t_arr' });
  assert.equal(map.lookup(u32(3)), Buffer.alloc(8));
  assert.is(map.lookup(u32(4)), undefined);
  map.update(u32(2), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  assert.equal(map.lookup(u32(2)), Buffer.from([1, 2, 3, 4, 5, 6, 7, 8]));
  expectBpfError(() => map.update(u32(0), Buffer.alloc(8), 'noexist'), 'EEXIST');
  expectBpfError(() => map.delete(u32(1)), 'EINVAL');
  assert.equal([...map.keys()].map((k) => k.readUInt32LE()), [0, 1, 2, 3]);
});

ops('PERCPU_ARRAY: one 8-aligned slot per possible CPU', () => {
  using map = BpfMap.create({ type: 'PERCPU_ARRAY', keySize: 4, valueSize: 4, maxEntries: 2, name: 'flg_t_pcpu' });
  const cpus = possibleCpuCount();
  assert.ok(map.perCpu);
  assert.is(map.valueBytes, 8 * cpus);
  const values = Array.from({ length: cpus }, (_, i) => u32(100 + i));
  map.updatePerCpu(u32(1), values);
  assert.equal(map.lookupPerCpu(u32(1)), values);
  map.updatePerCpu(u32(0), u32(7));
  assert.equal(map.lookupPerCpu(u32(0)), Array.from({ length: cpus }, () => u32(7)));
  assert.throws(() => map.updatePerCpu(u32(0), [u32(1)]), /per-CPU values/);
});

ops('HASH_OF_MAPS: store an inner map, read back its id and open it', () => {
  using inner = BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1, name: 'flg_t_in' });
  using outer = BpfMap.create({ type: 'HASH_OF_MAPS', keySize: 2, valueSize: 4, maxEntries: 4, innerMap: inner, name: 'flg_t_out' });
  using row = BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: 4, maxEntries: 1, name: 'flg_t_row' });
  row.update(u32(0), u32(0xabcd));
  outer.setInnerMap(Buffer.from([0, 5]), row);
  const id = outer.innerMapId(Buffer.from([0, 5]));
  assert.is(id, row.id);
  using reopened = BpfMap.fromId(id!);
  assert.equal(reopened.lookup(u32(0)), u32(0xabcd));
  assert.is(outer.innerMapId(Buffer.from([0, 6])), undefined);
});

ops('wrong key or value sizes are RangeErrors before any syscall', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 4, name: 'flg_t_size' });
  assert.throws(() => map.update(Buffer.alloc(4), value16(1)), /key is 4 bytes, the map's key size is 8/);
  assert.throws(() => map.update(u64key(1), Buffer.alloc(15)), /value is 15 bytes/);
  assert.throws(() => map.lookup(Buffer.alloc(9)), RangeError);
});

ops('operations on a closed map fail with EBADF', () => {
  const map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 4, name: 'flg_t_closed' });
  map.close();
  map.close(); // idempotent
  expectBpfError(() => map.lookup(u64key(1)), 'EBADF', 'map lookup flg_t_closed: EBADF (bad file descriptor (object closed or never opened))');
  expectBpfError(() => map.update(u64key(1), value16(1)), 'EBADF');
  expectBpfError(() => map.info(), 'EBADFD'); // OBJ_GET_INFO_BY_FD says EBADFD
});

ops.run();

const iter = suite('kernel maps: iteration');

iter('walks every key exactly once', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 1024, name: 'flg_t_walk' });
  for (let i = 0; i < 1000; i++) map.update(u64key(i), value16(i));
  const seen = [...map.keys()].map((k) => Number(k.readBigUInt64LE()));
  assert.is(seen.length, 1000);
  assert.equal([...new Set(seen)].sort((a, b) => a - b), Array.from({ length: 1000 }, (_, i) => i));
  const entries = [...map.entries()];
  assert.is(entries.length, 1000);
  for (const [k, v] of entries) assert.is(v[0], Number(k.readBigUInt64LE()) & 0xff);
});

iter('deleting the yielded key while iterating visits every key once', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 512, name: 'flg_t_deliter' });
  for (let i = 0; i < 500; i++) map.update(u64key(i), value16(i));
  let visited = 0;
  for (const key of map.keys()) {
    map.delete(key);
    visited++;
    assert.ok(visited <= 500, 'the walk restarted');
  }
  assert.is(visited, 500);
  assert.is([...map.keys()].length, 0);
});

iter('collecting keys first, then deleting a subset, leaves exactly the rest', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 512, name: 'flg_t_collect' });
  for (let i = 0; i < 300; i++) map.update(u64key(i), value16(i));
  const keys = [...map.keys()];
  for (const key of keys) if (key.readBigUInt64LE() % 2n === 0n) map.delete(key);
  const left = [...map.keys()].map((k) => Number(k.readBigUInt64LE())).sort((a, b) => a - b);
  assert.equal(left, Array.from({ length: 150 }, (_, i) => 2 * i + 1));
});

iter('an empty map yields nothing', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 4, name: 'flg_t_empty' });
  assert.equal([...map.keys()], []);
});

iter.run();

const pins = suite('kernel maps: pins and info');

pins('pin, open the pin (same id, same data), and reuse it after closing the original', () => {
  const root = tempPinRoot();
  mkdirSync(root, { mode: 0o700 });
  const path = `${root}/flg_t_pinned`;
  const map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 8, name: 'flg_t_pinned' });
  map.update(u64key(1), value16(11));
  map.pin(path);
  const id = map.id;
  map.close();
  using again = BpfMap.openPinned(path);
  assert.is(again.id, id);
  assert.is(again.keySize, 8);
  assert.is(again.valueSize, 16);
  assert.is(again.name, 'flg_t_pinned');
  assert.equal(again.lookup(u64key(1)), value16(11));
  again.update(u64key(2), value16(22));
  using third = BpfMap.openPinned(path, { name: 'flg_lb4_services_full_name' });
  assert.equal(third.lookup(u64key(2)), value16(22));
  assert.is(third.name, 'flg_lb4_services_full_name');
  expectBpfError(() => third.pin(path), 'EEXIST');
});

pins('bad pin paths: not bpffs, missing directory, missing pin', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 8, name: 'flg_t_badpin' });
  const root = tempPinRoot();
  expectBpfError(() => map.pin(`/tmp/flg-not-bpffs-${process.pid}`), 'EPERM');
  const missingDir = expectBpfError(() => map.pin(`${root}/no/such/dir`), 'ENOENT');
  assert.match(missingDir.message, /^map pin flg_t_badpin: ENOENT \(the pin directory does not exist\) \[/);
  const noPin = expectBpfError(() => BpfMap.openPinned(`${root}-absent`), 'ENOENT');
  assert.match(noPin.message, /^obj get map .*: ENOENT \(no such pin\)$/);
  assert.throws(() => map.pin(`/sys/fs/bpf/${'x'.repeat(5000)}`), RangeError);
});

pins('info reports the kernel view, including a name truncated to 15 characters', () => {
  using map = BpfMap.create({ type: 'LRU_HASH', keySize: 12, valueSize: 24, maxEntries: 100, name: 'flg_lb4_affinity_long' });
  const info = map.info();
  assert.is(info.name, 'flg_lb4_affinit');
  assert.is(map.name, 'flg_lb4_affinity_long');
  assert.equal([info.type, info.keySize, info.valueSize, info.maxEntries], [MapType.LRU_HASH, 12, 24, 100]);
  assert.is(info.mapExtra, 0n);
});

pins.run();
