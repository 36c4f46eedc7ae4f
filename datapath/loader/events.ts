// Drop and trace events from flg_events (RINGBUF). The record is struct
// flg_event (bpf/include/flagella/events.h). The layout generator covers map
// keys and values only and a ring buffer has neither, so the offsets are
// written here once (EVENT_FIELDS) and test/bpf/events-layout.test.ts checks
// them against the object's BTF: a change in C that is not made here fails.
import { RingBuffer, type BpfMap } from '../kernel/index.js';
import { reasonName } from './reasons.js';

/** Byte offset and size of every field of struct flg_event. */
export const EVENT_FIELDS = {
  timestamp_ns: [0, 8],
  type: [8, 1],
  reason: [9, 1],
  hook: [10, 1],
  proto: [11, 1],
  ifindex: [12, 4],
  len: [16, 4],
  saddr: [20, 4],
  daddr: [24, 4],
  sport: [28, 2],
  dport: [30, 2],
  backend_id: [32, 4],
  rev_nat_index: [36, 2],
  pad: [38, 2],
  src_identity: [40, 4],
  dst_identity: [44, 4],
} as const satisfies Record<string, readonly [number, number]>;
export const EVENT_SIZE = 48;

export type EventType = 'drop' | 'trace';
export type EventHook = 'tc-ingress' | 'tc-egress' | 'xdp' | 'unknown';

export interface DatapathEvent {
  type: EventType;
  /** Reason value (see Reason) and its name. */
  reason: number;
  reasonName: string;
  hook: EventHook;
  /** Monotonic kernel time (bpf_ktime_get_ns). */
  timestampNs: bigint;
  ifindex: number;
  /** Packet length in bytes. */
  length: number;
  proto: number;
  /** Addresses and ports as the packet arrived, before any rewrite. */
  saddr: string;
  daddr: string;
  sport: number;
  dport: number;
  /** 0 when no backend was chosen. */
  backendId: number;
  /** Service id (host order); 0 when none. */
  revNatIndex: number;
  /** Policy drops: security identities of the sender and the receiver; 0 otherwise. */
  srcIdentity: number;
  dstIdentity: number;
}

const HOOKS: Record<number, EventHook> = { 1: 'tc-ingress', 2: 'tc-egress', 3: 'xdp' };

function ip(buf: Buffer, offset: number): string {
  return `${buf[offset]}.${buf[offset + 1]}.${buf[offset + 2]}.${buf[offset + 3]}`;
}

/** Decodes one ring-buffer record. Throws RangeError for a short record. */
export function decodeEvent(record: Buffer): DatapathEvent {
  if (record.length < EVENT_SIZE) throw new RangeError(`flg_event record of ${record.length} bytes, expected ${EVENT_SIZE}`);
  const f = EVENT_FIELDS;
  const reason = record[f.reason[0]]!;
  return {
    type: record[f.type[0]] === 1 ? 'drop' : 'trace',
    reason,
    reasonName: reasonName(reason),
    hook: HOOKS[record[f.hook[0]]!] ?? 'unknown',
    timestampNs: record.readBigUInt64LE(f.timestamp_ns[0]),
    ifindex: record.readUInt32LE(f.ifindex[0]),
    length: record.readUInt32LE(f.len[0]),
    proto: record[f.proto[0]]!,
    saddr: ip(record, f.saddr[0]),
    daddr: ip(record, f.daddr[0]),
    sport: record.readUInt16BE(f.sport[0]),
    dport: record.readUInt16BE(f.dport[0]),
    backendId: record.readUInt32LE(f.backend_id[0]),
    revNatIndex: record.readUInt16BE(f.rev_nat_index[0]),
    srcIdentity: record.readUInt32LE(f.src_identity[0]),
    dstIdentity: record.readUInt32LE(f.dst_identity[0]),
  };
}

/**
 * Reads events from the pinned ring buffer. poll() drains synchronously;
 * start() delivers events as they arrive without blocking the event loop.
 * A full ring buffer drops new events in the kernel (never packets).
 */
export class EventReader implements Disposable {
  private readonly ring: RingBuffer;

  constructor(map: BpfMap) {
    this.ring = RingBuffer.open(map);
  }

  /** Every event waiting now (at most `limit`). */
  poll(limit = Infinity): DatapathEvent[] {
    const out: DatapathEvent[] = [];
    this.ring.consume((record) => out.push(decodeEvent(record)), limit);
    return out;
  }

  start(onEvent: (event: DatapathEvent) => void): void {
    this.ring.start((record) => onEvent(decodeEvent(record)), { intervalMs: 250 });
  }

  stop(): void {
    this.ring.stop();
  }

  close(): void {
    this.ring.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
