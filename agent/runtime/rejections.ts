// The objects the tables currently reject, per source: a wrapper around each
// source's sink records the per-object errors of every batch and forgets an
// object once a later version applies or it is deleted. Status, metrics and
// `--once` read it.
import { describeRef, objectKey, refOf, type ApplyResult, type KubeChange, type ObjectSink } from '../sources/index.js';

export interface RejectedObject {
  readonly source: string;
  /** `Kind namespace/name`. */
  readonly object: string;
  readonly error: string;
  /** ISO time of the rejection. */
  readonly since: string;
}

export class RejectionTracker {
  private readonly rejected = new Map<string, RejectedObject>();

  /** `sink` with its per-object errors recorded under `source`. */
  wrap(source: string, sink: ObjectSink): ObjectSink {
    return {
      apply: async (changes) => {
        const result = await sink.apply(changes);
        this.record(source, changes, result);
        return result;
      },
      registerInitializer: (name, kinds) => sink.registerInitializer(name, kinds),
    };
  }

  private record(source: string, changes: readonly KubeChange[], result: ApplyResult): void {
    const failed = new Map<KubeChange, Error>();
    for (const e of result.errors) failed.set(e.change, e.error);
    const since = new Date().toISOString();
    for (const change of changes) {
      const ref = refOf(change.kind, change.object);
      const key = `${source} ${objectKey(ref)}`;
      const error = failed.get(change);
      if (error === undefined || change.type === 'delete') this.rejected.delete(key);
      else this.rejected.set(key, { source, object: describeRef(ref), error: error.message, since });
    }
  }

  /** Every rejected object, by source then object. */
  list(): RejectedObject[] {
    return [...this.rejected.values()].sort((a, b) => (a.source + a.object < b.source + b.object ? -1 : 1));
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
