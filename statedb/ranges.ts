// Re-iterable query results. Each holds a frozen snapshot of the tree it
// reads, so it yields the same entries however often it is iterated and
// whatever the transaction does afterwards (deleting while iterating is safe).
import type { BTree, Cursor, TreeKey } from './btree.js';
import type { Entry, StoredEntry } from './entry.js';
import type { LpmEntry } from './lpm-trie.js';
import type { TableState } from './table-state.js';

class RangeIterator<K extends TreeKey, T> implements Iterator<Entry<T>> {
  private readonly seen: Set<StoredEntry<T>> | null;

  constructor(
    private readonly cursor: Cursor<K, StoredEntry<T>>,
    private readonly prefix: string | undefined,
    dedupe: boolean,
    private readonly resolver: TableState<T> | null,
  ) {
    this.seen = dedupe ? new Set() : null;
  }

  next(): IteratorResult<Entry<T>> {
    const c = this.cursor;
    const prefix = this.prefix;
    while (c.valid) {
      if (prefix !== undefined && !(c.key as string).startsWith(prefix)) break;
      const v = this.resolver === null ? c.value : this.resolver.current(c.value);
      c.next();
      if (this.seen !== null) {
        if (this.seen.has(v)) continue;
        this.seen.add(v);
      }
      return { value: v, done: false };
    }
    return { value: undefined, done: true };
  }

  [Symbol.iterator](): Iterator<Entry<T>> {
    return this;
  }
}

/**
 * Entries of a tree from `start` (inclusive; the beginning when undefined),
 * stopping at the first key not starting with `prefix` (when given), each
 * entry once when `dedupe` (an object stored under several keys). Entries
 * of a secondary index pass through `resolver.current` (see TableState).
 */
export class TreeRange<K extends TreeKey, T> implements Iterable<Entry<T>> {
  constructor(
    private readonly tree: BTree<K, StoredEntry<T>>,
    private readonly start: K | undefined,
    private readonly prefix: string | undefined,
    private readonly dedupe: boolean,
    private readonly resolver: TableState<T> | null = null,
  ) {}

  [Symbol.iterator](): Iterator<Entry<T>> {
    return new RangeIterator<K, T>(this.tree.cursor(this.start), this.prefix, this.dedupe, this.resolver);
  }
}

/**
 * Live entries of a committed state's revision index from a revision on, in
 * revision order. A committed state's view of the shared log never changes,
 * so the range needs no copy of it.
 */
export class RevisionRange<T> implements Iterable<Entry<T>> {
  constructor(
    private readonly state: TableState<T>,
    private readonly from: number,
  ) {}

  *[Symbol.iterator](): Iterator<Entry<T>> {
    for (const c = this.state.revisionCursor(this.from); c.valid; c.next()) yield c.value;
  }
}

/** Entries of LPM trie nodes, flattened in key order, each object once, through `resolver.current`. */
export class LpmRange<T> implements Iterable<Entry<T>> {
  constructor(
    private readonly nodes: () => Iterable<LpmEntry<StoredEntry<T>>>,
    private readonly resolver: TableState<T>,
  ) {}

  *[Symbol.iterator](): Iterator<Entry<T>> {
    const seen = new Set<StoredEntry<T>>();
    for (const node of this.nodes()) {
      for (const item of node.items) {
        const e = this.resolver.current(item.value);
        if (seen.has(e)) continue;
        seen.add(e);
        yield e;
      }
    }
  }
}

/** Zero or one entry. */
export function justEntry<T>(entry: Entry<T> | undefined): Iterable<Entry<T>> {
  return entry === undefined ? [] : [entry];
}
