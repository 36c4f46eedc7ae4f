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
  const undo = (): void => {
    if (old === undefined) d.primary.delete(pk);
    else d.primary.set(pk, old);
  };
  if (old !== undefined && old.object === obj) {
    undo();
    throw new SameObjectError(t.name);
  }
  const secs = t.secondaryIndexes;
  if (secs.length > 0) {
    const newKeys: string[][] = [];
    try {
      for (const si of secs) {
        const keys = si.keysOf(obj);
        newKeys.push(keys);
        if (!si.def.unique) continue;
        const holder = si.conflict(d.secondary[si.pos]!, keys, pk);
        if (holder !== undefined) {
          const key = keys.find((k) => si.conflict(d.secondary[si.pos]!, [k], pk) !== undefined) ?? '';
          throw new UniqueConstraintError<T>(t.name, si.def.name, describeKey(key), holder.object);
        }
      }
    } catch (e) {
      undo();
      throw e;
    }
    for (const si of secs) {
      si.replace(d.secondary[si.pos]!, old === undefined ? undefined : si.keysOf(old.object), newKeys[si.pos]!, entry);
    }
  }
  if (old !== undefined) d.byRevision.delete(old.revision);
  d.byRevision.set(rev, entry);
  if (rev > d.revision) d.revision = rev;
  tt.log.push(entry);
  return old;
}

/** Deletes the object with primary key pk; returns its entry, or undefined (and no revision bump) when absent. */
export function remove<T>(t: WriteTarget<T>, tt: TableTxn<T>, pk: string): StoredEntry<T> | undefined {
  const d = tt.draft;
  const old = d.primary.delete(pk);
  if (old === undefined) return undefined;
  for (const si of t.secondaryIndexes) si.remove(d.secondary[si.pos]!, si.keysOf(old.object), pk);
  d.byRevision.delete(old.revision);
  const rev = ++d.revision;
  tt.log.push(new DeleteRecord<T>(old.object, rev, pk));
  return old;
}
