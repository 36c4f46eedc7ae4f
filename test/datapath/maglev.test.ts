// Maglev (reference §5): murmur3 against an independent implementation,
// the table against an independent straightforward implementation of the
// same prose, weights, minimal disruption and determinism.
import { spawnSync } from 'node:child_process';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DEFAULT_MAGLEV_SEED,
  MAGLEV_SENTINEL,
  Maglev,
  MaglevError,
  maglevBackendIdentity,
  maglevOccupancy,
  murmur3x64128,
  parseMaglevSeed,
  type MaglevBackend,
} from '../../datapath/index.js';
import { parseL3n4Addr } from '../../tables/index.js';

// An independent MurmurHash3_x64_128 and Maglev fill, written in Python from
// the published algorithm and reference §5 with an explicit M×N permutation
// table (the TypeScript version walks positions incrementally instead).
const PYTHON = String.raw`
import json, sys, struct
M64 = (1 << 64) - 1
def rotl(x, r): return ((x << r) | (x >> (64 - r))) & M64
def fmix(k):
    k ^= k >> 33; k = (k * 0xff51afd7ed558ccd) & M64
    k ^= k >> 33; k = (k * 0xc4ceb9fe1a85ec53) & M64
    return k ^ (k >> 33)
def murmur(data, seed):
    c1, c2 = 0x87c37b91114253d5, 0x4cf5ad432745937f
    h1 = h2 = seed
    n = len(data) // 16
    for b in range(n):
        k1, k2 = struct.unpack_from('<QQ', data, b * 16)
        k1 = (rotl((k1 * c1) & M64, 31) * c2) & M64; h1 ^= k1
        h1 = rotl(h1, 27); h1 = (h1 + h2) & M64; h1 = (h1 * 5 + 0x52dce729) & M64
        k2 = (rotl((k2 * c2) & M64, 33) * c1) & M64; h2 ^= k2
        h2 = rotl(h2, 31); h2 = (h2 + h1) & M64; h2 = (h2 * 5 + 0x38495ab5) & M64
    tail = data[n * 16:]
    k1 = int.from_bytes(tail[:8], 'little'); k2 = int.from_bytes(tail[8:], 'little')
    if len(tail) > 8: h2 ^= (rotl((k2 * c2) & M64, 33) * c1) & M64
    if len(tail) > 0: h1 ^= (rotl((k1 * c1) & M64, 31) * c2) & M64
    h1 ^= len(data); h2 ^= len(data)
    h1 = (h1 + h2) & M64; h2 = (h2 + h1) & M64
    h1 = fmix(h1); h2 = fmix(h2)
    h1 = (h1 + h2) & M64; h2 = (h2 + h1) & M64
    return h1, h2
def maglev(backends, m, seed):
    backends = sorted(backends, key=lambda b: b['identity'])
    l = len(backends)
    perm = []
    for b in backends:
        h1, h2 = murmur(b['identity'].encode(), seed)
        off, skip = h1 % m, h2 % (m - 1) + 1
        perm.append([(off + j * skip) % m for j in range(m)])
    W = sum(b['weight'] for b in backends)
    counter = [b['weight'] / l for b in backends]
    nxt = [0] * l
    table = [None] * m
    for n in range(m):
        i = n % l
        if W / l > 1:
            while (n + 1) * backends[i]['weight'] < counter[i]: i = (i + 1) % l
            counter[i] += W
        c = nxt[i]
        while table[perm[i][c]] is not None: c += 1
        table[perm[i][c]] = backends[i]['id']
        nxt[i] = c + 1
    return table
req = json.load(sys.stdin)
out = {'hashes': [[str(x) for x in murmur(bytes(h['data']), h['seed'])] for h in req['hashes']],
       'tables': [maglev(t['backends'], t['m'], t['seed']) for t in req['tables']]}
json.dump(out, sys.stdout)
`;

interface PythonOut {
  hashes: [string, string][];
  tables: number[][];
}
function python(req: unknown): PythonOut {
  const res = spawnSync('python3', ['-c', PYTHON], { input: JSON.stringify(req), encoding: 'utf8', timeout: 60_000 });
  if (res.status !== 0) throw new Error(`python3 failed: ${res.stderr}`);
  return JSON.parse(res.stdout) as PythonOut;
}

function backends(n: number, opts: { weight?: (i: number) => number; id?: (i: number) => number } = {}): MaglevBackend[] {
  return Array.from({ length: n }, (_, i) => ({
    id: opts.id ? opts.id(i) : i + 1,
    address: parseL3n4Addr(`10.244.${i >> 8}.${i & 255}:8080/TCP`),
    weight: opts.weight ? opts.weight(i) : 100,
  }));
}
function counts(table: Uint32Array): Map<number, number> {
  return new Map(maglevOccupancy(table).map(({ id, count }) => [id, count]));
}

const hash = suite('murmur3 x64-128');
hash('published vectors (mmh3 5.3.0: hash128(data, seed, x64arch=True))', () => {
  const enc = new TextEncoder();
  assert.equal(murmur3x64128(enc.encode(''), 0), [0n, 0n]);
  assert.equal(murmur3x64128(enc.encode('hello'), 0), [0xcbd8a7b341bd9b02n, 0x5b1e906a48ae1d19n]);
  assert.equal(murmur3x64128(enc.encode('0123456789abcdef0'), 123), [0xe0435cea4a6ba63fn, 0x847fecf76af9dd05n]);
});
hash('matches an independent implementation for every tail length and several seeds', () => {
  const cases: { data: number[]; seed: number }[] = [];
  for (let len = 0; len <= 40; len++) {
    for (const seed of [0, 1, 0x24b7ef82, 0xffffffff]) {
      cases.push({ data: Array.from({ length: len }, (_, i) => (i * 37 + len * 11 + seed) & 0xff), seed });
    }
  }
  const expected = python({ hashes: cases, tables: [] }).hashes;
  cases.forEach((c, i) => {
    const [h1, h2] = murmur3x64128(Uint8Array.from(c.data), c.seed);
    assert.equal([h1.toString(), h2.toString()], expected[i], `len ${c.data.length} seed ${c.seed}`);
  });
});
hash('rejects a seed that is not a u32', () => {
  assert.throws(() => murmur3x64128(new Uint8Array(1), -1), RangeError);
  assert.throws(() => murmur3x64128(new Uint8Array(1), 2 ** 32), RangeError);
});

const config = suite('configuration');
config('the default seed carries the murmur seed and two jhash seeds, big-endian', () => {
  assert.equal(parseMaglevSeed(DEFAULT_MAGLEV_SEED), { murmur: 0x24b7ef82, jhash0: 0x71dcda46, jhash1: 0x92505688 });
  assert.is(new Maglev().tableSize, 16381);
});
config('table size must be one of the listed primes; seed must be 12 bytes of base64', () => {
  assert.throws(() => new Maglev({ tableSize: 1000 }), (e: Error) => e instanceof MaglevError && /1000 must be one of 251, 509/.test(e.message));
  assert.throws(() => new Maglev({ seed: 'short' }), (e: Error) => e instanceof MaglevError && /base64 of 12 bytes/.test(e.message));
  for (const size of [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071]) assert.is(new Maglev({ tableSize: size }).tableSize, size);
});
config('identity strings', () => {
  assert.is(maglevBackendIdentity(parseL3n4Addr('10.244.1.1:80/TCP')), '[10.244.1.1:80/TCP,State:active]');
  assert.is(maglevBackendIdentity(parseL3n4Addr('[2001::1]:80/UDP/i')), '[[2001::1]:80/UDP/i,State:active]');
});
config('bad backend lists', () => {
  const m = new Maglev({ tableSize: 251 });
  const [a] = backends(1);
  assert.throws(() => m.table([a!, { ...a!, id: 9 }]), /listed twice/);
  assert.throws(() => m.table([{ ...a!, weight: 0 }]), /weight 0/);
  assert.throws(() => m.table([{ ...a!, id: MAGLEV_SENTINEL }]), /not a u32/);
});

const table = suite('tables');
table('identical to the independent implementation (equal and mixed weights, v4 and v6)', () => {
  const seed = parseMaglevSeed(DEFAULT_MAGLEV_SEED).murmur;
  const sets: { m: number; list: MaglevBackend[] }[] = [
    { m: 251, list: backends(3) },
    { m: 1021, list: backends(7, { weight: (i) => [100, 200, 50, 1, 300, 100, 7][i]! }) },
    { m: 251, list: backends(5, { weight: () => 1 }) },
    { m: 509, list: [...backends(2), { id: 77, address: parseL3n4Addr('[fd00::5]:80/TCP/i'), weight: 150 }] },
    { m: 251, list: backends(1) },
  ];
  const req = {
    hashes: [],
    tables: sets.map((s) => ({ m: s.m, seed, backends: s.list.map((b) => ({ identity: maglevBackendIdentity(b.address), id: b.id, weight: b.weight })) })),
  };
  const expected = python(req).tables;
  sets.forEach((s, i) => {
    assert.equal(Array.from(new Maglev({ tableSize: s.m }).table(s.list)), expected[i], `set ${i}`);
  });
});
table('no backends: all sentinel; one backend: every entry', () => {
  const m = new Maglev({ tableSize: 251 });
  assert.ok(m.table([]).every((v) => v === MAGLEV_SENTINEL));
  assert.ok(m.table(backends(1, { id: () => 42 })).every((v) => v === 42));
});
table('equal weights: every backend gets floor or ceil of M/N entries', () => {
  const t = new Maglev({ tableSize: 16381 }).table(backends(100));
  const c = counts(t);
  assert.is(c.size, 100);
  for (const n of c.values()) assert.ok(n === 163 || n === 164, `count ${n}`);
  assert.ok(!t.includes(MAGLEV_SENTINEL));
});
table('weights are honoured: a weight-200 backend gets about twice the entries of weight 100', () => {
  const t = new Maglev({ tableSize: 16381 }).table(backends(10, { weight: (i) => (i === 0 ? 200 : 100) }));
  const c = counts(t);
  const heavy = c.get(1)!;
  const light = [...c.entries()].filter(([id]) => id !== 1).map(([, n]) => n);
  const meanLight = light.reduce((a, b) => a + b, 0) / light.length;
  const ratio = heavy / meanLight;
  assert.ok(ratio > 1.9 && ratio < 2.1, `ratio ${ratio.toFixed(3)} (heavy ${heavy}, light mean ${meanLight.toFixed(1)})`);
  // Expected share 2/11 of 16381 = 2978.4
  assert.ok(Math.abs(heavy - (16381 * 2) / 11) < 16381 * 0.01, `heavy ${heavy}`);
});
table('minimal disruption: removing one of N backends moves about 1/N of the entries', () => {
  // The removed backend's own 1/N must move. Maglev adds some churn among
  // the others that shrinks as M/N grows (the paper recommends M > 100·N);
  // measured here: 1.05/N at M/N = 1638, 1.5/N at 327, 2.2/N at 164.
  const cases: [m: number, n: number, bound: number][] = [
    [16381, 10, 1.1],
    [16381, 50, 2],
    [16381, 100, 2.5],
    [65521, 100, 2],
  ];
  for (const [size, n, bound] of cases) {
    const m = new Maglev({ tableSize: size });
    const all = backends(n);
    const before = m.table(all);
    const removed = all[Math.floor(n / 2)]!;
    const after = m.table(all.filter((b) => b !== removed));
    let moved = 0;
    let removedEntries = 0;
    for (let i = 0; i < before.length; i++) {
      if (before[i] === removed.id) removedEntries++;
      if (before[i] !== after[i]) moved++;
    }
    const movedInN = (moved / before.length) * n;
    assert.ok(moved >= removedEntries && movedInN < bound, `M=${size} N=${n}: moved ${movedInN.toFixed(2)}/N, bound ${bound}/N`);
    assert.ok(!after.includes(removed.id));
  }
});
table('deterministic: independent of input order and of the IDs given', () => {
  const m = new Maglev({ tableSize: 1021 });
  const list = backends(12, { weight: (i) => 50 + i * 25 });
  const reference = m.table(list);
  fc.assert(
    fc.property(fc.shuffledSubarray(list, { minLength: list.length, maxLength: list.length }), (shuffled) => {
      assert.equal(Array.from(m.table(shuffled)), Array.from(reference));
    }),
    { numRuns: 50 },
  );
  // Other node, other IDs: the same places hold the same addresses.
  const renumbered = list.map((b, i) => ({ ...b, id: 1000 - i * 7 }));
  const idToAddr = (l: MaglevBackend[]) => new Map(l.map((b) => [b.id, b.address.ip]));
  const a = idToAddr(list);
  const b = idToAddr(renumbered);
  const other = m.table([...renumbered].reverse());
  for (let i = 0; i < reference.length; i++) assert.is(b.get(other[i]!), a.get(reference[i]!));
});
table('occupancy in dump order: count descending, then id', () => {
  assert.equal(maglevOccupancy(Uint32Array.from([3, 1, 2, 2, 1, 5])), [
    { id: 1, count: 2 },
    { id: 2, count: 2 },
    { id: 3, count: 1 },
    { id: 5, count: 1 },
  ]);
});

hash.run();
config.run();
table.run();
