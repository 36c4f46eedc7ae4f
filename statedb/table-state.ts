// One table as of one commit: its index trees, revision log, revision and
// initializer state. Committed states are immutable (their revision log is
// shared but append-only, see revision-log.ts) and shared by every snapshot
// that holds them; a write transaction works on a draft whose trees copy
// nodes on first write.
import { BTree } from './btree.js';
import type { StoredEntry } from './entry.js';
import { LatestIndex } from './latest-index.js';
import { firstFrom, liveAt, RevisionCursor, RevisionLog } from './revision-log.js';
import type { SecondaryStore } from './secondary-index.js';
import type { Watch } from './watch.js';

/** Source of secondary index versions: unique over the process. */
let versionCounter = 0;

/** Pending initializers and the watch that closes when they are all done. */
export interface InitState {
  readonly pending: readonly string[];
  readonly watch: Watch;
}

export class TableState<T> {
  constructor(
    /** Encoded primary key -> entry. */
    public primary: BTree<string, StoredEntry<T>>,
    /** Every entry in revision order (see revision-log.ts); this state sees the first `revisionsLength`. */
    public revisions: RevisionLog<T>,
    public revisionsLength: number,
    /** One store per secondary index, by SecondaryIndex.pos. */
    public secondary: SecondaryStore<T>[],
    /** The revision of the last insert, update or delete (0 for a new table). */
    public revision: number,
    /** Null when no initializer was ever registered or all were done at a commit. */
    public init: InitState | null,
    /**
     * The hash index, on the latest committed state only (see
     * latest-index.ts). Moved to the next state at commit (and cleared
     * here), so older snapshots fall back to the tree.
     */
    public latest: LatestIndex<T> | null,
    /** For the draft of an open write transaction: the committed state it started from; null once committed. */
    public base: TableState<T> | null,
    /**
     * Per secondary index, changed whenever its content changes, including
     * rewrites that keep a row's keys (which leave the tree as it was: see
     * `current`). Two states with equal versions and tree roots agree.
     */
    public secondaryVersions: number[],
  ) {}

  /**
   * Drafts only: per secondary index, the primary keys of rows rewritten
   * with the same keys in it, whose entries there still hold an older
   * version. Queries on that index in the transaction bring them up to date
   * first; a commit leaves them (readers resolve them with `current`).
   */
  staleRows: (string[] | undefined)[] | null = null;

  static empty<T>(secondary: SecondaryStore<T>[]): TableState<T> {
    const versions = secondary.map(() => 0);
    return new TableState<T>(BTree.empty(), RevisionLog.empty(), 0, secondary, 0, null, new LatestIndex(), null, versions);
  }

  /** A draft for a write transaction: same content, trees that copy on write. */
  draft(): TableState<T> {
    return new TableState<T>(
      this.primary.forWrite(),
      this.revisions,
      this.revisionsLength,
      this.secondary.map((s) => s.forWrite()),
      this.revision,
      this.init,
      null,
      this,
      this.secondaryVersions.slice(),
    );
  }

  /** Makes a committed draft read-only. */
  seal(): void {
    this.primary.freeze(true);
    for (const s of this.secondary) s.freeze(true);
    this.base = null;
    this.staleRows = null;
  }

  /**
   * The committed state that resolves entries read from this state's
   * secondary indexes: itself, or for a draft the state it started from
   * (fixed for the draft's life, so results taken from it stay valid).
   */
  get resolver(): TableState<T> {
    return this.base ?? this;
  }

  /**
   * For a committed state: the version of e's row it holds, e being an
   * entry read from one of its secondary indexes. A rewrite that keeps a
   * row's secondary keys leaves the old entry there; it is superseded at a
   * revision this state includes, so the primary index has the current one.
   */
  current(e: StoredEntry<T>): StoredEntry<T> {
    const s = e.supersededAt;
    return s === 0 || s > this.revision ? e : this.lookup(e.key)!;
  }

  /** Drafts: notes that row `key` was rewritten keeping its keys in secondary index `pos`. */
  markStale(pos: number, key: string): void {
    const stale = (this.staleRows ??= []);
    const list = stale[pos];
    if (list === undefined) stale[pos] = [key];
    else list.push(key);
    this.secondaryVersions[pos] = ++versionCounter;
  }

  /** The entry stored under an encoded primary key. */
  lookup(key: string): StoredEntry<T> | undefined {
    const latest = this.latest;
    return latest !== null ? latest.get(this, key) : this.primary.get(key);
  }

  /** Appends a newly written entry to the revision index (drafts only; revisions must grow). */
  appendRevision(entry: StoredEntry<T>): void {
    const log = this.revisions;
    log.entries.push(entry);
    this.revisionsLength = log.entries.length;
  }

  /** A cursor over the live entries with revision >= from, in revision order. */
  revisionCursor(from: number): RevisionCursor<T> {
    return new RevisionCursor<T>(this.revisions.entries, this.revisionsLength, this.revision, from);
  }

  /** The live entry written at exactly `revision`, or undefined. */
  atRevision(revision: number): StoredEntry<T> | undefined {
    const entries = this.revisions.entries;
    const i = firstFrom(entries, this.revisionsLength, revision);
    const e = i < this.revisionsLength ? entries[i]! : undefined;
    return e !== undefined && e.revision === revision && liveAt(e, this.revision) ? e : undefined;
  }

  /** Whether some live entry has a revision > `after` (what change iterators poll). */
  hasRevisionAfter(after: number): boolean {
    const entries = this.revisions.entries;
    for (let i = this.revisionsLength - 1; i >= 0; i--) {
      const e = entries[i]!;
      if (e.revision <= after) return false;
      if (liveAt(e, this.revision)) return true;
    }
    return false;
  }
}
