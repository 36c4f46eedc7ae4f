// The write steps shared by insert, modify, compareAndSwap, update, delete
// and restore. Every failure happens before the first mutation or is undone,
// so a throwing call leaves the transaction exactly as it was.
import { DeleteRecord, StoredEntry } from './entry.js';
import { SameObjectError, UniqueConstraintError } from './errors.js';
import { describeKey } from './binary.js';
import { freezeRow } from './freeze.js';
import type { IndexDef } from './indexes.js';
import type { SecondaryIndex } from './secondary-index.js';
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
 * `revision` when restoring. Returns the replaced entry. Throws
 * SameObjectError when obj is the very object stored, UniqueConstraintError
 * when another object holds one of its unique keys; errors from key
 * functions propagate. On any throw nothing was changed.
 */
export function upsert<T>(t: WriteTarget<T>, tt: TableTxn<T>, obj: T, revision?: number): StoredEntry<T> | undefined {
  freezeRow(obj, t.deepFreeze);
  const pk = t.primaryDef.keyOf(obj);
  const d = tt.draft;
  const rev = revision ?? d.revision + 1;
  const entry = new StoredEntry<T>(obj, rev, pk);
  const old = d.primary.set(pk, entry);
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
      if (typeof keys === 'string') si.replaceOne(store, old === undefined ? undefined : si.def.keyOf(old.object), keys, entry);
      else si.replace(store, old === undefined ? undefined : si.keysOf(old.object), keys, entry);
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
        throw new UniqueConstraintError<T>(t.name, si.def.name, describeKey(key), holder.object);
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
  tt.log.push(new DeleteRecord<T>(old.object, rev, pk));
  return old;
}
