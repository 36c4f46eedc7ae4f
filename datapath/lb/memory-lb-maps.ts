// The load-balancing maps in memory, byte for byte like the kernel's: keys
// and values go through the same generated codecs and are stored encoded,
// so equal keys are equal bytes (padding included) and a dump of these maps
// reads exactly like a dump of the pinned ones. For fast scenario tests and
// the in-memory benchmark.
import type { Codec } from '../kernel/index.js';
import { mapSpecs } from '../maps/layouts.generated.js';
import type { LBMap, LBMaps, MaglevMap } from './lb-maps.js';
import { DEFAULT_MAGLEV_TABLE_SIZE } from './maglev.js';

/** Bytes as a string of one char per byte (faster than Buffer#toString('latin1') for a dozen bytes). */
function bytesToString(buf: Buffer): string {
  return String.fromCharCode.apply(null, buf as unknown as number[]);
}

class MemoryLBMap<K, V> implements LBMap<K, V> {
  // Encoded key (one char per byte) -> encoded value: strings are the
  // cheapest immutable byte holders V8 has.
  private readonly store = new Map<string, string>();
  private readonly keyBuf: Buffer;
  private readonly valueBuf: Buffer;

  constructor(
    readonly name: string,
    private readonly keyCodec: Codec<K>,
    private readonly valueCodec: Codec<V>,
  ) {
    this.keyBuf = Buffer.alloc(keyCodec.size);
    this.valueBuf = Buffer.alloc(valueCodec.size);
  }

  get size(): number {
    return this.store.size;
  }

  get(key: K): V | undefined {
    const v = this.store.get(this.encodeKey(key));
    return v === undefined ? undefined : this.valueCodec.decode(Buffer.from(v, 'latin1'), 0);
  }

  put(key: K, value: V): void {
    this.valueCodec.encode(value, this.valueBuf, 0);
    this.store.set(this.encodeKey(key), bytesToString(this.valueBuf));
  }

  delete(key: K): boolean {
    return this.store.delete(this.encodeKey(key));
  }

  deleteMany(keys: readonly K[]): void {
    for (const k of keys) this.delete(k);
  }

  entries(): [K, V][] {
    const out: [K, V][] = [];
    for (const [k, v] of this.store) {
      out.push([this.keyCodec.decode(Buffer.from(k, 'latin1'), 0), this.valueCodec.decode(Buffer.from(v, 'latin1'), 0)]);
    }
    return out;
  }

  private encodeKey(key: K): string {
    this.keyCodec.encode(key, this.keyBuf, 0);
    return bytesToString(this.keyBuf);
  }
}

class MemoryMaglevMap implements MaglevMap {
  readonly name = mapSpecs.flg_lb4_maglev.name;
  private readonly tables = new Map<number, Uint32Array>();

  constructor(readonly tableSize: number) {}

  get(revNatIndex: number): Uint32Array | undefined {
    const t = this.tables.get(revNatIndex);
    return t === undefined ? undefined : t.slice();
  }

  set(revNatIndex: number, table: Uint32Array): void {
    if (table.length !== this.tableSize) {
      throw new RangeError(`${this.name}: table for service ${revNatIndex} has ${table.length} entries, M is ${this.tableSize}`);
    }
    this.tables.set(revNatIndex, table.slice());
  }

  delete(revNatIndex: number): boolean {
    return this.tables.delete(revNatIndex);
  }

  ids(): number[] {
    return [...this.tables.keys()];
  }
}

export interface MemoryLBMapsOptions {
  /** Maglev table size M; default 16381. */
  readonly maglevTableSize?: number;
}

/** Fresh, empty in-memory load-balancing maps. */
export function memoryLBMaps(opts: MemoryLBMapsOptions = {}): LBMaps {
  const s = mapSpecs;
  return {
    services: new MemoryLBMap(s.flg_lb4_services.name, s.flg_lb4_services.key, s.flg_lb4_services.value),
    backends: new MemoryLBMap(s.flg_lb4_backends.name, s.flg_lb4_backends.key, s.flg_lb4_backends.value),
    revNat: new MemoryLBMap(s.flg_lb4_reverse_nat.name, s.flg_lb4_reverse_nat.key, s.flg_lb4_reverse_nat.value),
    affinityMatch: new MemoryLBMap(s.flg_lb_affinity_match.name, s.flg_lb_affinity_match.key, s.flg_lb_affinity_match.value),
    sourceRange: new MemoryLBMap(s.flg_lb4_source_range.name, s.flg_lb4_source_range.key, s.flg_lb4_source_range.value),
    maglev: new MemoryMaglevMap(opts.maglevTableSize ?? DEFAULT_MAGLEV_TABLE_SIZE),
  };
}
