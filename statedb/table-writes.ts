// The write steps shared by insert, modify, compareAndSwap, update, delete
// and restore. Every failure happens before the first mutation or is undone,
// so a throwing call leaves the transaction exactly as it was.
import { DeleteRecord, StoredEntry } from './entry.js';
import { ObjectNotFoundError, RevisionNotEqualError, SameObjectError, UniqueConstraintError } from './errors.js';
import { describeKey } from './binary.js';
import { freezeRow } from './freeze.js';
import type { IndexDef } from './indexes.js';
import type { SecondaryIndex } from './secondary-index.js';
import type { TableState } from './table-state.js';
import type { TableTxn } from './txn.js';

/** What the write steps need from a table. */
export interface WriteTarget<T> {
  readonly name: string;
  readonly primaryDef: IndexDef<T, unknown>;
  readonly secondaryIndexes: readonly SecondaryIndex<T>[];
  readonly deepFreeze: boolean;
}

/**
 * Stores obj (insert or replace by primary key) at the next revision, or at
 * `revision` when restoring. With `expected` (compare-and-swap), only
 * replaces an object stored at that revision, checked in the same tree walk
 * that stores (obj is frozen only once that passed). Returns the replaced
 * entry. Throws ObjectNotFoundError or RevisionNotEqualError when
 * `expected` does not match, SameObjectError when obj is the very object
 * stored, UniqueConstraintError when another object holds one of its
 * unique keys; errors from key functions propagate. On any throw nothing
 * was changed.
 */
export function upsert<T>(
  t: WriteTarget<T>,
  tt: TableTxn<T>,
  obj: T,
  revision?: number,
  expected?: number,
): StoredEntry<T> | undefined {
  if (expected === undefined) freezeRow(obj, t.deepFreeze);
  const pk = t.primaryDef.keyOf(obj);
  const d = tt.draft;
  const rev = revision ?? d.revision + 1;
  const entry = new StoredEntry<T>(obj, rev, pk);
  const old = d.primary.set(pk, entry);
  if (expected !== undefined) {
    if (old === undefined || old.revision !== expected) {
      undoPrimary(tt, pk, old);
      if (old === undefined) throw new ObjectNotFoundError(t.name, describeKey(pk));
      throw new RevisionNotEqualError<T>(t.name, expected, old);
    }
    freezeRow(obj, t.deepFreeze);
  }
  if (old !== undefined && old.object === obj) {
    undoPrimary(tt, pk, old);
    throw new SameObjectError(t.name);
  }
  const secs = t.secondaryIndexes;
  if (secs.length > 0) {
    let newKeys: (string | string[])[];
    try {
      newKeys = secondaryKeys(t, tt, obj, pk);
    } catch (e) {
      undoPrimary(tt, pk, old);
      throw e;
    }
    for (const si of secs) {
      const store = d.secondary[si.pos]!;
      const keys = newKeys[si.pos]!;
      if (typeof keys === 'string') {
        const oldKey = old === undefined ? undefined : si.def.keyOf(old.object);
        // Same key: the index keeps the old entry, which readers resolve (TableState.current).
        if (oldKey === keys) d.markStale(si.pos, pk);
        else si.replaceOne(store, oldKey, keys, entry);
      } else {
        const oldKeys = old === undefined ? undefined : si.keysOf(old.object);
        if (oldKeys !== undefined && sameKeys(oldKeys, keys)) {
          if (keys.length > 0) d.markStale(si.pos, pk);
        } else si.replace(store, oldKeys, keys, entry);
      }
    }
  }
  if (old !== undefined) supersede(tt, old, rev);
  d.appendRevision(entry);
  if (rev > d.revision) d.revision = rev;
  tt.log.push(entry);
  return old;
}

/** Stamps a replaced or deleted entry (undone by abort; see revision-log.ts). */
function supersede<T>(tt: TableTxn<T>, old: StoredEntry<T>, revision: number): void {
  old.supersededAt = revision;
  tt.superseded.push(old);
  tt.draft.revisions.dead++;
}

function undoPrimary<T>(tt: TableTxn<T>, pk: string, old: StoredEntry<T> | undefined): void {
  if (old === undefined) tt.draft.primary.delete(pk);
  else tt.draft.primary.set(pk, old);
}

/** Whether two deduplicated key lists hold the same keys. */
function sameKeys(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !b.includes(a[i]!)) return false;
  return true;
}

/**
 * Brings secondary index `si` of draft `d` up to date for the rows
 * rewritten there with unchanged keys (see TableState.staleRows): their
 * entries are replaced by the current ones. Called before the transaction
 * reads that index.
 */
export function refreshStale<T>(si: SecondaryIndex<T>, d: TableState<T>): void {
  const stale = d.staleRows?.[si.pos];
  if (stale === undefined) return;
  d.staleRows![si.pos] = undefined;
  const store = d.secondary[si.pos]!;
  for (const pk of stale) {
    const e = d.primary.get(pk);
    if (e !== undefined) si.add(store, si.keysOf(e.object), e);
  }
}

/** Every secondary index's key(s) of obj (a string for single-key indexes); throws on a unique conflict. */
function secondaryKeys<T>(t: WriteTarget<T>, tt: TableTxn<T>, obj: T, pk: string): (string | string[])[] {
  const out: (string | string[])[] = [];
  for (const si of t.secondaryIndexes) {
    const keys = si.def.multi ? si.def.keysOf(obj) : si.def.keyOf(obj);
    out.push(keys);
    if (!si.def.unique) continue;
    const list = typeof keys === 'string' ? [keys] : keys;
    const store = tt.draft.secondary[si.pos]!;
    for (const key of list) {
      const holder = si.conflict(store, [key], pk);
      if (holder !== undefined) {
        // The index may hold an older version of the holder (same keys): report the current one.
        const current = tt.draft.primary.get(holder.key) ?? holder;
        throw new UniqueConstraintError<T>(t.name, si.def.name, describeKey(key), current.object);
      }
    }
  }
  return out;
}

/** Deletes the object with primary key pk; returns its entry, or undefined (and no revision bump) when absent. */
export function remove<T>(t: WriteTarget<T>, tt: TableTxn<T>, pk: string): StoredEntry<T> | undefined {
  const d = tt.draft;
  const old = d.primary.delete(pk);
  if (old === undefined) return undefined;
  for (const si of t.secondaryIndexes) si.remove(d.secondary[si.pos]!, si.keysOf(old.object), pk);
  const rev = ++d.revision;
  supersede(tt, old, rev);
  const record = new DeleteRecord<T>(old.object, rev, pk);
  tt.log.push(record);
  tt.deletes.push(record);
  return old;
}
