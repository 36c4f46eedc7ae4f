// An in-memory ObjectSink for tests and examples: keeps the current objects,
// every batch it applied and its initializers, and can be told to reject
// objects or to fail whole batches.
import { describeRef, objectKey, refOf, type KubeKind, type KubeObject } from './kinds.js';
import type { ApplyResult, KubeChange, ObjectApplyError, ObjectSink } from './sink.js';

export interface RecordedInitializer {
  readonly name: string;
  readonly kinds: readonly KubeKind[];
  /** Batches applied before markDone was called (so tests can check ordering). */
  doneAfterBatches: number | undefined;
}

export interface RecordingSinkOptions {
  /** Returns an error for a change the sink should reject (per-object error). */
  readonly reject?: (change: KubeChange) => Error | undefined;
}

/** waitUntil gave up. */
export class WaitTimeoutError extends Error {
  override readonly name = 'WaitTimeoutError';
}

export class RecordingSink implements ObjectSink {
  /** Current objects by `Kind/namespace/name`. */
  readonly objects = new Map<string, KubeObject>();
  /** Every applied batch, in order (failed attempts are not recorded). */
  readonly batches: (readonly KubeChange[])[] = [];
  readonly initializers: RecordedInitializer[] = [];
  private failures = 0;
  private listeners: (() => void)[] = [];

  constructor(private readonly opts: RecordingSinkOptions = {}) {}

  /** The next `count` apply calls throw (nothing of them is applied). */
  failNextApplies(count: number): void {
    this.failures = count;
  }

  apply(changes: readonly KubeChange[]): ApplyResult {
    if (this.failures > 0) {
      this.failures--;
      throw new Error('recording sink: injected failure');
    }
    const errors: ObjectApplyError[] = [];
    for (const change of changes) {
      const error = this.opts.reject?.(change);
      if (error !== undefined) {
        errors.push({ change, error });
        continue;
      }
      const key = objectKey(refOf(change.kind, change.object));
      if (change.type === 'upsert') this.objects.set(key, change.object);
      else this.objects.delete(key);
    }
    this.batches.push(changes);
    this.notify();
    return { errors };
  }

  registerInitializer(sourceName: string, kinds: readonly KubeKind[]): { markDone(): void } {
    if (this.initializers.some((i) => i.name === sourceName && i.doneAfterBatches === undefined)) {
      throw new Error(`recording sink: initializer "${sourceName}" is already pending`);
    }
    const init: RecordedInitializer = { name: sourceName, kinds: [...kinds], doneAfterBatches: undefined };
    this.initializers.push(init);
    return {
      markDone: () => {
        init.doneAfterBatches ??= this.batches.length;
        this.notify();
      },
    };
  }

  /** Whether every registered initializer is done (true when none is registered). */
  get initialized(): boolean {
    return this.initializers.every((i) => i.doneAfterBatches !== undefined);
  }

  /** The object stored for a kind/namespace/name, if any. */
  get(kind: KubeKind, namespace: string, name: string): KubeObject | undefined {
    return this.objects.get(objectKey({ kind, namespace, name }));
  }

  /** `Kind ns/name` of every stored object, sorted: handy for assertions. */
  names(kind?: KubeKind): string[] {
    const out: string[] = [];
    for (const [key, obj] of this.objects) {
      const k = key.slice(0, key.indexOf('/')) as KubeKind;
      if (kind === undefined || k === kind) out.push(describeRef(refOf(k, obj)));
    }
    return out.sort();
  }

  /** All changes of all batches, flattened. */
  changes(): KubeChange[] {
    return this.batches.flat();
  }

  /**
   * Resolves once `predicate` holds, checking now and after every apply or
   * markDone; rejects with WaitTimeoutError (naming `what`) after `timeoutMs`.
   */
  waitUntil(what: string, predicate: (sink: this) => boolean, timeoutMs = 10_000): Promise<void> {
    if (predicate(this)) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const check = (): void => {
        if (!predicate(this)) return;
        cleanup();
        resolve();
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}; objects: ${this.names().join(', ')}`));
      }, timeoutMs);
      const cleanup = (): void => {
        clearTimeout(timer);
        this.listeners = this.listeners.filter((l) => l !== check);
      };
      this.listeners.push(check);
    });
  }

  private notify(): void {
    for (const l of [...this.listeners]) l();
  }
}
