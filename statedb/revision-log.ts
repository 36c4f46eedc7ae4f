// The revision index: a table's entries in revision order. Revisions only
// grow, so instead of a persistent tree (where every replace costs a delete
// at a random place plus an append, each copying a path) it is one
// append-only array shared by every snapshot of the table:
//
// - A snapshot sees the first `length` entries (those written up to its
//   revision) minus the ones superseded at or before its revision: a replace
//   or delete stamps the old entry's `supersededAt` with its own revision,
//   which snapshots older than that revision ignore.
// - The one open write transaction (the table is locked) appends in place
//   and stamps in place; abort truncates its appends and clears its stamps,
//   which no committed snapshot could see (they are newer than all of them).
// - Superseded entries stay until there are more than 1024 of them and
//   half as many as live ones; then a commit copies the live ones into a
//   fresh log. Older snapshots keep the old array, which nobody appends to
//   any more.
import type { StoredEntry } from './entry.js';

/** Below this many superseded entries a log is never compacted. */
const COMPACT_MIN_DEAD = 1024;

export class RevisionLog<T> {
  constructor(
    /** Every entry written since the log was created (or compacted), in revision order. */
    readonly entries: StoredEntry<T>[],
    /** How many of them are superseded, as of the open write (or the latest commit). */
    public dead: number,
  ) {}

  static empty<T>(): RevisionLog<T> {
    return new RevisionLog<T>([], 0);
  }

  /**
   * True when a commit should replace this log by a compacted copy: once
   * superseded entries (which keep their old objects alive) pass half the
   * live ones. Compacting visits about three entries per superseded one.
   */
  get wantsCompaction(): boolean {
    return this.dead >= COMPACT_MIN_DEAD && this.dead * 2 > this.entries.length - this.dead;
  }

  /** A fresh log holding only the entries live now (call at commit, when no write is open). */
  compacted(): RevisionLog<T> {
    const live: StoredEntry<T>[] = [];
    for (const e of this.entries) if (e.supersededAt === 0) live.push(e);
    return new RevisionLog<T>(live, 0);
  }
}

/** Whether entry e is live in a snapshot at revision `revision` (e is among its first `length` entries). */
export function liveAt<T>(e: StoredEntry<T>, revision: number): boolean {
  const s = e.supersededAt;
  return s === 0 || s > revision;
}

/** Index of the first of the first `length` entries with revision >= from (length when none). */
export function firstFrom<T>(entries: readonly StoredEntry<T>[], length: number, from: number): number {
  let lo = 0;
  let hi = length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (entries[mid]!.revision < from) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * A forward cursor over the live entries of one snapshot of a log, from a
 * revision on. Same shape as the B+tree cursor: `valid`, `value`, `next()`.
 */
export class RevisionCursor<T> {
  private pos: number;

  constructor(
    private readonly entries: readonly StoredEntry<T>[],
    private readonly length: number,
    private readonly revision: number,
    from: number,
  ) {
    this.pos = firstFrom(entries, length, from);
    this.skipDead();
  }

  get valid(): boolean {
    return this.pos < this.length;
  }

  get value(): StoredEntry<T> {
    return this.entries[this.pos]!;
  }

  next(): void {
    this.pos++;
    this.skipDead();
  }

  private skipDead(): void {
    const entries = this.entries;
    while (this.pos < this.length && !liveAt(entries[this.pos]!, this.revision)) this.pos++;
  }
}
