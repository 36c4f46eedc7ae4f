// The storage side of one secondary index: how an object's keys map to
// entries in a persistent tree (or the LPM trie), uniqueness checks, and the
// add/remove steps of a write. One instance per table index, holding no data.
import { BTree } from './btree.js';
import type { StoredEntry } from './entry.js';
import type { IndexDef } from './indexes.js';
import { nonUniqueStorageKey, splitLpmKey } from './indexes.js';
import { LpmTrie } from './lpm-trie.js';

export type SecondaryStore<T> = BTree<string, StoredEntry<T>> | LpmTrie<StoredEntry<T>>;

export class SecondaryIndex<T> {
  readonly lpm: boolean;

  constructor(
    readonly def: IndexDef<T, unknown>,
    /** Position in TableState.secondary. */
    readonly pos: number,
  ) {
    this.lpm = def.kind === 'lpm';
  }

  emptyStore(): SecondaryStore<T> {
    return this.lpm ? LpmTrie.empty<StoredEntry<T>>() : BTree.empty<string, StoredEntry<T>>();
  }

  /** The object's encoded keys in this index (deduplicated). */
  keysOf(obj: T): string[] {
    return this.def.multi ? this.def.keysOf(obj) : [this.def.keyOf(obj)];
  }

  /** For a unique index: the entry of another object already holding one of `keys`. */
  conflict(store: SecondaryStore<T>, keys: string[], primaryKey: string): StoredEntry<T> | undefined {
    for (const key of keys) {
      let holder: StoredEntry<T> | undefined;
      if (store instanceof LpmTrie) {
        const { addr, bits } = splitLpmKey(key);
        holder = store.exact(addr, bits)?.[0]?.value;
      } else holder = store.get(key);
      if (holder !== undefined && holder.key !== primaryKey) return holder;
    }
    return undefined;
  }

  /** The key under which `key` of object `primaryKey` is stored. */
  storageKey(key: string, primaryKey: string): string {
    return this.def.unique ? key : nonUniqueStorageKey(key, primaryKey);
  }

  /** Stores `entry` under each of keys (replacing the object's previous entry there). */
  add(store: SecondaryStore<T>, keys: string[], entry: StoredEntry<T>): void {
    if (store instanceof LpmTrie) {
      for (const key of keys) {
        const { addr, bits } = splitLpmKey(key);
        store.insert(addr, bits, { sortKey: entry.key, value: entry });
      }
      return;
    }
    for (const key of keys) store.set(this.storageKey(key, entry.key), entry);
  }

  /** Removes the object's entries under each of keys. */
  remove(store: SecondaryStore<T>, keys: string[], primaryKey: string): void {
    if (store instanceof LpmTrie) {
      for (const key of keys) {
        const { addr, bits } = splitLpmKey(key);
        store.remove(addr, bits, primaryKey);
      }
      return;
    }
    for (const key of keys) store.delete(this.storageKey(key, primaryKey));
  }

  /** replace() for single-key indexes, without key arrays. */
  replaceOne(store: SecondaryStore<T>, oldKey: string | undefined, newKey: string, entry: StoredEntry<T>): void {
    if (store instanceof LpmTrie) {
      this.replace(store, oldKey === undefined ? undefined : [oldKey], [newKey], entry);
      return;
    }
    store.set(this.storageKey(newKey, entry.key), entry);
    if (oldKey !== undefined && oldKey !== newKey) store.delete(this.storageKey(oldKey, entry.key));
  }

  /** Replaces old keys by new ones: adds every new key, then removes old keys no longer present. */
  replace(store: SecondaryStore<T>, oldKeys: string[] | undefined, newKeys: string[], entry: StoredEntry<T>): void {
    this.add(store, newKeys, entry);
    if (oldKeys === undefined) return;
    for (const key of oldKeys) {
      if (!newKeys.includes(key)) this.remove(store, [key], entry.key);
    }
  }
}
