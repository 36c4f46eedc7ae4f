// A kernel map as bytes: element operations, iteration, pins and info.
//
// Hot path: each map owns long-lived key/value scratch memory whose addresses are
// taken once; a single-element operation writes eight u32 words of attr and makes one
// syscall, with no Buffer allocation, subarray or koffi.address per call. Callers that
// care encode straight into `keyScratch`/`valueScratch` and use the *Scratch methods;
// the convenience methods copy the caller's bytes in first.
import { allocPinned, arena, arenaU32, bpfSyscall, putU32, putU64, zeroAttr, type PinnedBytes } from './attr-arena.js';
import {
  BpfCmd,
  MAP_IN_MAP_TYPES,
  PERCPU_MAP_TYPES,
  mapTypeName,
  resolveMapType,
  updateFlag,
  type MapTypeName,
  type UpdateMode,
} from './bpf-constants.js';
import { BpfError } from './bpf-error.js';
import { MapBatch, type BatchChunk, type BatchOptions } from './map-batch.js';
import { mapInfoByFd, type MapInfo } from './obj-info.js';
import { perCpuStride, possibleCpuCount } from './per-cpu.js';
import { closeFd, fdById, objGet, objPin } from './pins.js';

const ENOENT = 2;
const ELEM_ATTR_SIZE = 32;
const CREATE_ATTR_SIZE = 72;
const TWO_32 = 0x100000000;

export interface MapCreateOptions {
  type: MapTypeName | number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  /** map_flags, e.g. MapFlag.NO_PREALLOC (required for LPM_TRIE). */
  flags?: number;
  /** Full name used in errors; the kernel keeps the first 15 characters. */
  name?: string;
  /** Template for ARRAY_OF_MAPS / HASH_OF_MAPS values. */
  innerMap?: BpfMap;
  numaNode?: number;
  mapExtra?: number;
}

export interface MapOpenOptions {
  /** Name used in errors (defaults to the kernel's, truncated to 15 characters). */
  name?: string;
  /** OpenFlag.RDONLY / WRONLY for OBJ_GET. */
  flags?: number;
}

export interface DeleteOptions {
  /** Treat ENOENT as success: delete returns false instead of throwing. */
  idempotent?: boolean;
}

/** The map's shape as the kernel reports it; fixed for the life of the map. */
export interface MapShape {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  id: number;
}

/** A kernel map addressed with raw bytes. Not thread-safe; all calls are synchronous. */
export class BpfMap implements Disposable {
  /** Key scratch (keySize bytes): the *Scratch methods use the key written here. */
  readonly keyScratch: Buffer;
  /** Value scratch: valueSize bytes, or one 8-aligned slot per possible CPU for per-CPU maps. */
  readonly valueScratch: Buffer;
  readonly type: number;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly id: number;
  readonly perCpu: boolean;
  /** Bytes of a full value as exchanged with the kernel (valueSize, or stride × CPUs). */
  readonly valueBytes: number;
  private fdValue: number;
  private readonly scratch: PinnedBytes;
  private readonly nextKeyScratch: Buffer;
  private readonly keyLo: number;
  private readonly keyHi: number;
  private readonly valueLo: number;
  private readonly valueHi: number;
  private readonly nextLo: number;
  private readonly nextHi: number;
  private batchOps: MapBatch | undefined;

  private constructor(
    fd: number,
    shape: MapShape,
    readonly name: string,
  ) {
    this.fdValue = fd;
    this.type = shape.type;
    this.keySize = shape.keySize;
    this.valueSize = shape.valueSize;
    this.maxEntries = shape.maxEntries;
    this.flags = shape.flags;
    this.id = shape.id;
    this.perCpu = PERCPU_MAP_TYPES.has(shape.type);
    this.valueBytes = this.perCpu ? perCpuStride(shape.valueSize) * possibleCpuCount() : shape.valueSize;
    const keySlot = align8(shape.keySize);
    this.scratch = allocPinned(keySlot * 2 + align8(this.valueBytes));
    this.keyScratch = this.scratch.buf.subarray(0, shape.keySize);
    this.nextKeyScratch = this.scratch.buf.subarray(keySlot, keySlot + shape.keySize);
    this.valueScratch = this.scratch.buf.subarray(keySlot * 2, keySlot * 2 + this.valueBytes);
    [this.keyLo, this.keyHi] = split(this.scratch.addr);
    [this.nextLo, this.nextHi] = split(this.scratch.addr + keySlot);
    [this.valueLo, this.valueHi] = split(this.scratch.addr + keySlot * 2);
  }

  /** The map's fd, or -1 once closed (operations then fail with EBADF). */
  get fd(): number {
    return this.fdValue;
  }

  /** Creates a map. Throws BpfError (`map create`): EPERM without privilege, EINVAL on a bad definition, ENOMEM. */
  static create(opts: MapCreateOptions): BpfMap {
    const type = resolveMapType(opts.type);
    const name = opts.name ?? '';
    zeroAttr(CREATE_ATTR_SIZE);
    putU32(0, type);
    putU32(4, opts.keySize);
    putU32(8, opts.valueSize);
    putU32(12, opts.maxEntries);
    putU32(16, opts.flags ?? 0);
    putU32(20, opts.innerMap ? opts.innerMap.fd : 0);
    putU32(24, opts.numaNode ?? 0);
    writeObjName(28, name);
    putU64(64, opts.mapExtra ?? 0);
    const fd = bpfSyscall(BpfCmd.MAP_CREATE, CREATE_ATTR_SIZE);
    if (fd < 0) {
      const detail = `${mapTypeName(type)} key ${opts.keySize} value ${opts.valueSize} max ${opts.maxEntries} flags ${opts.flags ?? 0}`;
      throw new BpfError('map create', name, -fd, { detail });
    }
    return BpfMap.adopt(fd, name);
  }

  /** Opens a pinned map (OBJ_GET). Throws BpfError (`obj get`): ENOENT when there is no such pin. */
  static openPinned(path: string, opts: MapOpenOptions = {}): BpfMap {
    return BpfMap.adopt(objGet(path, 'map', opts.flags ?? 0), opts.name);
  }

  /** Opens a map by kernel id (e.g. an inner map id read from a map-of-maps). */
  static fromId(id: number, opts: MapOpenOptions = {}): BpfMap {
    return BpfMap.adopt(fdById(BpfCmd.MAP_GET_FD_BY_ID, id, 'map', opts.flags ?? 0), opts.name);
  }

  /**
   * Wraps an fd this map will own (closed by close()). Reads the map's shape from the
   * kernel; throws BpfError when fd is not a map.
   */
  static adopt(fd: number, name?: string): BpfMap {
    let info: MapInfo;
    try {
      info = mapInfoByFd(fd, name ?? '');
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    return new BpfMap(fd, info, name || info.name);
  }

  // ---- scratch operations: the hot path ----

  /**
   * Looks up the key in keyScratch; on a hit the value is in valueScratch and true is
   * returned, on ENOENT false. Other errors throw BpfError (`map lookup`).
   */
  lookupScratch(): boolean {
    const ret = this.elemOp(BpfCmd.MAP_LOOKUP_ELEM, this.valueLo, this.valueHi, 0);
    if (ret >= 0) return true;
    if (ret === -ENOENT) return false;
    throw new BpfError('map lookup', this.name, -ret);
  }

  /** Writes keyScratch → valueScratch. Throws BpfError (`map update`): E2BIG map full, EEXIST, ENOENT. */
  updateScratch(flags = 0): void {
    const ret = this.elemOp(BpfCmd.MAP_UPDATE_ELEM, this.valueLo, this.valueHi, flags);
    if (ret < 0) throw new BpfError('map update', this.name, -ret);
  }

  /** Deletes the key in keyScratch: true when deleted; false on ENOENT if idempotent, else throws. */
  deleteScratch(idempotent = false): boolean {
    const ret = this.elemOp(BpfCmd.MAP_DELETE_ELEM, 0, 0, 0);
    if (ret >= 0) return true;
    if (ret === -ENOENT && idempotent) return false;
    throw new BpfError('map delete', this.name, -ret);
  }

  /** Looks up and removes keyScratch (queues, stacks, hash maps): true on a hit with the value in valueScratch. */
  lookupAndDeleteScratch(): boolean {
    const ret = this.elemOp(BpfCmd.MAP_LOOKUP_AND_DELETE_ELEM, this.valueLo, this.valueHi, 0);
    if (ret >= 0) return true;
    if (ret === -ENOENT) return false;
    throw new BpfError('map lookup and delete', this.name, -ret);
  }

  private elemOp(cmd: number, valueLo: number, valueHi: number, flags: number): number {
    const attr = arenaU32;
    attr[0] = this.fdValue;
    attr[1] = 0;
    attr[2] = this.keyLo;
    attr[3] = this.keyHi;
    attr[4] = valueLo;
    attr[5] = valueHi;
    attr[6] = flags;
    attr[7] = 0;
    return bpfSyscall(cmd, ELEM_ATTR_SIZE);
  }

  // ---- convenience element operations (copy the caller's bytes) ----

  /**
   * Returns the value for key, or undefined. With `out` the value is copied into it
   * (no allocation) and `out` is returned; without, a new Buffer is returned.
   */
  lookup(key: Uint8Array, out?: Uint8Array): Uint8Array | undefined {
    this.setKey(key);
    if (!this.lookupScratch()) return undefined;
    if (out) {
      out.set(this.valueScratch);
      return out;
    }
    return Buffer.from(this.valueScratch);
  }

  has(key: Uint8Array): boolean {
    this.setKey(key);
    return this.lookupScratch();
  }

  /** Inserts or replaces (`any`), inserts only (`noexist`: EEXIST if present) or replaces only (`exist`: ENOENT if absent). */
  update(key: Uint8Array, value: Uint8Array, mode: UpdateMode | number = 'any'): void {
    this.setKey(key);
    if (value.length !== this.valueBytes) throw sizeError(this.name, 'value', value.length, this.valueBytes);
    this.valueScratch.set(value);
    this.updateScratch(updateFlag(mode));
  }

  /** Deletes key: true when it existed. ENOENT throws unless `{ idempotent: true }` (then false). */
  delete(key: Uint8Array, opts: DeleteOptions = {}): boolean {
    this.setKey(key);
    return this.deleteScratch(opts.idempotent ?? false);
  }

  /** Looks up and deletes key atomically; returns a copy of the value or undefined. */
  lookupAndDelete(key: Uint8Array): Buffer | undefined {
    this.setKey(key);
    return this.lookupAndDeleteScratch() ? Buffer.from(this.valueScratch) : undefined;
  }

  /** Per-CPU maps: one copy of the value per possible CPU, or undefined. */
  lookupPerCpu(key: Uint8Array): Buffer[] | undefined {
    this.requirePerCpu('lookupPerCpu');
    this.setKey(key);
    if (!this.lookupScratch()) return undefined;
    const stride = perCpuStride(this.valueSize);
    const out: Buffer[] = [];
    for (let off = 0; off < this.valueBytes; off += stride) {
      out.push(Buffer.from(this.valueScratch.subarray(off, off + this.valueSize)));
    }
    return out;
  }

  /** Per-CPU maps: writes one value per possible CPU (or the same value to every CPU). */
  updatePerCpu(key: Uint8Array, values: Uint8Array | readonly Uint8Array[], mode: UpdateMode | number = 'any'): void {
    this.requirePerCpu('updatePerCpu');
    this.setKey(key);
    const stride = perCpuStride(this.valueSize);
    const cpus = this.valueBytes / stride;
    const list = values instanceof Uint8Array ? undefined : values;
    if (list && list.length !== cpus) throw new RangeError(`map ${this.name}: ${list.length} per-CPU values for ${cpus} possible CPUs`);
    this.valueScratch.fill(0);
    for (let cpu = 0; cpu < cpus; cpu++) {
      const v = list ? list[cpu]! : (values as Uint8Array);
      if (v.length !== this.valueSize) throw sizeError(this.name, 'value', v.length, this.valueSize);
      this.valueScratch.set(v, cpu * stride);
    }
    this.updateScratch(updateFlag(mode));
  }

  /** Maps of maps: stores inner (its fd) at key. */
  setInnerMap(key: Uint8Array, inner: BpfMap, mode: UpdateMode | number = 'any'): void {
    this.requireMapInMap();
    this.setKey(key);
    this.valueScratch.writeUInt32LE(inner.fd, 0);
    this.updateScratch(updateFlag(mode));
  }

  /** Maps of maps: the kernel id of the inner map at key, or undefined. Open it with BpfMap.fromId. */
  innerMapId(key: Uint8Array): number | undefined {
    this.requireMapInMap();
    this.setKey(key);
    return this.lookupScratch() ? this.valueScratch.readUInt32LE(0) : undefined;
  }

  /** Copies key into keyScratch; throws a RangeError on a wrong size. */
  setKey(key: Uint8Array): void {
    if (key.length !== this.keySize) throw sizeError(this.name, 'key', key.length, this.keySize);
    this.keyScratch.set(key);
  }

  // ---- iteration ----

  /**
   * Iterates keys with GET_NEXT_KEY, yielding copies. The next key is fetched before the
   * current one is yielded, so deleting the yielded key is safe; other concurrent changes
   * may make a hash walk restart or skip (collect keys first when that matters).
   */
  *keys(): Generator<Buffer, void, undefined> {
    let next = this.nextKey(undefined);
    while (next) {
      const current = next;
      next = this.nextKey(current);
      yield current;
    }
  }

  /** Iterates [key, value] copies; keys deleted between the walk and the lookup are skipped. */
  *entries(): Generator<[Buffer, Buffer], void, undefined> {
    for (const key of this.keys()) {
      this.keyScratch.set(key);
      if (this.lookupScratch()) yield [key, Buffer.from(this.valueScratch)];
    }
  }

  private nextKey(prev: Buffer | undefined): Buffer | undefined {
    if (prev) this.keyScratch.set(prev);
    const attr = arenaU32;
    attr[0] = this.fdValue;
    attr[1] = 0;
    attr[2] = prev ? this.keyLo : 0;
    attr[3] = prev ? this.keyHi : 0;
    attr[4] = this.nextLo;
    attr[5] = this.nextHi;
    attr[6] = 0;
    attr[7] = 0;
    const ret = bpfSyscall(BpfCmd.MAP_GET_NEXT_KEY, ELEM_ATTR_SIZE);
    if (ret === -ENOENT) return undefined;
    if (ret < 0) throw new BpfError('map get next key', this.name, -ret);
    return Buffer.from(this.nextKeyScratch);
  }

  // ---- batch operations ----

  /** Long-lived batch buffers and the batch commands (grown on demand). */
  get batch(): MapBatch {
    this.batchOps ??= new MapBatch(this);
    return this.batchOps;
  }

  /**
   * Inserts or replaces count = keys.length / keySize elements with UPDATE_BATCH in
   * chunks (batches have no NOEXIST/EXIST). Returns the count. Throws BpfError
   * (`map batch update`) whose `processed` says how many were written before the failure
   * (E2BIG: map full).
   */
  updateBatch(keys: Uint8Array, values: Uint8Array, opts: BatchOptions & { elemFlags?: number } = {}): number {
    return this.batch.update(keys, values, opts);
  }

  /** Deletes the keys with DELETE_BATCH; returns how many were deleted (idempotent skips missing keys). */
  deleteBatch(keys: Uint8Array, opts: BatchOptions & DeleteOptions = {}): number {
    return this.batch.delete(keys, opts);
  }

  /** Dumps the whole map with LOOKUP_BATCH into new packed key and value Buffers. */
  lookupBatch(opts: BatchOptions = {}): BatchChunk {
    return this.batch.dump(false, opts);
  }

  /** Dumps and removes every element with LOOKUP_AND_DELETE_BATCH. */
  lookupAndDeleteBatch(opts: BatchOptions = {}): BatchChunk {
    return this.batch.dump(true, opts);
  }

  // ---- object management ----

  /** Pins the map at path. Throws BpfError (`map pin`): EEXIST, ENOENT (no directory), EPERM (not bpffs). */
  pin(path: string): void {
    objPin(this.fdValue, path, 'map', this.name);
  }

  /** The kernel's current view of the map. */
  info(): MapInfo {
    return mapInfoByFd(this.fdValue, this.name);
  }

  /** Closes the fd (idempotent). The map lives on while pinned or used by a program. */
  close(): void {
    closeFd(this.fdValue);
    this.fdValue = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private requirePerCpu(method: string): void {
    if (!this.perCpu) throw new TypeError(`map ${this.name}: ${method} needs a per-CPU map (this is ${mapTypeName(this.type)})`);
  }

  private requireMapInMap(): void {
    if (!MAP_IN_MAP_TYPES.has(this.type)) throw new TypeError(`map ${this.name}: not a map of maps (${mapTypeName(this.type)})`);
  }
}

/** Writes a kernel object name (at most 15 bytes of [A-Za-z0-9_.]) into attr. */
export function writeObjName(offset: number, name: string): void {
  arena.write(name.replace(/[^A-Za-z0-9_.]/g, '_').slice(0, 15), offset, 'latin1');
}

function split(addr: number): [number, number] {
  return [addr % TWO_32, Math.floor(addr / TWO_32)];
}

function align8(n: number): number {
  return (n + 7) & ~7;
}

function sizeError(name: string, what: string, got: number, want: number): RangeError {
  return new RangeError(`map ${name}: ${what} is ${got} bytes, the map's ${what} size is ${want}`);
}
