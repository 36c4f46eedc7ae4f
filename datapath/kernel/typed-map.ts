// A kernel map read and written with plain objects, through the codecs generated from
// the datapath's BTF. Keys and values are encoded straight into the map's scratch and
// batch buffers: no intermediate Buffers.
import { resolveMapType, type MapTypeName, type UpdateMode, updateFlag, mapTypeName } from './bpf-constants.js';
import { BpfError } from './bpf-error.js';
import { BpfMap, type DeleteOptions } from './bpf-map.js';
import type { BpfObject } from './bpf-object.js';
import type { Codec } from './codec.js';
import type { BatchOptions } from './map-batch.js';
import { perCpuStride } from './per-cpu.js';

/** A map as generated from BTF (see datapath/maps/layouts.generated.ts). */
export interface MapSpec<K, V> {
  name: string;
  /** Map type number (MapType.HASH, ...). */
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: 'none' | 'by-name';
  keyType: string;
  valueType: string;
  key: Codec<K>;
  value: Codec<V>;
  /** Maps of maps: the inner map. */
  inner?: MapSpec<unknown, unknown>;
}

export interface TypedMapCreateOptions {
  maxEntries?: number;
  flags?: number;
  name?: string;
  /** Maps of maps: the inner map template. */
  innerMap?: BpfMap;
  type?: MapTypeName | number;
}

export class TypedMap<K, V> implements Disposable {
  /**
   * Wraps a map; throws TypeError when the codecs' sizes do not match the kernel's key
   * and value sizes (a layout drift that would otherwise corrupt entries).
   */
  constructor(
    readonly map: BpfMap,
    readonly keyCodec: Codec<K>,
    readonly valueCodec: Codec<V>,
  ) {
    if (keyCodec.size !== map.keySize || valueCodec.size !== map.valueSize) {
      throw new TypeError(
        `map ${map.name}: kernel key/value sizes ${map.keySize}/${map.valueSize} do not match ` +
          `${keyCodec.name} (${keyCodec.size}) / ${valueCodec.name} (${valueCodec.size})`,
      );
    }
  }

  /** Creates a new (unpinned) map from a spec, e.g. for tests or inner maps. Throws BpfError (`map create`). */
  static create<K, V>(spec: MapSpec<K, V>, opts: TypedMapCreateOptions = {}): TypedMap<K, V> {
    const map = BpfMap.create({
      type: opts.type !== undefined ? resolveMapType(opts.type) : spec.type,
      keySize: spec.keySize,
      valueSize: spec.valueSize,
      maxEntries: opts.maxEntries ?? spec.maxEntries,
      flags: opts.flags ?? spec.flags,
      name: opts.name ?? spec.name,
      ...(opts.innerMap ? { innerMap: opts.innerMap } : {}),
    });
    return new TypedMap(map, spec.key, spec.value);
  }

  /** Opens a pinned map and checks its type against the spec. Throws BpfError or TypeError. */
  static openPinned<K, V>(spec: MapSpec<K, V>, path: string): TypedMap<K, V> {
    return TypedMap.wrap(spec, BpfMap.openPinned(path, { name: spec.name }));
  }

  /** The spec's map from a loaded object (its own fd; close it when done). */
  static fromObject<K, V>(obj: BpfObject, spec: MapSpec<K, V>): TypedMap<K, V> {
    return TypedMap.wrap(spec, obj.map(spec.name));
  }

  /** Wraps an open map after checking its type against the spec; closes it on mismatch. */
  static wrap<K, V>(spec: MapSpec<K, V>, map: BpfMap): TypedMap<K, V> {
    try {
      if (map.type !== spec.type) {
        throw new TypeError(`map ${spec.name}: kernel map is ${mapTypeName(map.type)}, the spec says ${mapTypeName(spec.type)}`);
      }
      return new TypedMap(map, spec.key, spec.value);
    } catch (err) {
      map.close();
      throw err;
    }
  }

  get name(): string {
    return this.map.name;
  }

  /** The value at key, or undefined. Throws BpfError for failures other than ENOENT. */
  get(key: K): V | undefined {
    this.requireSingleValue('get');
    this.keyCodec.encode(key, this.map.keyScratch, 0);
    return this.map.lookupScratch() ? this.valueCodec.decode(this.map.valueScratch, 0) : undefined;
  }

  has(key: K): boolean {
    this.keyCodec.encode(key, this.map.keyScratch, 0);
    return this.map.lookupScratch();
  }

  /**
   * Writes key → value. `any` inserts or replaces, `noexist` fails with EEXIST when present,
   * `exist` fails with ENOENT when absent; a full map fails with E2BIG. Throws BpfError.
   */
  put(key: K, value: V, mode: UpdateMode = 'any'): void {
    this.requireSingleValue('put');
    this.keyCodec.encode(key, this.map.keyScratch, 0);
    this.valueCodec.encode(value, this.map.valueScratch, 0);
    this.map.updateScratch(updateFlag(mode));
  }

  /** Deletes key: true when it existed; ENOENT throws unless `{ idempotent: true }` (then false). */
  delete(key: K, opts: DeleteOptions = {}): boolean {
    this.keyCodec.encode(key, this.map.keyScratch, 0);
    return this.map.deleteScratch(opts.idempotent ?? false);
  }

  /** Per-CPU maps: the value on each possible CPU, or undefined. */
  getPerCpu(key: K): V[] | undefined {
    this.requirePerCpu('getPerCpu');
    this.keyCodec.encode(key, this.map.keyScratch, 0);
    if (!this.map.lookupScratch()) return undefined;
    const stride = perCpuStride(this.map.valueSize);
    const out: V[] = [];
    for (let off = 0; off < this.map.valueBytes; off += stride) out.push(this.valueCodec.decode(this.map.valueScratch, off));
    return out;
  }

  /** Per-CPU maps: writes one value per possible CPU, or the same value on every CPU. */
  putPerCpu(key: K, values: V | readonly V[], mode: UpdateMode = 'any'): void {
    this.requirePerCpu('putPerCpu');
    const stride = perCpuStride(this.map.valueSize);
    const cpus = this.map.valueBytes / stride;
    const list = Array.isArray(values) ? (values as readonly V[]) : undefined;
    if (list && list.length !== cpus) throw new RangeError(`map ${this.name}: ${list.length} per-CPU values for ${cpus} possible CPUs`);
    this.keyCodec.encode(key, this.map.keyScratch, 0);
    this.map.valueScratch.fill(0);
    for (let cpu = 0; cpu < cpus; cpu++) this.valueCodec.encode(list ? list[cpu]! : (values as V), this.map.valueScratch, cpu * stride);
    this.map.updateScratch(updateFlag(mode));
  }

  /** Keys, decoded; deleting the key just yielded is safe (see BpfMap.keys). */
  *keys(): Generator<K, void, undefined> {
    for (const raw of this.map.keys()) yield this.keyCodec.decode(raw, 0);
  }

  *entries(): Generator<[K, V], void, undefined> {
    this.requireSingleValue('entries');
    for (const [k, v] of this.map.entries()) yield [this.keyCodec.decode(k, 0), this.valueCodec.decode(v, 0)];
  }

  /**
   * Inserts or replaces entries with UPDATE_BATCH, encoding straight into the batch
   * buffers. Returns the count. Throws BpfError (`map batch update`) with `processed`
   * on failure (E2BIG: map full).
   */
  putBatch(entries: readonly (readonly [K, V])[], opts: BatchOptions = {}): number {
    this.requireSingleValue('putBatch');
    const chunk = opts.chunkSize ?? 1024;
    const flags = 0;
    for (let start = 0; start < entries.length; start += chunk) {
      const n = Math.min(chunk, entries.length - start);
      const { keys, values } = this.map.batch.reserve(n);
      for (let i = 0; i < n; i++) {
        const [k, v] = entries[start + i]!;
        this.keyCodec.encode(k, keys, i * this.keyCodec.size);
        this.valueCodec.encode(v, values, i * this.valueCodec.size);
      }
      this.map.batch.updateReserved(n, flags, start);
    }
    return entries.length;
  }

  /** Deletes keys with DELETE_BATCH; returns how many were deleted (idempotent skips missing keys). */
  deleteBatch(keys: readonly K[], opts: BatchOptions & DeleteOptions = {}): number {
    const chunk = opts.chunkSize ?? 1024;
    let deleted = 0;
    for (let start = 0; start < keys.length; start += chunk) {
      const n = Math.min(chunk, keys.length - start);
      const buffers = this.map.batch.reserve(n);
      for (let i = 0; i < n; i++) this.keyCodec.encode(keys[start + i]!, buffers.keys, i * this.keyCodec.size);
      deleted += this.map.batch.deleteReserved(n, opts.idempotent ?? false, start);
    }
    return deleted;
  }

  /**
   * Every entry, read with LOOKUP_BATCH; map types without batch lookup (EINVAL,
   * ENOTSUPP) fall back to a key walk.
   */
  getAll(opts: BatchOptions = {}): [K, V][] {
    this.requireSingleValue('getAll');
    const out: [K, V][] = [];
    try {
      this.map.batch.forEach(false, opts, (chunk) => {
        for (let i = 0; i < chunk.count; i++) {
          out.push([this.keyCodec.decode(chunk.keys, i * this.keyCodec.size), this.valueCodec.decode(chunk.values, i * this.valueCodec.size)]);
        }
      });
      return out;
    } catch (err) {
      if (out.length === 0 && (BpfError.is(err, 'EINVAL') || BpfError.is(err, 'ENOTSUPP') || BpfError.is(err, 'EOPNOTSUPP'))) {
        return [...this.entries()];
      }
      throw err;
    }
  }

  close(): void {
    this.map.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private requireSingleValue(method: string): void {
    if (this.map.perCpu) throw new TypeError(`map ${this.name} is per-CPU: use ${method === 'put' ? 'putPerCpu' : 'getPerCpu'}`);
  }

  private requirePerCpu(method: string): void {
    if (!this.map.perCpu) throw new TypeError(`map ${this.name}: ${method} needs a per-CPU map`);
  }
}
