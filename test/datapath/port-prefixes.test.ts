// Port ranges -> policy-map LPM blocks (reference §7.9), checked
// exhaustively in smaller bit widths and at random over 16 bits.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { policyKeyPrefixLength, policyKeyPrefixes, portRangePrefixes, type PortPrefix } from '../../datapath/index.js';

/** Checks the blocks are aligned, ascending, disjoint and cover exactly [lo, hi]. */
function checkCover(blocks: PortPrefix[], lo: number, hi: number, width: number): void {
  let next = lo;
  for (const b of blocks) {
    const size = 2 ** (width - b.prefixBits);
    if (b.port !== next) throw new Error(`[${lo},${hi}] w${width}: block ${b.port}/${b.prefixBits} does not start at ${next}`);
    if (b.port % size !== 0) throw new Error(`[${lo},${hi}] w${width}: block ${b.port}/${b.prefixBits} is not aligned`);
    next = b.port + size;
  }
  if (next !== hi + 1) throw new Error(`[${lo},${hi}] w${width}: blocks end at ${next - 1}`);
}

/** The fewest aligned blocks covering exactly [lo, hi], by dynamic programming over every choice. */
function minimalCount(lo: number, hi: number, width: number): number {
  const best = new Map<number, number>([[hi + 1, 0]]);
  for (let s = hi; s >= lo; s--) {
    let m = Infinity;
    for (let k = 0; k <= width; k++) {
      const size = 2 ** k;
      if (s % size !== 0 || s + size - 1 > hi) continue;
      m = Math.min(m, 1 + best.get(s + size)!);
    }
    best.set(s, m);
  }
  return best.get(lo)!;
}

const blocks = suite('portRangePrefixes');
blocks('examples over 16 bits', () => {
  assert.equal(portRangePrefixes(80, 80), [{ port: 80, prefixBits: 16 }]);
  assert.equal(portRangePrefixes(0, 65535), [{ port: 0, prefixBits: 0 }]);
  assert.equal(portRangePrefixes(1024, 2047), [{ port: 1024, prefixBits: 6 }]);
  assert.equal(portRangePrefixes(80, 81), [{ port: 80, prefixBits: 15 }]);
  assert.equal(portRangePrefixes(79, 81), [
    { port: 79, prefixBits: 16 },
    { port: 80, prefixBits: 15 },
  ]);
  assert.equal(portRangePrefixes(8000, 8010), [
    { port: 8000, prefixBits: 13 },
    { port: 8008, prefixBits: 15 },
    { port: 8010, prefixBits: 16 },
  ]);
  assert.is(portRangePrefixes(1, 65534).length, 30, 'the worst case: 2·16 − 2 blocks');
});
blocks('every range in 7 bits: exact cover and minimal count', () => {
  const width = 7;
  for (let lo = 0; lo < 2 ** width; lo++) {
    for (let hi = lo; hi < 2 ** width; hi++) {
      const out = portRangePrefixes(lo, hi, width);
      checkCover(out, lo, hi, width);
      if (out.length !== minimalCount(lo, hi, width)) throw new Error(`[${lo},${hi}]: ${out.length} blocks, minimum ${minimalCount(lo, hi, width)}`);
    }
  }
});
blocks('every range in 10 bits: exact cover, at most 2·w − 2 blocks', () => {
  const width = 10;
  let ranges = 0;
  for (let lo = 0; lo < 2 ** width; lo++) {
    for (let hi = lo; hi < 2 ** width; hi++) {
      const out = portRangePrefixes(lo, hi, width);
      checkCover(out, lo, hi, width);
      if (out.length > Math.max(1, 2 * width - 2)) throw new Error(`[${lo},${hi}]: ${out.length} blocks`);
      ranges++;
    }
  }
  assert.is(ranges, (1024 * 1025) / 2);
});
blocks('random 16-bit ranges: exact cover; minimal for ranges up to 4096 ports', () => {
  const range = fc
    .tuple(fc.integer({ min: 0, max: 65535 }), fc.integer({ min: 0, max: 65535 }))
    .map(([a, b]) => [Math.min(a, b), Math.max(a, b)] as const);
  fc.assert(
    fc.property(range, ([lo, hi]) => {
      const out = portRangePrefixes(lo, hi);
      checkCover(out, lo, hi, 16);
      assert.ok(out.length <= 30);
    }),
    { numRuns: 5000 },
  );
  const small = fc.integer({ min: 0, max: 65535 }).chain((lo) => fc.tuple(fc.constant(lo), fc.integer({ min: lo, max: Math.min(65535, lo + 4095) })));
  fc.assert(
    fc.property(small, ([lo, hi]) => {
      assert.is(portRangePrefixes(lo, hi).length, minimalCount(lo, hi, 16));
    }),
    { numRuns: 300 },
  );
});
blocks('bad ranges are rejected', () => {
  assert.throws(() => portRangePrefixes(10, 9), /\[10, 9\]/);
  assert.throws(() => portRangePrefixes(0, 65536), /0\.\.65535/);
  assert.throws(() => portRangePrefixes(-1, 5), RangeError);
  assert.throws(() => portRangePrefixes(0, 300, 8), /0\.\.255/);
  assert.throws(() => portRangePrefixes(1.5, 3), RangeError);
});

const keys = suite('policy key prefix lengths');
keys('L3-only 40, L3+proto 48, L3+proto+port 64, ranges 48 + matched port bits', () => {
  assert.is(policyKeyPrefixLength(0, 0), 40);
  assert.is(policyKeyPrefixLength(6, 0), 48);
  assert.is(policyKeyPrefixLength(6, 16), 64);
  assert.is(policyKeyPrefixLength(17, 6), 54);
  assert.throws(() => policyKeyPrefixLength(0, 16), /only when every port is open/);
});
keys('entries for (protocol, range)', () => {
  assert.equal(policyKeyPrefixes(0, 0, 65535), [{ protocol: 0, port: 0, prefixLength: 40, lpmPrefixLength: 0 }]);
  assert.equal(policyKeyPrefixes(6, 0, 65535), [{ protocol: 6, port: 0, prefixLength: 48, lpmPrefixLength: 8 }]);
  assert.equal(policyKeyPrefixes(6, 443, 443), [{ protocol: 6, port: 443, prefixLength: 64, lpmPrefixLength: 24 }]);
  assert.equal(policyKeyPrefixes(17, 32768, 65535), [{ protocol: 17, port: 32768, prefixLength: 49, lpmPrefixLength: 9 }]);
  assert.equal(
    policyKeyPrefixes(132, 5000, 5002).map((k) => `${k.port}/${k.prefixLength}`),
    ['5000/63', '5002/64'],
  );
  assert.throws(() => policyKeyPrefixes(0, 80, 80), /protocol 0 \(any\) needs the whole port range/);
  assert.throws(() => policyKeyPrefixes(256, 80, 80), /protocol 256/);
});

blocks.run();
keys.run();
