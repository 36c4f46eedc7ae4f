// One table as of one commit: its index trees, revision and initializer
// state. Committed states are immutable and shared by every snapshot that
// holds them; a write transaction works on a draft whose trees copy nodes
// on first write.
import { BTree } from './btree.js';
import type { StoredEntry } from './entry.js';
import type { SecondaryStore } from './secondary-index.js';
import type { Watch } from './watch.js';

/** Pending initializers and the watch that closes when they are all done. */
export interface InitState {
  readonly pending: readonly string[];
  readonly watch: Watch;
}

export class TableState<T> {
  constructor(
    /** Encoded primary key -> entry. */
    public primary: BTree<string, StoredEntry<T>>,
    /** Revision -> entry: the objects in modification order. */
    public byRevision: BTree<number, StoredEntry<T>>,
    /** One store per secondary index, by SecondaryIndex.pos. */
    public secondary: SecondaryStore<T>[],
    /** The revision of the last insert, update or delete (0 for a new table). */
    public revision: number,
    /** Null when no initializer was ever registered or all were done at a commit. */
    public init: InitState | null,
    /**
     * Primary key -> entry for the latest committed state only: a hash
     * lookup beats a tree walk for `get`. Moved to the next state at commit
     * (and cleared here), so older snapshots fall back to the tree.
     */
    public latest: Map<string, StoredEntry<T>> | null,
  ) {}

  static empty<T>(secondary: SecondaryStore<T>[]): TableState<T> {
    return new TableState<T>(BTree.empty(), BTree.empty(), secondary, 0, null, new Map());
  }

  /** A draft for a write transaction: same content, trees that copy on write. */
  draft(): TableState<T> {
    return new TableState<T>(
      this.primary.forWrite(),
      this.byRevision.forWrite(),
      this.secondary.map((s) => s.forWrite()),
      this.revision,
      this.init,
      null,
    );
  }

  /** Makes a committed draft read-only. */
  seal(): void {
    this.primary.freeze(true);
    this.byRevision.freeze(true);
    for (const s of this.secondary) s.freeze(true);
  }

  /** The entry stored under an encoded primary key. */
  lookup(key: string): StoredEntry<T> | undefined {
    const latest = this.latest;
    return latest !== null ? latest.get(key) : this.primary.get(key);
  }
}
