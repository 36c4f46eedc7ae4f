// Delete tracking. Deleted objects are kept here, in delete-revision order,
// only while some change iterator may still need to report them.
//
// Design choice (vs upstream's graveyard indexes inside each snapshot plus
// a rate-limited GC job): the graveyard is one append-only list per table,
// outside the snapshots. A commit appends its deletes only when change
// iterators exist (so deletes are never visible before their commit, and
// cost nothing when nobody tracks them); readers of a snapshot ignore
// records newer than the snapshot's revision. Because the list is not part
// of any snapshot, collecting it needs no write transaction: it happens
// synchronously whenever an iterator advances or closes, so a deleted object
// is retained exactly until the slowest live iterator has seen it.
import type { DeleteRecord } from './entry.js';

/** One change iterator's position among deletions. */
export class DeleteTracker {
  constructor(
    /** Every delete with revision <= mark has been seen (or predates the tracker). */
    public mark: number,
  ) {}
}

export class Graveyard<T> {
  private records: DeleteRecord<T>[] = [];
  private head = 0;
  /** Bumped whenever `records` is replaced, which invalidates positions from `positionAfter`. */
  private generation = 0;
  private readonly trackers = new Set<DeleteTracker>();

  /** Deleted objects retained ("zombies"). */
  get size(): number {
    return this.records.length - this.head;
  }

  get trackerCount(): number {
    return this.trackers.size;
  }

  /** True when commits must record their deletes. */
  get tracking(): boolean {
    return this.trackers.size > 0;
  }

  addTracker(fromRevision: number): DeleteTracker {
    const t = new DeleteTracker(fromRevision);
    this.trackers.add(t);
    return t;
  }

  /** Idempotent. Collects what nobody needs any more. */
  removeTracker(t: DeleteTracker): void {
    if (this.trackers.delete(t)) this.collect();
  }

  /** Appends a committed delete; revisions must increase. */
  append(record: DeleteRecord<T>): void {
    this.records.push(record);
  }

  /** The first record with revision > after and <= upTo, or undefined. */
  firstAfter(after: number, upTo: number): DeleteRecord<T> | undefined {
    return this.at(this.positionAfter(after), upTo);
  }

  /** A position (valid while `generation` is unchanged) of the first record with revision > after. */
  positionAfter(after: number): number {
    const recs = this.records;
    let lo = this.head;
    let hi = recs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (recs[mid]!.revision <= after) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** The record at a position if its revision is <= upTo. */
  at(position: number, upTo: number): DeleteRecord<T> | undefined {
    const r = this.records[position];
    return r !== undefined && r.revision <= upTo ? r : undefined;
  }

  /** Changes when positions are invalidated (records dropped from a replaced list). */
  get positionGeneration(): number {
    return this.generation;
  }

  /** The lowest mark over live trackers (Infinity without trackers). */
  lowWatermark(): number {
    let low = Infinity;
    for (const t of this.trackers) if (t.mark < low) low = t.mark;
    return low;
  }

  /** Drops every record all trackers have passed. Returns how many were dropped. */
  collect(): number {
    const low = this.lowWatermark();
    const recs = this.records;
    const before = this.head;
    while (this.head < recs.length && recs[this.head]!.revision <= low) this.head++;
    const dropped = this.head - before;
    if (this.head === recs.length && this.head > 0) {
      this.records = [];
      this.head = 0;
      this.generation++;
    } else if (this.head > 1024 && this.head * 2 > recs.length) {
      this.records = recs.slice(this.head);
      this.head = 0;
      this.generation++;
    }
    return dropped;
  }

  /** Problems for validation mode: order, bounds, uncollected records. */
  check(tableRevision: number): string[] {
    const problems: string[] = [];
    let prev = 0;
    for (let i = this.head; i < this.records.length; i++) {
      const r = this.records[i]!;
      if (r.revision <= prev) problems.push(`graveyard out of revision order at ${r.revision}`);
      if (r.revision > tableRevision) problems.push(`graveyard record ${r.revision} beyond table revision`);
      prev = r.revision;
    }
    if (this.trackers.size === 0 && this.size > 0) problems.push('graveyard retains deletes without trackers');
    for (const t of this.trackers) {
      if (t.mark > tableRevision) problems.push(`delete tracker mark ${t.mark} beyond table revision`);
    }
    return problems;
  }

  /** Iterates retained records (tests, validation). */
  *retained(): Generator<DeleteRecord<T>> {
    for (let i = this.head; i < this.records.length; i++) yield this.records[i]!;
  }
}
