// Change iterators: "what changed since I last looked", with deletions.
import type { Change, StoredEntry } from './entry.js';
import type { DeleteTracker, Graveyard } from './graveyard.js';
import { StateDBError } from './errors.js';
import type { TableState } from './table-state.js';
import type { Txn } from './txn.js';
import type { Watch } from './watch.js';
import { closedWatch } from './watch.js';

/** What a change iterator needs from its table (implemented by Table). */
export interface ChangeSource<T> {
  readonly name: string;
  readonly graveyard: Graveyard<T>;
  /** The committed state a transaction sees (a write transaction's own writes excluded). */
  committedStateOf(txn: Txn): TableState<T>;
  latestState(): TableState<T>;
  /** A watch closing on the next commit that changes the table (closed when `st` is not the latest). */
  changeWatch(st: TableState<T>): Watch;
}

/** The result of ChangeIterator.next. */
export interface ChangeBatch<T> {
  /**
   * The changes, in revision order, single-use and lazy: progress is
   * recorded per change taken, so stopping early loses and repeats nothing.
   */
  readonly changes: Iterable<Change<T>>;
  /**
   * Closed at once when changes were returned (call next again); otherwise
   * open until the table changes. Waiting on it never busy-loops.
   */
  readonly watch: Watch;
}

/** Thrown when next() is given a snapshot older than the iterator itself. */
export class StaleSnapshotError extends StateDBError {}

const registry = new FinalizationRegistry<{ graveyard: Graveyard<unknown>; tracker: DeleteTracker }>((held) =>
  held.graveyard.removeTracker(held.tracker),
);

const noChanges: readonly Change<never>[] = Object.freeze([]);

/**
 * Reports every insert, update and delete of one table since the previous
 * call. The first call replays every current object as an upsert (deletes
 * from before the iterator existed never appear). Several changes to one
 * object between calls collapse into its latest state: create+delete shows
 * only the delete, delete+re-insert only the upsert. Deletions are read from
 * committed state only. Close it (`close()` or `using`) when done: a live
 * iterator keeps deleted objects in memory until it has seen them.
 */
export class ChangeIterator<T> implements Disposable {
  private lastRevision = 0;
  private lastDeleteRevision: number;
  private readonly createdAt: number;
  private tracker: DeleteTracker | null;

  constructor(private readonly source: ChangeSource<T>) {
    const revision = source.latestState().revision;
    this.createdAt = revision;
    this.lastDeleteRevision = revision;
    this.tracker = source.graveyard.addTracker(revision);
    registry.register(this, { graveyard: source.graveyard, tracker: this.tracker }, this);
  }

  /** True until close(). */
  get open(): boolean {
    return this.tracker !== null;
  }

  /**
   * The changes visible in `txn` (default: a fresh read transaction) since
   * the last call. Throws StaleSnapshotError for a snapshot older than the
   * iterator, and StateDBError after close().
   */
  next(txn?: Txn): ChangeBatch<T> {
    if (this.tracker === null) throw new StateDBError(`table "${this.source.name}": change iterator is closed`);
    const st = txn === undefined ? this.source.latestState() : this.source.committedStateOf(txn);
    if (st.revision < this.createdAt) {
      throw new StaleSnapshotError(
        `table "${this.source.name}": snapshot at revision ${st.revision} predates the change iterator ` +
          `(created at ${this.createdAt}); pass a newer transaction`,
      );
    }
    const pendingUpsert = st.hasRevisionAfter(this.lastRevision);
    const pendingDelete = this.source.graveyard.firstAfter(this.lastDeleteRevision, st.revision) !== undefined;
    if (!pendingUpsert && !pendingDelete) {
      this.advanceTo(st.revision);
      return { changes: noChanges, watch: this.source.changeWatch(st) };
    }
    return { changes: this.iterate(st), watch: closedWatch };
  }

  /** Stops tracking deletes and lets retained ones go. Idempotent. */
  close(): void {
    const t = this.tracker;
    if (t === null) return;
    this.tracker = null;
    registry.unregister(this);
    this.source.graveyard.removeTracker(t);
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private advanceTo(revision: number): void {
    if (revision > this.lastRevision) this.lastRevision = revision;
    if (revision > this.lastDeleteRevision) this.lastDeleteRevision = revision;
    this.markDeletesSeen();
  }

  private markDeletesSeen(): void {
    const t = this.tracker;
    if (t === null || t.mark >= this.lastDeleteRevision) return;
    t.mark = this.lastDeleteRevision;
    this.source.graveyard.collect();
  }

  private *iterate(st: TableState<T>): Generator<Change<T>> {
    const upTo = st.revision;
    const graveyard = this.source.graveyard;
    const upserts = st.revisionCursor(this.lastRevision + 1);
    // A remembered graveyard position saves a binary search per change; it
    // is recomputed when the graveyard replaced its list meanwhile.
    let position = graveyard.positionAfter(this.lastDeleteRevision);
    let generation = graveyard.positionGeneration;
    let completed = false;
    try {
      for (;;) {
        if (this.tracker === null) return;
        const up: StoredEntry<T> | undefined = upserts.valid ? upserts.value : undefined;
        if (generation !== graveyard.positionGeneration) {
          position = graveyard.positionAfter(this.lastDeleteRevision);
          generation = graveyard.positionGeneration;
        }
        const del = graveyard.at(position, upTo);
        if (up === undefined && del === undefined) break;
        if (del !== undefined && (up === undefined || del.revision < up.revision)) {
          position++;
          this.lastDeleteRevision = del.revision;
          // Re-inserted after this delete (within the snapshot): only the upsert is reported.
          const alive = st.lookup(del.key);
          if (alive !== undefined && alive.revision > del.revision) continue;
          yield del;
        } else {
          this.lastRevision = up!.revision;
          upserts.next();
          yield up!;
        }
      }
      completed = true;
    } finally {
      if (completed) this.advanceTo(upTo);
      else this.markDeletesSeen();
    }
  }
}
