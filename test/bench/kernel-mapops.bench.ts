// Map operations from TypeScript (datapath/kernel over koffi) against the same
// operations from C (test/bench/c/mapops.c, compiled with gcc now), in the same run and
// with the same map shape: HASH, 8-byte key, 16-byte value, 65536 entries. Both sides
// measure wall-clock time and the calling thread's CPU time; the CPU-time figures are
// the ones to compare on a shared machine, where other processes stretch wall time.
// C and TypeScript alternate phase by phase (single ops, then batches), and which of
// the two goes first alternates between repetitions; each figure is the median of 9.
// Targets (issue 3): batched within 10% of C, single within 1.5x of C.
import { execFileSync } from 'node:child_process';
import koffi from 'koffi';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { BpfMap, checkU32, dataView, TypedMap, type Codec } from '../../datapath/index.js';
import { Report } from './harness.js';

const ENTRIES = 65536;
const UPDATES = 100_000;
const LOOKUPS = 100_000;
const CHUNK = 1000;
const REPS = 9;

type Figure = 'update' | 'lookup' | 'delete' | 'batch-update' | 'batch-lookup' | 'batch-delete' | 'typed-put' | 'typed-put-batch';
/** Per figure: [wall ns, thread CPU ns] per element. */
type Results = Record<string, [number, number]>;

const CLOCK_THREAD_CPUTIME_ID = 3;
const clockGettime = koffi.load('libc.so.6').func('int clock_gettime(int clk, void *ts)');
const timespec = Buffer.alloc(16);
function threadCpuNs(): number {
  clockGettime(CLOCK_THREAD_CPUTIME_ID, timespec);
  return Number(timespec.readBigInt64LE(0)) * 1e9 + Number(timespec.readBigInt64LE(8));
}

const here = dirname(fileURLToPath(import.meta.url));
const work = mkdtempSync(join(tmpdir(), 'flagella-mapops-'));
const cProgram = join(work, 'mapops');
execFileSync('gcc', ['-O2', '-Wall', '-o', cProgram, join(here, 'c', 'mapops.c')], { stdio: 'inherit' });

function runC(phase: 'single' | 'batch', out: Results): void {
  for (const line of execFileSync(cProgram, [phase], { encoding: 'utf8' }).trim().split('\n')) {
    const [name, wall, cpu] = line.split(' ');
    out[name!] = [Number(wall), Number(cpu)];
  }
}

const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * A fresh map, after letting the kernel finish freeing maps closed just before
 * (deferred work on the other CPU); the C program does the same.
 */
function newMap(): BpfMap {
  const map = BpfMap.create({ type: 'HASH', keySize: 8, valueSize: 16, maxEntries: ENTRIES, name: 'flg_bench' });
  Atomics.wait(pause, 0, 0, 50);
  return map;
}

function timed(count: number, fn: () => void): [number, number] {
  const wall = process.hrtime.bigint();
  const cpu = threadCpuNs();
  fn();
  const cpuEnd = threadCpuNs();
  return [Number(process.hrtime.bigint() - wall) / count, (cpuEnd - cpu) / count];
}

/**
 * Collects garbage before a group of phases (never between phases: a collection walks
 * the heap and evicts the map from the caches, which the C side never pays).
 */
function gc(): void {
  (globalThis as { gc?: () => void }).gc?.();
}

/** The best single-element path: write into the map's scratch buffers, one syscall. */
function tsSingle(out: Results): void {
  gc();
  using map = newMap();
  const key = new Uint32Array(map.keyScratch.buffer, map.keyScratch.byteOffset, 2);
  const value = new Uint32Array(map.valueScratch.buffer, map.valueScratch.byteOffset, 4);
  out.update = timed(UPDATES, () => {
    for (let i = 0; i < UPDATES; i++) {
      key[0] = i % ENTRIES;
      value[0] = i;
      map.updateScratch(0);
    }
  });
  out.lookup = timed(LOOKUPS, () => {
    for (let i = 0; i < LOOKUPS; i++) {
      key[0] = i % ENTRIES;
      if (!map.lookupScratch()) throw new Error('lookup missed');
    }
  });
  out.delete = timed(ENTRIES, () => {
    for (let i = 0; i < ENTRIES; i++) {
      key[0] = i;
      map.deleteScratch();
    }
  });
}

/**
 * Batches: fill the long-lived batch buffers through u32 views (as the C program fills
 * its arrays), one syscall per chunk; walk with zero-copy views.
 */
function tsBatch(out: Results): void {
  gc();
  using map = newMap();
  const batch = map.batch;
  const { keys, values } = batch.reserve(CHUNK); // capacity stays: the buffers are reused
  const keys32 = new Uint32Array(keys.buffer, keys.byteOffset, CHUNK * 2);
  const values32 = new Uint32Array(values.buffer, values.byteOffset, CHUNK * 4);
  out['batch-update'] = timed(UPDATES, () => {
    for (let done = 0; done < UPDATES; done += CHUNK) {
      for (let i = 0; i < CHUNK; i++) {
        keys32[i * 2] = (done + i) % ENTRIES;
        keys32[i * 2 + 1] = 0;
        values32[i * 4] = done + i;
      }
      batch.updateReserved(CHUNK);
    }
  });
  let total = 0;
  out['batch-lookup'] = timed(ENTRIES, () => {
    batch.forEach(false, { chunkSize: CHUNK }, (chunk) => {
      total += chunk.count;
    });
  });
  if (total !== ENTRIES) throw new Error(`batch lookup returned ${total}`);
  out['batch-delete'] = timed(ENTRIES, () => {
    for (let done = 0; done < ENTRIES; done += CHUNK) {
      const n = Math.min(CHUNK, ENTRIES - done);
      for (let i = 0; i < n; i++) {
        keys32[i * 2] = done + i;
        keys32[i * 2 + 1] = 0;
      }
      batch.deleteReserved(n);
    }
  });
}

interface BenchKey {
  id: number;
}
interface BenchValue {
  a: number;
  b: number;
  c: number;
  d: number;
}
// Straight-line codecs of the shape scripts/gen-layouts.ts generates (DataView plus
// range checks).
const keyCodec: Codec<BenchKey> = {
  name: 'struct bench_key',
  size: 8,
  encode(v, buf, o = 0) {
    const d = dataView(buf);
    d.setUint32(o, checkU32(v.id, 'bench_key.id'), true);
    d.setUint32(o + 4, 0);
  },
  decode(buf, o = 0) {
    return { id: dataView(buf).getUint32(o, true) };
  },
};
const valueCodec: Codec<BenchValue> = {
  name: 'struct bench_value',
  size: 16,
  encode(v, buf, o = 0) {
    const d = dataView(buf);
    d.setUint32(o, checkU32(v.a, 'bench_value.a'), true);
    d.setUint32(o + 4, checkU32(v.b, 'bench_value.b'), true);
    d.setUint32(o + 8, checkU32(v.c, 'bench_value.c'), true);
    d.setUint32(o + 12, checkU32(v.d, 'bench_value.d'), true);
  },
  decode(buf, o = 0) {
    const d = dataView(buf);
    return { a: d.getUint32(o, true), b: d.getUint32(o + 4, true), c: d.getUint32(o + 8, true), d: d.getUint32(o + 12, true) };
  },
};

/** TypedMap with plain objects: what the reconciler operations will use. */
function tsTyped(out: Results): void {
  {
    using typed = new TypedMap(newMap(), keyCodec, valueCodec);
    const keys = Array.from({ length: UPDATES }, (_, i) => ({ id: i % ENTRIES }));
    const values = Array.from({ length: UPDATES }, (_, i) => ({ a: i, b: 0, c: 0, d: 0 }));
    out['typed-put'] = timed(UPDATES, () => {
      for (let i = 0; i < UPDATES; i++) typed.put(keys[i]!, values[i]!);
    });
  }
  using typed = new TypedMap(newMap(), keyCodec, valueCodec);
  const entries = Array.from({ length: UPDATES }, (_, i) => [{ id: i % ENTRIES }, { a: i, b: 0, c: 0, d: 0 }] as const);
  out['typed-put-batch'] = timed(UPDATES, () => {
    typed.putBatch(entries, { chunkSize: CHUNK });
  });
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)]!;
}

try {
  const cRuns: Results[] = [];
  const tsRuns: Results[] = [];
  for (let rep = 0; rep < REPS; rep++) {
    const cOut: Results = {};
    const tsOut: Results = {};
    const pairs: [() => void, () => void][] = [
      [() => runC('single', cOut), () => tsSingle(tsOut)],
      [() => runC('batch', cOut), () => tsBatch(tsOut)],
    ];
    for (const [c, ts] of pairs) {
      if (rep % 2 === 0) {
        c();
        ts();
      } else {
        ts();
        c();
      }
    }
    tsTyped(tsOut);
    cRuns.push(cOut);
    tsRuns.push(tsOut);
  }
  const c = (name: string, clock: 0 | 1): number => median(cRuns.map((r) => r[name]![clock]));
  const ts = (name: Figure, clock: 0 | 1): number => median(tsRuns.map((r) => r[name]![clock]));
  const rows: [string, Figure, string, string][] = [
    ['single update (100k, 65536 inserts + overwrites)', 'update', 'update', '<= 1.5x C'],
    ['single lookup (100k hits)', 'lookup', 'lookup', '<= 1.5x C'],
    ['single delete (65536)', 'delete', 'delete', '<= 1.5x C'],
    ['batch update, chunks of 1000 (100k)', 'batch-update', 'batch-update', '<= 1.1x C'],
    ['batch lookup, chunks of 1000 (dump 65536)', 'batch-lookup', 'batch-lookup', '<= 1.1x C'],
    ['batch delete, chunks of 1000 (65536)', 'batch-delete', 'batch-delete', '<= 1.1x C'],
    ['TypedMap.put, plain objects (100k)', 'typed-put', 'update', 'informative'],
    ['TypedMap.putBatch, plain objects (100k)', 'typed-put-batch', 'batch-update', 'informative'],
  ];
  const report = new Report('kernel map operations: TypeScript (koffi) vs C, HASH 8B key / 16B value / 65536 entries (2-core noisy VM, median of 9)');
  for (const [clock, label] of [[1, 'thread CPU'], [0, 'wall']] as const) {
    for (const [name, figure, cName, target] of rows) {
      report.add({ name: `${name} [${label}]`, value: ts(figure, clock), unit: 'ns/elem', better: 'lower', baseline: { name: `C ${cName}`, value: c(cName, clock) }, target });
    }
  }
  report.print();
} finally {
  rmSync(work, { recursive: true, force: true });
}
