// Ring buffer consumption and per-CPU counters, fed by a fixture program run with
// BPF_PROG_TEST_RUN.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BpfMap} from '../../datapath/index.js';
import { BpfObject, RingBuffer, possibleCpuCount, type BpfProgram } from '../../datapath/index.js';
import { compileBpf, tempPinRoot } from './fixtures/kernel-fixtures.js';

const fixture = compileBpf('kernel-fixture.c');
const RECORD_BYTES = 24; // 16-byte event + 8-byte header (already 8-aligned)

interface Event {
  seq: number;
  len: number;
  tag: bigint;
}

/** A test packet whose first 4 bytes carry the sequence number the program reports. */
function packet(seq: number, length = 64): Buffer {
  const data = Buffer.alloc(length);
  data.writeUInt32LE(seq, 0);
  return data;
}

function decode(record: Buffer): Event {
  return { seq: record.readUInt32LE(0), len: record.readUInt32LE(4), tag: record.readBigUInt64LE(8) };
}

function setup(): { obj: BpfObject; prog: BpfProgram; events: BpfMap; counters: BpfMap; ring: RingBuffer } {
  const obj = BpfObject.load(fixture, { pinRoot: tempPinRoot() });
  const prog = obj.program('fx_xdp_count');
  const events = obj.map('fx_events');
  const counters = obj.map('fx_counters');
  return { obj, prog, events, counters, ring: RingBuffer.open(events) };
}

function teardown(s: ReturnType<typeof setup>): void {
  s.ring.close();
  s.events.close();
  s.counters.close();
  s.prog.close();
  s.obj.close();
}

const ring = suite('kernel ring buffer and per-CPU maps');

ring('events emitted by test runs are read back in order', () => {
  const s = setup();
  try {
    for (let i = 0; i < 5; i++) s.prog.testRun({ data: packet(i + 1, 60 + i) });
    assert.is(s.ring.pending(), 5 * RECORD_BYTES);
    const got: Event[] = [];
    assert.is(s.ring.consume((r) => got.push(decode(r))), 5);
    assert.equal(got.map((e) => e.seq), [1, 2, 3, 4, 5]);
    assert.equal(got.map((e) => e.len), [60, 61, 62, 63, 64]);
    assert.ok(got.every((e) => e.tag === 0xf1a6e11an));
    assert.is(s.ring.pending(), 0);
    assert.is(s.ring.consume(() => assert.unreachable('nothing left')), 0);
  } finally {
    teardown(s);
  }
});

ring('records wrap around the ring many times without loss; limit stops early', () => {
  const s = setup();
  try {
    const seqs: number[] = [];
    let next = 1;
    for (let round = 0; round < 20; round++) {
      for (let i = 0; i < 50; i++) s.prog.testRun({ data: packet(next++) });
      assert.is(s.ring.consume((r) => seqs.push(decode(r).seq), 10), 10);
      s.ring.consume((r) => seqs.push(decode(r).seq));
    }
    assert.equal(seqs, Array.from({ length: 1000 }, (_, i) => i + 1));
  } finally {
    teardown(s);
  }
});

ring('a full ring drops new events in the kernel; the consumer sees a gap-free prefix', () => {
  const s = setup();
  try {
    const capacity = Math.floor(s.events.maxEntries / RECORD_BYTES);
    for (let i = 0; i < capacity + 50; i++) s.prog.testRun({ data: packet(i + 1) });
    const seqs: number[] = [];
    s.ring.consume((r) => seqs.push(decode(r).seq));
    assert.equal(seqs, Array.from({ length: capacity }, (_, i) => i + 1));
  } finally {
    teardown(s);
  }
});

ring('start() drains on fd readiness without blocking the event loop', async () => {
  const s = setup();
  try {
    const got: number[] = [];
    let wake: () => void = () => undefined;
    const done = new Promise<void>((resolve) => (wake = resolve));
    s.ring.start((r) => {
      got.push(decode(r).seq);
      if (got.length === 3) wake();
    });
    for (let i = 0; i < 3; i++) s.prog.testRun({ data: packet(i + 1) });
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<void>((_, reject) => (timer = setTimeout(() => reject(new Error(`only ${got.length} events arrived`)), 5000)));
    try {
      await Promise.race([done, timeout]);
    } finally {
      clearTimeout(timer);
    }
    assert.equal(got, [1, 2, 3]);
    s.ring.stop();
    s.ring.stop(); // idempotent
  } finally {
    teardown(s);
  }
});

ring('per-CPU counters: one slot per possible CPU, summing to the runs', () => {
  const s = setup();
  try {
    for (let i = 0; i < 7; i++) s.prog.testRun({ data: Buffer.alloc(64) });
    const slots = s.counters.lookupPerCpu(Buffer.alloc(4));
    assert.ok(slots);
    assert.is(slots.length, possibleCpuCount());
    assert.is(slots.reduce((sum, b) => sum + b.readBigUInt64LE(0), 0n), 7n);
  } finally {
    teardown(s);
  }
});

ring('opening a non-ringbuf map is a TypeError; a closed ring refuses to consume', () => {
  const s = setup();
  try {
    assert.throws(() => RingBuffer.open(s.counters), /not a ring buffer/);
    s.ring.close();
    s.ring.close();
    assert.throws(() => s.ring.consume(() => undefined), /closed/);
  } finally {
    teardown(s);
  }
});

ring.run();
