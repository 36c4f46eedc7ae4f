// Shared benchmark reporting. Every figure is printed next to a baseline
// measured in the same run, because these 2-core machines are noisy and
// absolute numbers from different runs are not comparable.
import { Bench } from 'tinybench';

export type Better = 'lower' | 'higher';

export interface Figure {
  /** What is measured, e.g. "insert, batch 100". */
  name: string;
  value: number;
  /** Unit of value, e.g. "ns/op", "ops/s", "B/row". */
  unit: string;
  better: Better;
  /** The same-run reference this figure is compared to. */
  baseline: { name: string; value: number };
  /** The target in words, e.g. "<= 4x Map.set". */
  target?: string;
}

export class Report {
  private readonly figures: Figure[] = [];
  constructor(readonly title: string) {}

  add(figure: Figure): void {
    this.figures.push(figure);
  }

  /** Prints an aligned table: figure, value, baseline, ratio, target. */
  print(out: (line: string) => void = (l) => process.stdout.write(`${l}\n`)): void {
    const rows = this.figures.map((f) => [
      f.name,
      `${fmt(f.value)} ${f.unit}`,
      `${f.baseline.name}: ${fmt(f.baseline.value)} ${f.unit}`,
      `${(f.value / f.baseline.value).toFixed(2)}x`,
      f.target ?? '',
    ]);
    const header = ['figure', 'value', 'baseline (same run)', 'ratio', 'target'];
    const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join('  ').trimEnd();
    out(`\n== ${this.title}`);
    out(line(header));
    for (const r of rows) out(line(r));
  }
}

export function fmt(v: number): string {
  if (!Number.isFinite(v)) return String(v);
  if (Math.abs(v) >= 1e6) return `${(v / 1e6).toFixed(2)}M`;
  if (Math.abs(v) >= 1e4) return `${(v / 1e3).toFixed(1)}k`;
  if (Math.abs(v) >= 100) return v.toFixed(0);
  return v.toFixed(2);
}

/**
 * Measures mean nanoseconds per call of each task with tinybench, in one
 * run, so tasks can be compared with each other. Each task should return a
 * value derived from its work so the optimiser cannot drop it.
 */
export async function nsPerOp(
  tasks: Record<string, () => unknown>,
  opts: { time?: number; warmupTime?: number } = {},
): Promise<Record<string, number>> {
  const bench = new Bench({ time: opts.time ?? 500, warmupTime: opts.warmupTime ?? 100 });
  let sink: unknown;
  for (const [name, fn] of Object.entries(tasks)) {
    bench.add(name, () => {
      sink = fn();
    });
  }
  await bench.run();
  if (sink === Symbol.for('never')) process.stdout.write('');
  const out: Record<string, number> = {};
  for (const task of bench.tasks) {
    const result = task.result;
    const mean = result && 'latency' in result ? result.latency.mean : undefined;
    if (mean === undefined) throw new Error(`benchmark task ${task.name} produced no result (${result?.state ?? 'not run'})`);
    out[task.name] = mean * 1e6; // tinybench reports milliseconds
  }
  return out;
}

/** Wall-clock nanoseconds of one call of fn (for bulk work measured once). */
export async function timeOnce(fn: () => unknown): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start);
}
