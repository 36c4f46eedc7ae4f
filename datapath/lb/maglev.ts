// Maglev consistent hashing (reference §5): a lookup table of M backend
// IDs, the same on every node for the same set of backends, in which
// removing one of N backends moves only about 1/N of the entries.
//
// Every node must compute the same table although backend IDs are local to
// each node, so placement depends only on the backend identity strings:
// backends are sorted by identity and each gets its preference list from a
// murmur3 hash of its identity. IDs are merely written into the places.
import { formatL3n4Addr, type L3n4Addr } from '../../tables/index.js';
import { murmur3x64128 } from './murmur3.js';

/** Table sizes Maglev accepts: primes, so every skip visits every entry. */
export const MAGLEV_TABLE_SIZES = [251, 509, 1021, 2039, 4093, 8191, 16381, 32749, 65521, 131071] as const;
export const DEFAULT_MAGLEV_TABLE_SIZE = 16381;
/** base64 of 12 bytes: the murmur3 seed (bytes 0-3, big-endian) and two jhash seeds. */
export const DEFAULT_MAGLEV_SEED = 'JLfvgnHc2kaSUFaI';
/** Fill value of an entry no backend took; only seen in a table with no backends. */
export const MAGLEV_SENTINEL = 0xffffffff;

const PERMUTATION_CACHE_LIMIT = 65536;

/** A bad table size, seed or backend list. */
export class MaglevError extends Error {
  override readonly name = 'MaglevError';
}

/** The seeds carried by the base64 seed string. */
export interface MaglevSeeds {
  /** murmur3 seed for the permutations. */
  readonly murmur: number;
  /** jhash seeds the datapath uses as the v4 / v6 hash init values. */
  readonly jhash0: number;
  readonly jhash1: number;
}

/** A backend to place: its node-local ID, its address (which names it on every node) and weight. */
export interface MaglevBackend {
  /** Written into the table; any u32 except the sentinel. */
  readonly id: number;
  readonly address: L3n4Addr;
  /** Integer >= 1. Entries are shared in proportion to weight. */
  readonly weight: number;
}

export interface MaglevOptions {
  /** One of MAGLEV_TABLE_SIZES; default 16381. */
  readonly tableSize?: number;
  /** base64 of 12 bytes; default DEFAULT_MAGLEV_SEED. */
  readonly seed?: string;
}

/**
 * Decodes the base64 seed string into its three big-endian u32 seeds.
 * Throws MaglevError unless it is valid base64 of exactly 12 bytes.
 */
export function parseMaglevSeed(seed: string): MaglevSeeds {
  if (!/^[A-Za-z0-9+/]{16}$/.test(seed)) throw new MaglevError(`maglev seed ${JSON.stringify(seed)} must be base64 of 12 bytes (16 characters)`);
  const bytes = Buffer.from(seed, 'base64');
  return { murmur: bytes.readUInt32BE(0), jhash0: bytes.readUInt32BE(4), jhash1: bytes.readUInt32BE(8) };
}

/**
 * The identity string that places a backend; it must never change, or every
 * table moves: `[10.244.1.1:80/TCP,State:active]`,
 * `[[2001::1]:80/TCP/i,State:active]`. Only active backends are placed.
 */
export function maglevBackendIdentity(address: L3n4Addr): string {
  return `[${formatL3n4Addr(address)},State:active]`;
}

/** Computes Maglev tables of one size with one seed. */
export class Maglev {
  readonly tableSize: number;
  readonly seeds: MaglevSeeds;
  private readonly encoder = new TextEncoder();
  private readonly permutations = new Map<string, readonly [number, number]>();

  /** Throws MaglevError on a table size not in MAGLEV_TABLE_SIZES or a bad seed. */
  constructor(opts: MaglevOptions = {}) {
    const size = opts.tableSize ?? DEFAULT_MAGLEV_TABLE_SIZE;
    if (!(MAGLEV_TABLE_SIZES as readonly number[]).includes(size)) {
      throw new MaglevError(`maglev table size ${size} must be one of ${MAGLEV_TABLE_SIZES.join(', ')}`);
    }
    this.tableSize = size;
    this.seeds = parseMaglevSeed(opts.seed ?? DEFAULT_MAGLEV_SEED);
  }

  /**
   * The lookup table: `tableSize` backend IDs. Depends only on the set of
   * (identity, weight, id) pairs, not on their order. With no backends every
   * entry is MAGLEV_SENTINEL (the caller should then delete the table).
   * Throws MaglevError on a duplicate address, a weight below 1 or a
   * non-u32 ID. Cost O(M·N); pure.
   */
  table(backends: readonly MaglevBackend[]): Uint32Array {
    const m = this.tableSize;
    const entries = new Uint32Array(m).fill(MAGLEV_SENTINEL);
    const sorted = this.sortedBackends(backends);
    const l = sorted.length;
    if (l === 0) return entries;

    // Preference list of backend i: offset_i, offset_i + skip_i, ... (mod M).
    // `position[i]` is the next place to try; no M×N permutation buffer.
    // Int32 arrays keep positions small integers, which V8 indexes fastest.
    const position = new Int32Array(l);
    const skip = new Int32Array(l);
    const weight = new Float64Array(l);
    const counter = new Float64Array(l);
    let weightSum = 0;
    sorted.forEach((be, i) => {
      const [offset, step] = this.permutation(be.identity);
      position[i] = offset;
      skip[i] = step;
      weight[i] = be.weight;
      weightSum += be.weight;
    });
    // Envoy-style weights: each backend's counter starts at weight/l; at
    // step n the round-robin candidate defers to the next one while
    // (n+1)·weight is still below its counter; the taker adds the weight
    // sum. With equal weights this is plain round robin.
    for (let i = 0; i < l; i++) counter[i] = weight[i]! / l;
    const ids = Uint32Array.from(sorted, (be) => be.id);
    const weighted = weightSum / l > 1;

    for (let n = 0; n < m; n++) {
      let i = n % l;
      if (weighted) {
        // Terminates within l steps: the counters sum to W/l + n·W, so
        // some backend has (n+1)·weight >= counter.
        while ((n + 1) * weight[i]! < counter[i]!) i = (i + 1) % l;
        counter[i] = counter[i]! + weightSum;
      }
      const step = skip[i]!;
      let pos = position[i]!;
      while (entries[pos] !== MAGLEV_SENTINEL) {
        pos += step;
        if (pos >= m) pos -= m;
      }
      entries[pos] = ids[i]!;
      pos += step;
      position[i] = pos >= m ? pos - m : pos;
    }
    return entries;
  }

  /**
   * (offset, skip) of an identity. Cached because a recompute usually keeps
   * most backends; the cache is dropped whole when it grows past
   * PERMUTATION_CACHE_LIMIT so it stays bounded under churn.
   */
  private permutation(identity: string): readonly [number, number] {
    let p = this.permutations.get(identity);
    if (p === undefined) {
      const m = BigInt(this.tableSize);
      const [h1, h2] = murmur3x64128(this.encoder.encode(identity), this.seeds.murmur);
      p = [Number(h1 % m), Number(h2 % (m - 1n)) + 1];
      if (this.permutations.size >= PERMUTATION_CACHE_LIMIT) this.permutations.clear();
      this.permutations.set(identity, p);
    }
    return p;
  }

  private sortedBackends(backends: readonly MaglevBackend[]): { identity: string; id: number; weight: number }[] {
    const out = backends.map((be) => {
      if (!Number.isInteger(be.id) || be.id < 0 || be.id >= MAGLEV_SENTINEL) throw new MaglevError(`maglev backend id ${be.id} is not a u32 below 0xffffffff`);
      if (!Number.isInteger(be.weight) || be.weight < 1) {
        throw new MaglevError(`maglev backend ${formatL3n4Addr(be.address)} has weight ${be.weight}; weights are integers >= 1 (weight 0 means maintenance: leave it out)`);
      }
      return { identity: maglevBackendIdentity(be.address), id: be.id, weight: be.weight };
    });
    out.sort((a, b) => (a.identity < b.identity ? -1 : a.identity > b.identity ? 1 : 0));
    for (let i = 1; i < out.length; i++) {
      if (out[i]!.identity === out[i - 1]!.identity) throw new MaglevError(`maglev backend ${out[i]!.identity} is listed twice`);
    }
    return out;
  }
}

/**
 * How many entries each backend ID holds, sorted by count descending then ID
 * ascending: the `MAGLEV: INNER=[id(count), ...]` dump order.
 */
export function maglevOccupancy(table: Uint32Array): { id: number; count: number }[] {
  const counts = new Map<number, number>();
  for (const id of table) counts.set(id, (counts.get(id) ?? 0) + 1);
  return [...counts].map(([id, count]) => ({ id, count })).sort((a, b) => b.count - a.count || a.id - b.id);
}
