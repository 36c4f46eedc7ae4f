// MurmurHash3, x64 128-bit variant (Austin Appleby's public-domain
// algorithm), as Maglev uses it to place backends. BigInt arithmetic keeps
// it obviously correct; Maglev hashes one short string per backend per
// table, so speed here does not matter next to the O(M·N) fill.

const MASK64 = (1n << 64n) - 1n;
const C1 = 0x87c37b91114253d5n;
const C2 = 0x4cf5ad432745937fn;

function rotl64(x: bigint, r: bigint): bigint {
  return ((x << r) | (x >> (64n - r))) & MASK64;
}

function mul64(a: bigint, b: bigint): bigint {
  return (a * b) & MASK64;
}

function fmix64(k: bigint): bigint {
  k ^= k >> 33n;
  k = mul64(k, 0xff51afd7ed558ccdn);
  k ^= k >> 33n;
  k = mul64(k, 0xc4ceb9fe1a85ec53n);
  k ^= k >> 33n;
  return k;
}

/** Little-endian u64 of up to 8 bytes starting at offset (missing bytes are zero). */
function readLE(data: Uint8Array, offset: number, length: number): bigint {
  let v = 0n;
  for (let i = length - 1; i >= 0; i--) v = (v << 8n) | BigInt(data[offset + i]!);
  return v;
}

function mixK1(k1: bigint): bigint {
  return mul64(rotl64(mul64(k1, C1), 31n), C2);
}

function mixK2(k2: bigint): bigint {
  return mul64(rotl64(mul64(k2, C2), 33n), C1);
}

/**
 * The two 64-bit halves (h1, h2) of MurmurHash3_x64_128 of `data` with a
 * 32-bit seed (both halves start at the seed). Throws RangeError on a seed
 * outside 0..2^32-1.
 */
export function murmur3x64128(data: Uint8Array, seed: number): [bigint, bigint] {
  if (!Number.isInteger(seed) || seed < 0 || seed > 0xffffffff) throw new RangeError(`murmur3 seed ${seed} is not a u32`);
  let h1 = BigInt(seed);
  let h2 = BigInt(seed);
  const blocks = Math.floor(data.length / 16);
  for (let b = 0; b < blocks; b++) {
    h1 ^= mixK1(readLE(data, b * 16, 8));
    h1 = rotl64(h1, 27n);
    h1 = (h1 + h2) & MASK64;
    h1 = (mul64(h1, 5n) + 0x52dce729n) & MASK64;
    h2 ^= mixK2(readLE(data, b * 16 + 8, 8));
    h2 = rotl64(h2, 31n);
    h2 = (h2 + h1) & MASK64;
    h2 = (mul64(h2, 5n) + 0x38495ab5n) & MASK64;
  }
  const tail = blocks * 16;
  const rest = data.length - tail;
  if (rest > 8) h2 ^= mixK2(readLE(data, tail + 8, rest - 8));
  if (rest > 0) h1 ^= mixK1(readLE(data, tail, Math.min(rest, 8)));
  const len = BigInt(data.length);
  h1 ^= len;
  h2 ^= len;
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  h1 = fmix64(h1);
  h2 = fmix64(h2);
  h1 = (h1 + h2) & MASK64;
  h2 = (h2 + h1) & MASK64;
  return [h1, h2];
}
