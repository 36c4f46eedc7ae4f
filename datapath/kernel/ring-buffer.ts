// Consumer side of a BPF_MAP_TYPE_RINGBUF, read through mmap without libbpf.
//
// The map is mapped twice: one read-write page holding the consumer position, and a
// read-only region holding the producer position page followed by the data area,
// which the kernel maps twice in a row so a record that wraps is still contiguous.
// Each record has an 8-byte header (u32 length with BUSY/DISCARD bits, u32 page
// offset) and is padded to 8 bytes.
import koffi from 'koffi';
import { MapType } from './bpf-constants.js';
import type { BpfMap } from './bpf-map.js';
import { BpfError } from './bpf-error.js';
import { lastErrno, libc, MAP_SHARED, PROT_READ, PROT_WRITE } from './libc.js';

const BUSY = 0x80000000;
const DISCARD = 0x40000000;
const HEADER = 8;
const TWO_32 = 0x100000000;

export interface RingBufferStartOptions {
  /** Also drain on a timer (ms), in case a wakeup was suppressed (BPF_RB_NO_WAKEUP). */
  intervalMs?: number;
}

/**
 * Reads records from a ring buffer map. consume() drains synchronously; start() drains
 * whenever the map fd becomes readable (libuv poll, never blocking the event loop).
 */
export class RingBuffer implements Disposable {
  private readonly pageSize: number;
  private readonly dataSize: number;
  private readonly consumerAddr: number;
  private readonly producerAddr: number;
  private readonly consumerPos: Uint32Array;
  private readonly consumerPos64: BigUint64Array;
  private readonly producerPos: Uint32Array;
  private readonly data: Buffer;
  private readonly dataU32: Uint32Array;
  private poller: { close(): void } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private closed = false;

  private constructor(private readonly map: BpfMap) {
    const c = libc();
    this.pageSize = c.pageSize();
    this.dataSize = map.maxEntries;
    this.consumerAddr = c.mmap(0, this.pageSize, PROT_READ | PROT_WRITE, MAP_SHARED, map.fd, 0);
    if (this.consumerAddr === -1) throw new BpfError('ringbuf mmap', map.name, lastErrno());
    this.producerAddr = c.mmap(0, this.pageSize + 2 * this.dataSize, PROT_READ, MAP_SHARED, map.fd, this.pageSize);
    if (this.producerAddr === -1) {
      const errno = lastErrno();
      c.munmap(this.consumerAddr, this.pageSize);
      throw new BpfError('ringbuf mmap', map.name, errno);
    }
    const consumerView = koffi.view(this.consumerAddr, 8);
    this.consumerPos = new Uint32Array(consumerView);
    this.consumerPos64 = new BigUint64Array(consumerView);
    this.producerPos = new Uint32Array(koffi.view(this.producerAddr, 8));
    const dataView = koffi.view(this.producerAddr + this.pageSize, 2 * this.dataSize);
    this.data = Buffer.from(dataView);
    this.dataU32 = new Uint32Array(dataView);
  }

  /** Maps a RINGBUF map. Throws TypeError for other map types, BpfError when mmap fails. */
  static open(map: BpfMap): RingBuffer {
    if (map.type !== MapType.RINGBUF) throw new TypeError(`map ${map.name} is not a ring buffer`);
    return new RingBuffer(map);
  }

  /**
   * Delivers every committed record to onRecord, in order, and returns how many were
   * delivered (at most `limit`). The Buffer passed is a view into the ring, valid only
   * during the call: copy it to keep it. If onRecord throws, the record counts as
   * consumed and the error propagates.
   */
  consume(onRecord: (record: Buffer) => void, limit = Infinity): number {
    if (this.closed) throw new Error(`ring buffer ${this.map.name} is closed`);
    const mask = this.dataSize - 1;
    let delivered = 0;
    const start = readPos(this.consumerPos);
    let cons = start;
    try {
      for (;;) {
        const prod = readPos(this.producerPos);
        if (cons >= prod) return delivered;
        while (cons < prod) {
          if (delivered >= limit) return delivered;
          const off = cons & mask;
          const header = this.dataU32[off >>> 2]!;
          if (header & BUSY) return delivered; // reserved but not committed yet
          const len = (header & ~(BUSY | DISCARD)) >>> 0;
          cons += (len + HEADER + 7) & ~7;
          if (!(header & DISCARD)) {
            delivered++;
            onRecord(this.data.subarray(off + HEADER, off + HEADER + len));
          }
        }
        // Hand the space back before looking for more, so the producer can reuse it.
        this.writeConsumerPos(cons);
      }
    } finally {
      if (cons !== start) this.writeConsumerPos(cons);
    }
  }

  private writeConsumerPos(pos: number): void {
    // One 64-bit store: the kernel reads the position with a 64-bit acquire load.
    this.consumerPos64[0] = BigInt(pos);
  }

  /**
   * Drains now and then whenever the map fd is readable (and every intervalMs, if
   * given). Errors thrown by onRecord stop the consumer and are re-thrown from the
   * event loop. Idempotent: a second start replaces the callback.
   */
  start(onRecord: (record: Buffer) => void, opts: RingBufferStartOptions = {}): void {
    this.stop();
    const drain = (): void => {
      try {
        this.consume(onRecord);
      } catch (err) {
        this.stop();
        throw err;
      }
    };
    // koffi calls back with (status, events) although its typings say (events): drain
    // on any wakeup; a negative status is a libuv error on the fd.
    const onPoll = (status: unknown): void => {
      if (typeof status === 'number' && status < 0) {
        this.stop();
        throw new BpfError('ringbuf poll', this.map.name, -status);
      }
      drain();
    };
    this.poller = koffi.node.poll(this.map.fd, { readable: true }, onPoll);
    if (opts.intervalMs) this.timer = setInterval(drain, opts.intervalMs);
    drain();
  }

  /** Stops start()'s polling (idempotent). */
  stop(): void {
    this.poller?.close();
    this.poller = undefined;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Bytes committed but not yet consumed. */
  pending(): number {
    return readPos(this.producerPos) - readPos(this.consumerPos);
  }

  /** Stops and unmaps (idempotent). The map itself is not closed. */
  close(): void {
    if (this.closed) return;
    this.stop();
    this.closed = true;
    libc().munmap(this.consumerAddr, this.pageSize);
    libc().munmap(this.producerAddr, this.pageSize + 2 * this.dataSize);
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function readPos(words: Uint32Array): number {
  return words[1]! * TWO_32 + words[0]!;
}
