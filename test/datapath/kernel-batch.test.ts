// Batch map operations on real maps: update, lookup (ENOENT marks the end), delete,
// lookup-and-delete, partial batches and large counts.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfError, BpfMap, MapFlag } from '../../datapath/index.js';

function packedKeys(ids: number[]): Buffer {
  const keys = Buffer.alloc(ids.length * 8);
  ids.forEach((id, i) => keys.writeBigUInt64LE(BigInt(id), i * 8));
  return keys;
}

function packedValues(ids: number[]): Buffer {
  const values = Buffer.alloc(ids.length * 16);
  ids.forEach((id, i) => {
    values.writeUInt32LE(id, i * 16);
    values.writeUInt32LE(id ^ 0xffff, i * 16 + 12);
  });
  return values;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from }, (_, i) => from + i);

function dumpIds(map: BpfMap): Map<number, number> {
  const { keys, values, count } = map.lookupBatch();
  const out = new Map<number, number>();
  for (let i = 0; i < count; i++) out.set(Number(keys.readBigUInt64LE(i * 8)), values.readUInt32LE(i * 16));
  return out;
}

const batch = suite('kernel maps: batch operations');

batch('update 10000 in chunks, dump them all, delete them all', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 16384, name: 'flg_b_big' });
  const ids = range(0, 10000);
  assert.is(map.updateBatch(packedKeys(ids), packedValues(ids), { chunkSize: 1000 }), 10000);
  const dumped = dumpIds(map);
  assert.is(dumped.size, 10000);
  for (const id of ids) assert.is(dumped.get(id), id);
  // small chunks force many resume tokens (and an ENOENT end marker on the last call)
  assert.is(map.lookupBatch({ chunkSize: 7 }).count, 10000);
  assert.is(map.deleteBatch(packedKeys(ids)), 10000);
  assert.is(map.lookupBatch().count, 0);
});

batch('dump of an empty map returns zero entries (ENOENT at once)', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 16, name: 'flg_b_empty' });
  const dump = map.lookupBatch();
  assert.is(dump.count, 0);
  assert.is(dump.keys.length, 0);
});

batch('update replaces existing keys (batches are always ANY)', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 64, name: 'flg_b_any' });
  map.updateBatch(packedKeys(range(0, 10)), packedValues(range(0, 10)));
  map.updateBatch(packedKeys([3, 4]), packedValues([33, 44]));
  const dumped = dumpIds(map);
  assert.is(dumped.size, 10);
  assert.is(dumped.get(3), 33);
  assert.is(dumped.get(5), 5);
  assert.throws(() => map.updateBatch(packedKeys([1]), packedValues([1]), { elemFlags: 1 }), (e: unknown) => BpfError.is(e, 'EINVAL'));
});

batch('update past capacity fails with E2BIG (map full) after filling it', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 100, name: 'flg_b_full' });
  try {
    map.updateBatch(packedKeys(range(0, 150)), packedValues(range(0, 150)), { chunkSize: 64 });
    assert.unreachable('E2BIG expected');
  } catch (err) {
    assert.ok(BpfError.is(err, 'E2BIG'), String(err));
    assert.is((err).processed, 100);
    assert.match((err as Error).message, /: E2BIG \(map full\)$/);
  }
  assert.is(map.lookupBatch().count, 100);
});

batch('delete with a missing key: ENOENT with the processed count, or skipped when idempotent', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 64, name: 'flg_b_del' });
  map.updateBatch(packedKeys(range(0, 20)), packedValues(range(0, 20)));
  const withGaps = [0, 1, 2, 100, 3, 4, 101, 5];
  try {
    map.deleteBatch(packedKeys(withGaps));
    assert.unreachable('ENOENT expected');
  } catch (err) {
    assert.ok(BpfError.is(err, 'ENOENT'), String(err));
    assert.is((err).processed, 3);
  }
  assert.is(map.lookupBatch().count, 17);
  // 0..2 are gone now as well: idempotent skips every missing key
  assert.is(map.deleteBatch(packedKeys(withGaps), { idempotent: true }), 3);
  assert.equal([...dumpIds(map).keys()].sort((a, b) => a - b), range(6, 20));
});

batch('lookup-and-delete drains the map', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 2048, name: 'flg_b_drain' });
  map.updateBatch(packedKeys(range(0, 1500)), packedValues(range(0, 1500)));
  const drained = map.lookupAndDeleteBatch({ chunkSize: 256 });
  assert.is(drained.count, 1500);
  assert.is(map.lookupBatch().count, 0);
});

batch('batch lookup works on ARRAY, LRU_HASH and LPM_TRIE maps', () => {
  using array = BpfMap.create({ type: 'ARRAY', keySize: 4, valueSize: 8, maxEntries: 10, name: 'flg_b_arr' });
  assert.is(array.lookupBatch({ chunkSize: 3 }).count, 10);
  using lru = BpfMap.create({ type: 'LRU_HASH', keySize: 8, valueSize: 16, maxEntries: 256, name: 'flg_b_lru' });
  lru.updateBatch(packedKeys(range(0, 100)), packedValues(range(0, 100)));
  assert.is(lru.lookupBatch().count, 100);
  using lpm = BpfMap.create({ type: 'LPM_TRIE', keySize: 8, valueSize: 1, maxEntries: 16, flags: MapFlag.NO_PREALLOC, name: 'flg_b_lpm' });
  const prefixes = Buffer.from([16, 0, 0, 0, 10, 96, 0, 0, 24, 0, 0, 0, 10, 96, 3, 0, 32, 0, 0, 0, 10, 96, 3, 4]);
  lpm.updateBatch(prefixes, Buffer.from([1, 2, 3]));
  const dump = lpm.lookupBatch({ chunkSize: 1 });
  assert.is(dump.count, 3);
  assert.equal([...dump.values].sort(), [1, 2, 3]);
});

batch('mismatched key and value counts are rejected before any syscall', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 16, name: 'flg_b_bad' });
  assert.throws(() => map.updateBatch(packedKeys([1, 2]), packedValues([1])), /2 keys but 1 values/);
  assert.throws(() => map.updateBatch(Buffer.alloc(9), Buffer.alloc(16)), /not a multiple of 8/);
  assert.throws(() => map.lookupBatch({ chunkSize: 0 }), /chunkSize/);
});

batch('encoding straight into reserved batch buffers', () => {
  using map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: 64, name: 'flg_b_res' });
  const { keys, values } = map.batch.reserve(10);
  for (let i = 0; i < 10; i++) {
    keys.writeBigUInt64LE(BigInt(i * 3), i * 8);
    values.fill(i, i * 16, i * 16 + 16);
  }
  map.batch.updateReserved(10);
  const seen = dumpIds(map);
  assert.is(seen.size, 10);
  assert.is(seen.get(27), 0x09090909);
});

batch.run();
