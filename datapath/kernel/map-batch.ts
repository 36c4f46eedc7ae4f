// Batch commands (UPDATE/DELETE/LOOKUP[_AND_DELETE]_BATCH) over long-lived buffers.
//
// Each map gets one set of batch buffers, grown on demand and kept for the map's life,
// so addresses are computed only when they grow. Callers either hand over packed keys
// and values (copied in chunk by chunk) or encode straight into `reserve(n)` buffers and
// call the *Reserved methods, which is what TypedMap does.
import { allocPinned, bpfSyscall, getU32, putU32, putU64, zeroAttr, type PinnedBytes } from './attr-arena.js';
import { BpfCmd } from './bpf-constants.js';
import { BpfError } from './bpf-error.js';

const BATCH_ATTR_SIZE = 56;
const ENOENT = 2;
const ENOSPC = 28;
const DEFAULT_CHUNK = 1024;
const MAX_CHUNK = 1 << 20;

export interface BatchOptions {
  /** Elements per syscall (default 1024; per-element kernel work dominates beyond ~1000). */
  chunkSize?: number;
}

/** Packed keys and values: element i's key is keys[i*keySize ..], its value values[i*valueBytes ..]. */
export interface BatchChunk {
  keys: Buffer;
  values: Buffer;
  count: number;
}

/** What a batch needs to know about its map. */
export interface BatchTarget {
  readonly fd: number;
  readonly name: string;
  readonly keySize: number;
  readonly valueBytes: number;
  readonly maxEntries: number;
}

export class MapBatch {
  private capacity = 0;
  private keyMem: PinnedBytes = allocPinned(0);
  private valueMem: PinnedBytes = allocPinned(0);
  private readonly tokens: PinnedBytes;
  private readonly tokenSlot: number;

  constructor(private readonly map: BatchTarget) {
    // The resume token is a bucket/index (u32) for hash and array maps and a key for
    // maps using the generic batch code (LPM trie): size it for either.
    this.tokenSlot = (Math.max(map.keySize, 8) + 7) & ~7;
    this.tokens = allocPinned(this.tokenSlot * 2);
  }

  /**
   * Ensures room for count elements and returns the long-lived key and value buffers
   * (at least count elements long). They stay valid until a later reserve grows them.
   */
  reserve(count: number): { keys: Buffer; values: Buffer } {
    if (count > this.capacity) {
      const capacity = Math.max(count, Math.min(this.capacity * 2, MAX_CHUNK));
      this.keyMem = allocPinned(capacity * this.map.keySize);
      this.valueMem = allocPinned(capacity * this.map.valueBytes);
      this.capacity = capacity;
    }
    return { keys: this.keyMem.buf, values: this.valueMem.buf };
  }

  /**
   * UPDATE_BATCH of the first count reserved elements. Throws BpfError (`map batch update`)
   * with `processed` = elements written before the failure.
   */
  updateReserved(count: number, elemFlags = 0, already = 0): void {
    const ret = this.call(BpfCmd.MAP_UPDATE_BATCH, 0, this.keyMem.addr, this.valueMem.addr, count, elemFlags);
    if (ret < 0) throw new BpfError('map batch update', this.map.name, -ret, { processed: already + getU32(32) });
  }

  /**
   * DELETE_BATCH of the first count reserved keys; returns how many were deleted. A
   * missing key stops the kernel's batch: with `idempotent` it is skipped and the rest
   * deleted, otherwise BpfError (ENOENT) is thrown with `processed`.
   */
  deleteReserved(count: number, idempotent = false, already = 0): number {
    let start = 0;
    let deleted = 0;
    while (start < count) {
      const addr = this.keyMem.addr + start * this.map.keySize;
      const ret = this.call(BpfCmd.MAP_DELETE_BATCH, 0, addr, 0, count - start, 0);
      const done = getU32(32);
      if (ret >= 0) return deleted + done;
      deleted += done;
      if (-ret !== ENOENT || !idempotent) {
        throw new BpfError('map batch delete', this.map.name, -ret, { processed: already + start + done });
      }
      start += done + 1; // skip the missing key
    }
    return deleted;
  }

  /**
   * Copies packed keys/values in chunk by chunk and inserts or replaces them (the kernel
   * accepts no NOEXIST/EXIST in batches, only BPF_F_LOCK as elemFlags); returns the count.
   */
  update(keys: Uint8Array, values: Uint8Array, opts: BatchOptions & { elemFlags?: number } = {}): number {
    const count = this.countOf(keys, this.map.keySize, 'keys');
    const valueCount = this.countOf(values, this.map.valueBytes, 'values');
    if (valueCount !== count) throw new RangeError(`map ${this.map.name}: ${count} keys but ${valueCount} values`);
    const flags = opts.elemFlags ?? 0;
    const chunk = this.chunkSize(opts);
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      const buffers = this.reserve(n);
      buffers.keys.set(keys.subarray(start * this.map.keySize, (start + n) * this.map.keySize));
      buffers.values.set(values.subarray(start * this.map.valueBytes, (start + n) * this.map.valueBytes));
      this.updateReserved(n, flags, start);
    }
    return count;
  }

  /** Deletes packed keys chunk by chunk; returns how many were deleted. */
  delete(keys: Uint8Array, opts: BatchOptions & { idempotent?: boolean } = {}): number {
    const count = this.countOf(keys, this.map.keySize, 'keys');
    const chunk = this.chunkSize(opts);
    let deleted = 0;
    for (let start = 0; start < count; start += chunk) {
      const n = Math.min(chunk, count - start);
      this.reserve(n).keys.set(keys.subarray(start * this.map.keySize, (start + n) * this.map.keySize));
      deleted += this.deleteReserved(n, opts.idempotent ?? false, start);
    }
    return deleted;
  }

  /** Dumps (and with andDelete, drains) the whole map into new packed Buffers. */
  dump(andDelete: boolean, opts: BatchOptions = {}): BatchChunk {
    const keyParts: Buffer[] = [];
    const valueParts: Buffer[] = [];
    let total = 0;
    this.forEach(andDelete, opts, (chunk) => {
      keyParts.push(Buffer.from(chunk.keys));
      valueParts.push(Buffer.from(chunk.values));
      total += chunk.count;
    });
    return { keys: Buffer.concat(keyParts), values: Buffer.concat(valueParts), count: total };
  }

  /**
   * Walks the map with LOOKUP_BATCH (or LOOKUP_AND_DELETE_BATCH), calling onChunk with
   * views into the batch buffers that are valid only during the call. The kernel's ENOENT
   * marks the end. Throws BpfError for other failures.
   */
  forEach(andDelete: boolean, opts: BatchOptions, onChunk: (chunk: BatchChunk) => void): void {
    const cmd = andDelete ? BpfCmd.MAP_LOOKUP_AND_DELETE_BATCH : BpfCmd.MAP_LOOKUP_BATCH;
    const op = andDelete ? 'map batch lookup and delete' : 'map batch lookup';
    let chunk = Math.min(this.chunkSize(opts), Math.max(1, this.map.maxEntries));
    let first = true;
    // Every call but the last returns at least one element; the bound only guards against a kernel bug.
    for (let calls = 0; calls <= this.map.maxEntries + 2; calls++) {
      const { keys, values } = this.reserve(chunk);
      const inAddr = first ? 0 : this.tokens.addr;
      const ret = this.call(cmd, inAddr, this.keyMem.addr, this.valueMem.addr, chunk, 0, this.tokens.addr + this.tokenSlot);
      const n = getU32(32);
      if (ret < 0 && -ret === ENOSPC && n === 0 && chunk < MAX_CHUNK) {
        chunk *= 2; // one bucket holds more entries than fit: retry from the same token
        continue;
      }
      if (ret < 0 && -ret !== ENOENT) throw new BpfError(op, this.map.name, -ret);
      if (n > 0) {
        onChunk({ keys: keys.subarray(0, n * this.map.keySize), values: values.subarray(0, n * this.map.valueBytes), count: n });
      }
      if (ret < 0) return; // ENOENT: no more elements
      this.tokens.buf.copy(this.tokens.buf, 0, this.tokenSlot, this.tokenSlot * 2);
      first = false;
    }
    throw new Error(`map ${this.map.name}: batch walk did not end after ${this.map.maxEntries + 2} calls`);
  }

  private call(cmd: number, inAddr: number, keysAddr: number, valuesAddr: number, count: number, elemFlags: number, outAddr = 0): number {
    zeroAttr(BATCH_ATTR_SIZE);
    putU64(0, inAddr);
    putU64(8, outAddr);
    putU64(16, keysAddr);
    putU64(24, valuesAddr);
    putU32(32, count);
    putU32(36, this.map.fd);
    putU64(40, elemFlags);
    return bpfSyscall(cmd, BATCH_ATTR_SIZE);
  }

  private countOf(bytes: Uint8Array, size: number, what: string): number {
    if (size === 0 || bytes.length % size !== 0) {
      throw new RangeError(`map ${this.map.name}: ${what} are ${bytes.length} bytes, not a multiple of ${size}`);
    }
    return bytes.length / size;
  }

  private chunkSize(opts: BatchOptions): number {
    const chunk = opts.chunkSize ?? DEFAULT_CHUNK;
    if (!Number.isInteger(chunk) || chunk < 1 || chunk > MAX_CHUNK) throw new RangeError(`batch chunkSize ${chunk} is not in 1..${MAX_CHUNK}`);
    return chunk;
  }
}
