// Buffers a source's changes and hands them to the sink in batches: a batch
// closes `windowMs` after its first change or when it holds `maxEvents`
// changes, whichever comes first. Changes to the same object within the
// buffer coalesce to the last. One apply runs at a time; changes arriving
// meanwhile wait for the next batch. An apply that throws keeps its changes
// (newer changes to the same objects win) and is retried after a backoff, so
// nothing is lost; per-object errors are logged and not retried.
import { Backoff, type BackoffOptions } from './backoff.js';
import { sleep } from './delay.js';
import { describeRef, objectKey, refOf } from './kinds.js';
import { errorMessage, type Logger } from './logger.js';
import type { InitializerHandle, KubeChange, ObjectSink } from './sink.js';

export interface BatchWriterOptions {
  readonly sink: ObjectSink;
  /** How long a batch collects changes after its first one, in ms. 0 applies on the next turn. */
  readonly windowMs: number;
  /** A batch is applied as soon as it holds this many changes (and never holds more). */
  readonly maxEvents: number;
  readonly backoff?: BackoffOptions;
  readonly logger: Logger;
  /** Log fields naming a change beyond kind/namespace/name (e.g. its file and line). */
  readonly describe?: (change: KubeChange) => Record<string, unknown>;
  /** Called whenever `failing` or `lastError` changes. */
  readonly onHealthChange?: () => void;
}

/** Thrown when batch options are out of range. */
export class BatchOptionsError extends Error {
  override readonly name = 'BatchOptionsError';
}

interface Pending {
  readonly change: KubeChange;
  /** Sequence number of the add that queued this state of the object. */
  readonly seq: number;
}

interface Waiter {
  readonly seq: number;
  readonly resolve: (applied: boolean) => void;
}

export class BatchWriter {
  private pending = new Map<string, Pending>();
  private inFlight: readonly Pending[] = [];
  private seq = 0;
  private waiters: Waiter[] = [];
  private timer: NodeJS.Timeout | undefined;
  /** The timer is the 0 ms one of a full or flushed batch (not the window). */
  private timerIsImmediate = false;
  private applying: Promise<void> | undefined;
  private flushRequested = false;
  private retrying = false;
  private readonly backoff: Backoff;
  private readonly closing = new AbortController();
  private closed = false;

  /** True from an apply (or markDone) that threw until the next one succeeds. */
  failing = false;
  lastError: { message: string; at: Date } | undefined;
  batchesApplied = 0;
  changesApplied = 0;
  objectErrors = 0;
  sinkFailures = 0;

  constructor(private readonly opts: BatchWriterOptions) {
    if (!(opts.windowMs >= 0)) throw new BatchOptionsError(`batch window must be >= 0 ms (got ${opts.windowMs})`);
    if (!(opts.maxEvents >= 1)) throw new BatchOptionsError(`batch size must be >= 1 (got ${opts.maxEvents})`);
    this.backoff = new Backoff(opts.backoff);
  }

  /** Changes buffered and not yet handed to the sink. */
  get size(): number {
    return this.pending.size;
  }

  /** Queues a change; replaces a buffered change to the same object. Ignored after close(). */
  add(change: KubeChange): void {
    if (this.closed) return;
    const key = objectKey(refOf(change.kind, change.object));
    this.pending.set(key, { change, seq: ++this.seq });
    this.schedule();
  }

  /** Applies what is buffered as soon as possible instead of waiting for the window. */
  flush(): void {
    this.flushRequested = true;
    this.schedule();
  }

  /**
   * Resolves true once every change queued before the call has been applied
   * (retrying as needed), false if the writer closes first.
   */
  applied(): Promise<boolean> {
    if (this.closed) return Promise.resolve(false);
    if (this.pending.size === 0 && this.inFlight.length === 0) return Promise.resolve(true);
    return new Promise((resolve) => this.waiters.push({ seq: this.seq, resolve }));
  }

  /**
   * Waits until everything queued so far is applied, then marks the
   * initializer done, retrying a throwing markDone with backoff. Resolves
   * true when done, false if the writer closed first.
   */
  async completeInitializer(handle: InitializerHandle): Promise<boolean> {
    this.flush();
    if (!(await this.applied())) return false;
    for (;;) {
      try {
        await handle.markDone();
        this.recovered();
        return true;
      } catch (err) {
        const delay = this.failed(err, 'marking the initializer done failed');
        if (!(await sleep(delay, this.closing.signal))) return false;
      }
    }
  }

  /**
   * Stops batching: cancels timers, waits for an apply in flight, then makes
   * one last attempt at what is buffered (unless the sink is failing).
   * Pending applied() waits resolve false. Idempotent.
   */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.closing.abort();
    clearTimeout(this.timer);
    this.timer = undefined;
    this.timerIsImmediate = false;
    await this.applying;
    while (this.pending.size > 0 && !this.failing) {
      this.applying = this.applyBatch(this.take());
      await this.applying;
    }
    for (const w of this.waiters) w.resolve(false);
    this.waiters = [];
  }

  private schedule(): void {
    if (this.closed || this.applying !== undefined || this.retrying) return;
    if (this.pending.size === 0) {
      this.flushRequested = false;
      return;
    }
    if (this.flushRequested || this.pending.size >= this.opts.maxEvents) {
      if (this.timerIsImmediate) return;
      clearTimeout(this.timer);
      // Deferred, so a burst delivered synchronously (an informer's list)
      // is applied once the burst ends, in batches of at most maxEvents.
      this.timer = setTimeout(() => this.run(), 0);
      this.timerIsImmediate = true;
    } else {
      this.timer ??= setTimeout(() => this.run(), this.opts.windowMs);
    }
  }

  private run(): void {
    this.timer = undefined;
    this.timerIsImmediate = false;
    if (this.closed || this.applying !== undefined || this.pending.size === 0) return;
    const batch = this.take();
    if (this.pending.size === 0) this.flushRequested = false;
    this.applying = this.applyBatch(batch).finally(() => {
      this.applying = undefined;
      this.schedule();
    });
  }

  private take(): Pending[] {
    const batch: Pending[] = [];
    for (const [key, p] of this.pending) {
      if (batch.length >= this.opts.maxEvents) break;
      batch.push(p);
      this.pending.delete(key);
    }
    this.inFlight = batch;
    return batch;
  }

  private async applyBatch(batch: readonly Pending[]): Promise<void> {
    try {
      const result = await this.opts.sink.apply(batch.map((p) => p.change));
      this.inFlight = [];
      this.batchesApplied++;
      this.changesApplied += batch.length;
      for (const { change, error } of result.errors) {
        this.objectErrors++;
        this.opts.logger.warn(
          { ...this.fields(change), change: change.type, err: errorMessage(error) },
          `sink rejected ${describeRef(refOf(change.kind, change.object))}: ${errorMessage(error)}`,
        );
      }
      this.recovered();
      this.resolveWaiters();
    } catch (err) {
      this.inFlight = [];
      this.requeue(batch);
      const delay = this.failed(err, `applying a batch of ${batch.length} changes failed`);
      if (this.closed) return;
      this.retrying = true;
      void sleep(delay, this.closing.signal).then(() => {
        this.retrying = false;
        this.flushRequested = true;
        this.schedule();
      });
    }
  }

  /** Puts a failed batch back in front; a newer buffered change to the same object wins. */
  private requeue(batch: readonly Pending[]): void {
    const merged = new Map<string, Pending>();
    for (const p of batch) {
      const key = objectKey(refOf(p.change.kind, p.change.object));
      if (!this.pending.has(key)) merged.set(key, p);
    }
    for (const [key, p] of this.pending) merged.set(key, p);
    this.pending = merged;
  }

  private resolveWaiters(): void {
    if (this.waiters.length === 0) return;
    let oldest = Infinity;
    for (const p of this.pending.values()) oldest = Math.min(oldest, p.seq);
    const still: Waiter[] = [];
    for (const w of this.waiters) {
      if (w.seq < oldest) w.resolve(true);
      else still.push(w);
    }
    this.waiters = still;
  }

  private failed(err: unknown, what: string): number {
    this.sinkFailures++;
    this.failing = true;
    const message = `${what}: ${errorMessage(err)}`;
    this.lastError = { message, at: new Date() };
    const delay = this.backoff.next();
    this.opts.logger.error({ err: errorMessage(err), retryInMs: delay }, `sink: ${message}; retrying`);
    this.opts.onHealthChange?.();
    return delay;
  }

  private recovered(): void {
    this.backoff.reset();
    if (!this.failing) return;
    this.failing = false;
    this.opts.logger.info('sink: recovered');
    this.opts.onHealthChange?.();
  }

  private fields(change: KubeChange): Record<string, unknown> {
    const ref = refOf(change.kind, change.object);
    return { kind: ref.kind, namespace: ref.namespace, name: ref.name, ...this.opts.describe?.(change) };
  }
}
