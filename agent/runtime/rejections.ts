// The objects the tables currently reject, per source: a wrapper around each
// source's sink records the per-object errors of every batch and forgets an
// object once a later version applies or it is deleted. Status, metrics and
// `--once` read it.
//
// A conflict (a service name or frontend address held by another object)
// can be lifted by someone else's change, which the refused source never
// hears of: its object would stay refused until it changed again. So a
// conflict keeps the refused change, and after every applied batch the
// refused changes are offered again to their source's conflict sink.
import { describeRef, objectKey, refOf, type ApplyResult, type KubeChange, type ObjectSink } from '../sources/index.js';

export interface RejectedObject {
  readonly source: string;
  /** `Kind namespace/name`. */
  readonly object: string;
  readonly error: string;
  /** ISO time of the rejection. */
  readonly since: string;
}

/** Where a source's refused conflicts are applied again: synchronous, so a retry cannot interleave with the source's own batches. */
export interface ConflictSink {
  apply(changes: readonly KubeChange[]): ApplyResult;
  /** Whether error is a conflict that another object's change may lift. */
  isConflict(error: Error): boolean;
}

interface Rejection extends RejectedObject {
  /** The refused change and its source's conflict sink, when the refusal was a conflict. */
  readonly retry: { readonly change: KubeChange; readonly sink: ConflictSink } | undefined;
}

export class RejectionTracker {
  private readonly rejected = new Map<string, Rejection>();
  private conflicts = 0;

  /** `sink` with its per-object errors recorded under `source`; conflicts are retried through `conflictSink`. */
  wrap(source: string, sink: ObjectSink, conflictSink?: ConflictSink): ObjectSink {
    return {
      apply: async (changes) => {
        // A newer change supersedes a refused one at once, so a retry can never apply the older version after it.
        for (const change of changes) this.forget(keyOf(source, change));
        const result = await sink.apply(changes);
        this.record(source, changes, result, conflictSink);
        this.retryConflicts();
        return result;
      },
      registerInitializer: (name, kinds) => sink.registerInitializer(name, kinds),
    };
  }

  private record(source: string, changes: readonly KubeChange[], result: ApplyResult, conflictSink: ConflictSink | undefined): void {
    const failed = new Map<KubeChange, Error>();
    for (const e of result.errors) failed.set(e.change, e.error);
    const since = new Date().toISOString();
    for (const change of changes) {
      const key = keyOf(source, change);
      const error = failed.get(change);
      this.forget(key);
      if (error === undefined || change.type === 'delete') continue;
      const retry = conflictSink?.isConflict(error) === true ? { change, sink: conflictSink } : undefined;
      if (retry !== undefined) this.conflicts++;
      this.rejected.set(key, { source, object: describeRef(refOf(change.kind, change.object)), error: error.message, since, retry });
    }
  }

  /**
   * Offers every refused conflict to its sink again, one batch per sink;
   * what applies is forgotten, what is still refused stays.
   */
  private retryConflicts(): void {
    if (this.conflicts === 0) return;
    const bySink = new Map<ConflictSink, [string, Rejection][]>();
    for (const entry of this.rejected) {
      const sink = entry[1].retry?.sink;
      if (sink === undefined) continue;
      let list = bySink.get(sink);
      if (list === undefined) bySink.set(sink, (list = []));
      list.push(entry);
    }
    for (const [sink, entries] of bySink) {
      let result: ApplyResult;
      try {
        result = sink.apply(entries.map(([, r]) => r.retry!.change));
      } catch {
        continue; // the tables are busy (locked): the next batch tries again
      }
      const failed = new Map<KubeChange, Error>();
      for (const e of result.errors) failed.set(e.change, e.error);
      for (const [key, r] of entries) {
        const error = failed.get(r.retry!.change);
        if (error === undefined) this.forget(key);
        else if (error.message !== r.error) this.rejected.set(key, { ...r, error: error.message });
      }
    }
  }

  private forget(key: string): void {
    const r = this.rejected.get(key);
    if (r === undefined) return;
    if (r.retry !== undefined) this.conflicts--;
    this.rejected.delete(key);
  }

  /** Every rejected object, by source then object. */
  list(): RejectedObject[] {
    return [...this.rejected.values()]
      .map(({ source, object, error, since }) => ({ source, object, error, since }))
      .sort((a, b) => (a.source + a.object < b.source + b.object ? -1 : 1));
  }

  /** How many objects each source has rejected now. */
  countBySource(): Map<string, number> {
    const out = new Map<string, number>();
    for (const r of this.rejected.values()) out.set(r.source, (out.get(r.source) ?? 0) + 1);
    return out;
  }

  get size(): number {
    return this.rejected.size;
  }
}

function keyOf(source: string, change: KubeChange): string {
  return `${source} ${objectKey(refOf(change.kind, change.object))}`;
}
