// The load-balancing pipeline assembled for tests: a DB with the LB tables,
// the writer, LBOperations on some maps (in memory or the kernel's, with
// optional fault injection and write counting), and the reconciler; plus
// helpers to apply Kubernetes objects and wait until every frontend is
// reconciled with no retry pending.
import { rmSync } from 'node:fs';
import {
  countingLBMaps,
  faultyLBMaps,
  formatLBDump,
  kernelLBMaps,
  LBOperations,
  loadDatapath,
  memoryLBMaps,
  newLBReconciler,
  type CountingLBMaps,
  type Datapath,
  type FaultyLBMaps,
  type LBMaps,
  type LBOperationsOptions,
} from '../../datapath/index.js';
import type { Reconciler } from '../../reconcilers/index.js';
import { DB, formatRows } from '../../statedb/index.js';
import { LBWriter, newLBTables, type Frontend, type LBObjectChange, type LBTables } from '../../tables/index.js';
import { tempPinRoot } from '../support/datapath-fixture.js';

export type TargetKind = 'memory' | 'kernel';

export interface PipelineOptions {
  readonly target: TargetKind;
  /** Fail map writes with this probability (seeded); default 0. */
  readonly faultProbability?: number;
  readonly faultSeed?: number;
  readonly nodeName?: string;
  readonly maglevTableSize?: number;
  readonly ops?: Omit<LBOperationsOptions, 'tables' | 'maps'>;
  /** Kubernetes NodePort frontends; default true. */
  readonly nodePort?: boolean;
}

/** The maps under test: created once, kept across restarts of the pipeline. */
export class MapsUnderTest {
  readonly raw: LBMaps;
  /** What the operations write through: faults (if any) inside the write counter. */
  readonly counting: CountingLBMaps;
  readonly faulty: FaultyLBMaps | undefined;

  private constructor(
    raw: LBMaps,
    private readonly dp: Datapath | undefined,
    private readonly pinRoot: string | undefined,
    faultProbability: number,
    faultSeed: number,
  ) {
    this.raw = raw;
    this.faulty = faultProbability > 0 ? faultyLBMaps(raw, { probability: faultProbability, seed: faultSeed }) : undefined;
    this.counting = countingLBMaps(this.faulty ?? raw);
  }

  static create(opts: PipelineOptions): MapsUnderTest {
    const size = opts.maglevTableSize ?? 1021;
    if (opts.target === 'memory') {
      return new MapsUnderTest(memoryLBMaps({ maglevTableSize: size }), undefined, undefined, opts.faultProbability ?? 0, opts.faultSeed ?? 1);
    }
    const pinRoot = tempPinRoot('lb');
    try {
      const dp = loadDatapath({ pinRoot, config: { maglevTableSize: size } });
      return new MapsUnderTest(kernelLBMaps(dp), dp, pinRoot, opts.faultProbability ?? 0, opts.faultSeed ?? 1);
    } catch (err) {
      rmSync(pinRoot, { recursive: true, force: true });
      throw err;
    }
  }

  get datapath(): Datapath | undefined {
    return this.dp;
  }

  dump(): string {
    return formatLBDump(this.raw);
  }

  /** Closes the datapath and removes its pins (kernel target). */
  dispose(): void {
    if (this.dp === undefined) return;
    try {
      this.dp.detachAll();
    } finally {
      this.dp.close();
      if (this.pinRoot !== undefined) rmSync(this.pinRoot, { recursive: true, force: true });
    }
  }
}

/** One agent's worth of the pipeline over some maps. */
export class Pipeline {
  readonly db = new DB();
  readonly tables: LBTables;
  readonly writer: LBWriter;
  readonly ops: LBOperations;
  readonly reconciler: Reconciler<Frontend>;

  constructor(
    readonly maps: MapsUnderTest,
    opts: PipelineOptions,
  ) {
    this.tables = newLBTables(this.db);
    this.writer = new LBWriter(this.db, this.tables, { nodeName: opts.nodeName ?? 'testnode', nodePort: opts.nodePort ?? true });
    this.ops = new LBOperations({ tables: this.tables, maps: maps.counting, ...opts.ops });
    this.reconciler = newLBReconciler({
      db: this.db,
      tables: this.tables,
      operations: this.ops,
      retry: { minMs: 1, maxMs: 8, jitter: 0 },
      roundRate: { perSecond: Infinity },
      refreshIntervalMs: 0,
    });
  }

  start(): this {
    this.reconciler.start();
    return this;
  }

  apply(changes: readonly LBObjectChange[]): string[] {
    return this.writer.apply(changes).errors.map((e) => e.error.message);
  }

  /**
   * Waits until every change is reconciled, no retry is pending and every
   * frontend row is done. Throws after timeoutMs, listing the rows that are not.
   */
  async settle(timeoutMs = 15_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const txn = this.db.readTxn();
      const progress = await this.reconciler.waitUntilReconciled(this.tables.frontends.revision(txn), {
        signal: AbortSignal.timeout(Math.max(1, deadline - Date.now())),
      });
      const rows = [...this.tables.frontends.all(this.db.readTxn())].map((e) => e.object);
      const notDone = rows.filter((fe) => fe.status.kind !== 'done');
      if (progress.retryLowWatermark === 0 && notDone.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`not reconciled after ${timeoutMs} ms: ${notDone.map((f) => `${f.address.ip}:${f.address.port} ${f.status.format()}`).join('; ')}`);
      }
      await new Promise((r) => setTimeout(r, 2));
    }
  }

  /** A table as `db show` prints it, limited to `columns`. */
  show(table: string, columns: readonly string[]): string {
    const t = this.db.table(table);
    if (t === undefined) throw new Error(`no table ${table}`);
    return formatRows(t, [...t.all(this.db.readTxn())].map((e): unknown => e.object), { columns });
  }

  stop(): Promise<void> {
    return this.reconciler.stop();
  }
}
