// Objects waiting for another attempt: at most one entry per row (by
// primary key), ordered by due time (drives the retry timer) and by original
// revision (gives the retry low watermark). Heaps are lazy: a superseded
// entry stays in a heap until it surfaces and is found stale.
import { MinHeap } from './heap.js';

export interface RetryEntry<T> {
  readonly key: string;
  /** The version to retry with (for a delete: the last version of the row). */
  readonly object: T;
  /**
   * Update: the revision the stored row must still have for the result to
   * be written back (that of the engine's error write). Delete: the delete revision.
   */
  readonly revision: number;
  /** The revision of the change that first failed: what the low watermark reports. */
  readonly originalRevision: number;
  readonly deleted: boolean;
  /** Consecutive failures so far (>= 1). */
  readonly failures: number;
  readonly retryAt: number;
  readonly error: unknown;
}

export class RetryQueue<T> {
  private readonly entries = new Map<string, RetryEntry<T>>();
  private readonly byTime = new MinHeap<RetryEntry<T>>((a, b) => a.retryAt < b.retryAt);
  private readonly byRevision = new MinHeap<RetryEntry<T>>((a, b) => a.originalRevision < b.originalRevision);

  get size(): number {
    return this.entries.size;
  }

  get(key: string): RetryEntry<T> | undefined {
    return this.entries.get(key);
  }

  /** Removes key's entry (a newer change superseded it, or it succeeded). Returns it. */
  clear(key: string): RetryEntry<T> | undefined {
    const e = this.entries.get(key);
    if (e !== undefined) this.entries.delete(key);
    return e;
  }

  /** Adds or replaces key's entry. */
  put(entry: RetryEntry<T>): void {
    this.entries.set(entry.key, entry);
    this.byTime.push(entry);
    this.byRevision.push(entry);
    if (this.byTime.size > 2 * this.entries.size + 64) this.compact();
  }

  /** When the earliest entry is due, or undefined when empty. */
  nextDue(): number | undefined {
    return this.liveTop(this.byTime)?.retryAt;
  }

  /** Removes and returns the earliest entry due at `now`, or undefined. */
  popDue(now: number): RetryEntry<T> | undefined {
    const top = this.liveTop(this.byTime);
    if (top === undefined || top.retryAt > now) return undefined;
    this.byTime.pop();
    this.entries.delete(top.key);
    return top;
  }

  /** The smallest original revision waiting for a retry, 0 when none. */
  lowWatermark(): number {
    return this.liveTop(this.byRevision)?.originalRevision ?? 0;
  }

  values(): IterableIterator<RetryEntry<T>> {
    return this.entries.values();
  }

  private liveTop(heap: MinHeap<RetryEntry<T>>): RetryEntry<T> | undefined {
    for (;;) {
      const top = heap.peek();
      if (top === undefined || this.entries.get(top.key) === top) return top;
      heap.pop();
    }
  }

  private compact(): void {
    const live = (e: RetryEntry<T>) => this.entries.get(e.key) === e;
    this.byTime.filter(live);
    this.byRevision.filter(live);
  }
}
