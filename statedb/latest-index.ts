// The hash index behind point lookups on the latest committed state: a
// hash lookup beats a tree walk (about 5x) for `get`. It belongs to the
// latest state only and moves to the next state at each commit (older
// snapshots walk their primary tree).
//
// It is brought up to date lazily: a commit only hands it on (and notes
// its deletes), and the first lookup after some commits replays what they
// did from the revision log, one Map write per row changed rather than per
// write. A table nobody reads by key (a reconciler writing back statuses)
// pays nothing; rows written several times between reads are written once.
import type { DeleteRecord, StoredEntry } from './entry.js';
import { firstFrom, liveAt } from './revision-log.js';
import type { RevisionLog } from './revision-log.js';

/** Pending deletes beyond this (or beyond the index size) make a commit catch up at once. */
const MAX_PENDING_DELETES = 1024;

/** The part of a table state the index replays from. */
export interface IndexedState<T> {
  readonly revision: number;
  readonly revisions: RevisionLog<T>;
  readonly revisionsLength: number;
}

export class LatestIndex<T> {
  /** @internal Primary key -> entry, as of `syncedRevision`. */
  readonly entries = new Map<string, StoredEntry<T>>();
  /** The table revision the map reflects (0: empty table). */
  private syncedRevision = 0;
  /** Committed deletes newer than syncedRevision, in revision order. */
  private deletes: DeleteRecord<T>[] = [];

  /** The entry stored under `key` in state st, which must be the state this index belongs to. */
  get(st: IndexedState<T>, key: string): StoredEntry<T> | undefined {
    if (this.syncedRevision !== st.revision) this.sync(st);
    return this.entries.get(key);
  }

  /** Number of rows, as of state st. */
  size(st: IndexedState<T>): number {
    if (this.syncedRevision !== st.revision) this.sync(st);
    return this.entries.size;
  }

  /** Iterates (key, entry) as of state st. */
  all(st: IndexedState<T>): IterableIterator<[string, StoredEntry<T>]> {
    if (this.syncedRevision !== st.revision) this.sync(st);
    return this.entries.entries();
  }

  /**
   * Called when a commit hands the index on to its state st: records the
   * commit's deletes (in revision order), and catches up at once when too
   * many are waiting, so deleted rows are not kept alive for long.
   */
  committed(st: IndexedState<T>, deletes: readonly DeleteRecord<T>[]): void {
    for (const d of deletes) this.deletes.push(d);
    if (this.deletes.length > Math.max(MAX_PENDING_DELETES, this.entries.size)) this.sync(st);
  }

  /**
   * Replays the commits since syncedRevision: first their deletes, then
   * every entry written since and still live in st (a row deleted and
   * written again comes back in the second step).
   */
  private sync(st: IndexedState<T>): void {
    const map = this.entries;
    for (const d of this.deletes) map.delete(d.key);
    this.deletes = [];
    const entries = st.revisions.entries;
    const length = st.revisionsLength;
    for (let i = firstFrom(entries, length, this.syncedRevision + 1); i < length; i++) {
      const e = entries[i]!;
      if (liveAt(e, st.revision)) map.set(e.key, e);
    }
    this.syncedRevision = st.revision;
  }
}
