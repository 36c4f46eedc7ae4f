// What the indexes store: one immutable entry per object version.

/** An object with the table revision at which it was written. */
export interface Entry<T> {
  readonly object: T;
  readonly revision: number;
}

/** A change seen by a change iterator: an upsert, or a deletion (`deleted`) with the delete revision. */
export interface Change<T> {
  readonly object: T;
  readonly revision: number;
  readonly deleted: boolean;
}

/**
 * The stored form of an Entry; `key` is the encoded primary key. Never
 * mutated once stored. It doubles as the upsert Change a change iterator
 * yields (`deleted` is false on the prototype), so iterating changes
 * allocates nothing per object.
 */
export class StoredEntry<T> implements Entry<T>, Change<T> {
  /**
   * @internal The revision of the write that replaced or deleted this entry
   * (0 while it is current). Snapshots older than that revision still see
   * the entry; see revision-log.ts. The only field ever written after
   * construction, and only by the write transaction that supersedes it.
   */
  supersededAt = 0;

  constructor(
    readonly object: T,
    readonly revision: number,
    readonly key: string,
  ) {}

  get deleted(): false {
    return false;
  }
}

/** A deletion, in a write transaction's log and in the graveyard. `revision` is the delete's own revision. */
export class DeleteRecord<T> implements Change<T> {
  readonly deleted = true;
  constructor(
    readonly object: T,
    readonly revision: number,
    readonly key: string,
  ) {}
}
