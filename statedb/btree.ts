// A persistent (copy-on-write) B+tree keyed by strings or numbers, the
// ordered storage under every table index. It knows nothing of tables.
//
// Why hand-written rather than sorted-btree (measured in
// test/bench/statedb-core.bench.ts and the commit message): we need
// clone-once-per-transaction mutation (a node owned by the running
// transaction is mutated in place, any other node is copied first), cursors
// that seek and then walk leaves without allocating per step, and a single
// node shape so V8 keeps every call site monomorphic. sorted-btree clones
// lazily too, but with a generic comparator callback it measured 5-10x
// slower than this tree on the same keys.
//
// Ownership: a tree is either frozen (owner === null: shared by snapshots,
// never mutated again) or owned by a write transaction (owner is a token).
// Nodes carry the token of the transaction that created them; writes copy a
// node unless it carries the tree's current token. Handing out an iterator
// over an owned tree calls `freeze()` first, which swaps the token, so later
// writes copy rather than disturb the iterator.

export type TreeKey = string | number;

/** Maximum keys per node; a full node splits in two halves. */
const MAX_KEYS = 32;
/** A node below this many keys is merged with or refilled from a sibling. */
const MIN_KEYS = 8;

/** Leaf: `vals` set, `kids` null. Branch: `kids` set, `vals` null; `keys[i]` is the largest key under `kids[i]`. */
export class TreeNode<K extends TreeKey, V> {
  constructor(
    public keys: K[],
    public vals: V[] | null,
    public kids: TreeNode<K, V>[] | null,
    public owner: object | null,
  ) {}
}

function maxKey<K extends TreeKey, V>(n: TreeNode<K, V>): K {
  return n.keys[n.keys.length - 1]!;
}

/** Index of the first key >= key, or keys.length. */
function lowerIndex<K extends TreeKey>(keys: K[], key: K): number {
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (keys[mid]! < key) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** A copy of arr with x inserted at i. */
function withInserted<X>(arr: X[], i: number, x: X): X[] {
  const n = arr.length;
  const out = new Array<X>(n + 1);
  for (let j = 0; j < i; j++) out[j] = arr[j]!;
  out[i] = x;
  for (let j = i; j < n; j++) out[j + 1] = arr[j]!;
  return out;
}

/** A copy of arr without the element at i. */
function withRemoved<X>(arr: X[], i: number): X[] {
  const n = arr.length - 1;
  const out = new Array<X>(n);
  for (let j = 0; j < i; j++) out[j] = arr[j]!;
  for (let j = i; j < n; j++) out[j] = arr[j + 1]!;
  return out;
}

export class BTree<K extends TreeKey, V> {
  /** Set by insert when the node it returned was split; the right half. */
  private splitRight: TreeNode<K, V> | null = null;
  /** Set by set/delete: the value that was replaced or removed. */
  private previous: V | undefined = undefined;
  /** True during a set whose key is larger than every key in the tree. */
  private appending = false;

  private constructor(
    private root: TreeNode<K, V>,
    private count: number,
    private owner: object | null,
  ) {}

  static empty<K extends TreeKey, V>(): BTree<K, V> {
    return new BTree<K, V>(new TreeNode<K, V>([], [], null, null), 0, null);
  }

  get size(): number {
    return this.count;
  }

  /** True when the tree may be mutated (it belongs to an open write). */
  get writable(): boolean {
    return this.owner !== null;
  }

  /** Same root as `other`, identical content: cheap "did this index change" test. */
  sameRoot(other: BTree<K, V>): boolean {
    return this.root === other.root;
  }

  /** A writable copy sharing every node; nodes are copied on first write. */
  forWrite(): BTree<K, V> {
    return new BTree<K, V>(this.root, this.count, {});
  }

  /**
   * Stops in-place mutation of the nodes reachable now: later writes copy.
   * Called before handing out an iterator, and at commit (then with `final`
   * the tree becomes read-only).
   */
  freeze(final = false): void {
    if (this.owner !== null) this.owner = final ? null : {};
  }

  get(key: K): V | undefined {
    let n = this.root;
    while (n.kids !== null) {
      const i = lowerIndex(n.keys, key);
      if (i === n.keys.length) return undefined;
      n = n.kids[i]!;
    }
    const i = lowerIndex(n.keys, key);
    return n.keys[i] === key ? n.vals![i] : undefined;
  }

  /** The entry with the largest key, or undefined when empty. */
  last(): V | undefined {
    let n = this.root;
    while (n.kids !== null) n = n.kids[n.kids.length - 1]!;
    return n.vals![n.vals!.length - 1];
  }

  /** Inserts or replaces; returns the replaced value. Throws on a frozen tree. */
  set(key: K, val: V): V | undefined {
    this.assertWritable();
    this.previous = undefined;
    // Keys past the largest (increasing ids) go down the right edge without
    // a binary search per level: one comparison instead of about 25.
    const keys = this.root.keys;
    this.appending = keys.length > 0 && key > keys[keys.length - 1]!;
    let root = this.insert(this.root, key, val);
    this.appending = false;
    const right = this.splitRight;
    if (right !== null) {
      this.splitRight = null;
      root = new TreeNode<K, V>([maxKey(root), maxKey(right)], null, [root, right], this.owner);
    }
    this.root = root;
    const prev = this.previous;
    if (prev === undefined) this.count++;
    this.previous = undefined;
    return prev;
  }

  /** Removes key; returns the removed value, or undefined when absent. */
  delete(key: K): V | undefined {
    this.assertWritable();
    this.previous = undefined;
    const root = this.remove(this.root, key);
    const prev = this.previous;
    if (prev === undefined) return undefined;
    this.previous = undefined;
    this.count--;
    // A branch with a single child is replaced by that child.
    this.root = root.kids !== null && root.kids.length === 1 ? root.kids[0]! : root;
    return prev;
  }

  /** A read-only view of the current content (this tree itself when already frozen). */
  snapshot(): BTree<K, V> {
    if (this.owner === null) return this;
    this.freeze();
    return new BTree<K, V>(this.root, this.count, null);
  }

  /** A cursor at the first key >= key (or at the first key when key is undefined). */
  cursor(key?: K, freeze = true): Cursor<K, V> {
    // An internal one-shot read (freeze = false) must not be kept across writes.
    if (freeze) this.freeze();
    return new Cursor<K, V>(this.root, key);
  }

  private assertWritable(): void {
    if (this.owner === null) throw new Error('statedb internal: write to a frozen tree');
  }

  private own(n: TreeNode<K, V>): TreeNode<K, V> {
    if (n.owner === this.owner) return n;
    return new TreeNode<K, V>(
      n.keys.slice(),
      n.vals === null ? null : n.vals.slice(),
      n.kids === null ? null : n.kids.slice(),
      this.owner,
    );
  }

  private insert(node: TreeNode<K, V>, key: K, val: V): TreeNode<K, V> {
    if (node.kids === null) return this.insertLeaf(node, key, val);
    let i = this.appending ? node.keys.length : lowerIndex(node.keys, key);
    // Past every key: it goes into the last child, whose max key grows.
    const grows = i === node.keys.length;
    if (grows) i--;
    const child = node.kids[i]!;
    const newChild = this.insert(child, key, val);
    const right = this.splitRight;
    this.splitRight = null;
    if (newChild === child && right === null && !grows) return node;
    const n = this.own(node);
    n.kids![i] = newChild;
    n.keys[i] = maxKey(newChild);
    if (right !== null) {
      n.kids!.splice(i + 1, 0, right);
      n.keys.splice(i + 1, 0, maxKey(right));
      if (n.keys.length > MAX_KEYS) {
        const half = n.keys.length >>> 1;
        this.splitRight = new TreeNode<K, V>(n.keys.splice(half), null, n.kids!.splice(half), this.owner);
      }
    }
    return n;
  }

  private insertLeaf(node: TreeNode<K, V>, key: K, val: V): TreeNode<K, V> {
    const i = this.appending ? node.keys.length : lowerIndex(node.keys, key);
    if (node.keys[i] === key) {
      const n = this.own(node);
      this.previous = n.vals![i];
      n.vals![i] = val;
      return n;
    }
    let n: TreeNode<K, V>;
    if (node.owner === this.owner) {
      n = node;
      if (i === n.keys.length) {
        n.keys.push(key);
        n.vals!.push(val);
      } else {
        n.keys.splice(i, 0, key);
        n.vals!.splice(i, 0, val);
      }
    } else {
      // A shared leaf: copy it with the new entry in place, one allocation per array.
      n = new TreeNode<K, V>(withInserted(node.keys, i, key), withInserted(node.vals!, i, val), null, this.owner);
    }
    if (n.keys.length > MAX_KEYS) {
      // Appending at the right edge (increasing keys, e.g. revisions) splits
      // unevenly so that left leaves stay full.
      const at = i === n.keys.length - 1 ? MAX_KEYS - MIN_KEYS : n.keys.length >>> 1;
      this.splitRight = new TreeNode<K, V>(n.keys.splice(at), n.vals!.splice(at), null, this.owner);
    }
    return n;
  }

  private remove(node: TreeNode<K, V>, key: K): TreeNode<K, V> {
    const i = lowerIndex(node.keys, key);
    if (node.kids === null) {
      if (node.keys[i] !== key) return node;
      this.previous = node.vals![i];
      if (node.owner !== this.owner) {
        return new TreeNode<K, V>(withRemoved(node.keys, i), withRemoved(node.vals!, i), null, this.owner);
      }
      node.keys.splice(i, 1);
      node.vals!.splice(i, 1);
      return node;
    }
    if (i === node.keys.length) return node;
    const child = node.kids[i]!;
    const newChild = this.remove(child, key);
    if (this.previous === undefined) return node;
    const n = this.own(node);
    n.kids![i] = newChild;
    if (newChild.keys.length === 0) {
      n.kids!.splice(i, 1);
      n.keys.splice(i, 1);
    } else {
      n.keys[i] = maxKey(newChild);
      if (newChild.keys.length < MIN_KEYS && n.kids!.length > 1) this.rebalance(n, i);
    }
    return n;
  }

  /** Merges kids[i] with a neighbour, or evens them out when both are too full to merge. */
  private rebalance(parent: TreeNode<K, V>, i: number): void {
    const li = i > 0 ? i - 1 : i;
    const left = this.own(parent.kids![li]!);
    const right = this.own(parent.kids![li + 1]!);
    const keys = left.keys.concat(right.keys);
    const vals = left.vals === null ? null : left.vals.concat(right.vals!);
    const kids = left.kids === null ? null : left.kids.concat(right.kids!);
    if (keys.length <= MAX_KEYS) {
      left.keys = keys;
      left.vals = vals;
      left.kids = kids;
      parent.kids!.splice(li, 2, left);
      parent.keys.splice(li, 2, maxKey(left));
      return;
    }
    const half = keys.length >>> 1;
    left.keys = keys.slice(0, half);
    right.keys = keys.slice(half);
    if (vals !== null) {
      left.vals = vals.slice(0, half);
      right.vals = vals.slice(half);
    } else {
      left.kids = kids!.slice(0, half);
      right.kids = kids!.slice(half);
    }
    parent.kids![li] = left;
    parent.kids![li + 1] = right;
    parent.keys[li] = maxKey(left);
    parent.keys[li + 1] = maxKey(right);
  }

  /** Checks ordering, separator keys, fill and the size (validation mode). Returns problems found. */
  check(): string[] {
    const problems: string[] = [];
    let counted = 0;
    let prev: K | undefined;
    const walk = (n: TreeNode<K, V>, depth: number, leafDepth: { d: number }, isRoot: boolean): void => {
      if (!isRoot && n.keys.length === 0) problems.push('empty non-root node');
      if (n.keys.length > MAX_KEYS) problems.push(`node over capacity (${n.keys.length})`);
      if (n.kids === null) {
        if (leafDepth.d < 0) leafDepth.d = depth;
        else if (leafDepth.d !== depth) problems.push('leaves at different depths');
        if (n.vals!.length !== n.keys.length) problems.push('leaf keys/values length mismatch');
        for (const k of n.keys) {
          if (prev !== undefined && !(prev < k)) problems.push(`keys out of order: ${String(prev)} >= ${String(k)}`);
          prev = k;
          counted++;
        }
        return;
      }
      if (n.kids.length !== n.keys.length) problems.push('branch keys/kids length mismatch');
      n.kids.forEach((kid, i) => {
        if (kid.keys.length > 0 && maxKey(kid) !== n.keys[i]) problems.push('stale separator key');
        walk(kid, depth + 1, leafDepth, false);
      });
    };
    walk(this.root, 0, { d: -1 }, true);
    if (counted !== this.count) problems.push(`size ${this.count} but ${counted} keys`);
    return problems;
  }
}

/**
 * A forward cursor over a frozen set of nodes. `valid` says whether it
 * points at an entry; `key`/`value` read it; `next()` advances. Allocates
 * only its two small stacks.
 */
export class Cursor<K extends TreeKey, V> {
  private readonly nodes: TreeNode<K, V>[] = [];
  private readonly indexes: number[] = [];
  private leaf: TreeNode<K, V> | null = null;
  private pos = 0;

  constructor(root: TreeNode<K, V>, key: K | undefined) {
    let n = root;
    while (n.kids !== null) {
      const i = key === undefined ? 0 : lowerIndex(n.keys, key);
      if (i === n.keys.length) return; // every key is smaller: invalid cursor
      this.nodes.push(n);
      this.indexes.push(i);
      n = n.kids[i]!;
    }
    const i = key === undefined ? 0 : lowerIndex(n.keys, key);
    this.leaf = n;
    this.pos = i;
    if (i >= n.keys.length) this.nextLeaf();
  }

  get valid(): boolean {
    return this.leaf !== null;
  }

  get key(): K {
    return this.leaf!.keys[this.pos]!;
  }

  get value(): V {
    return this.leaf!.vals![this.pos]!;
  }

  next(): void {
    if (++this.pos >= this.leaf!.keys.length) this.nextLeaf();
  }

  private nextLeaf(): void {
    const nodes = this.nodes;
    const indexes = this.indexes;
    let depth = nodes.length - 1;
    while (depth >= 0 && indexes[depth]! + 1 >= nodes[depth]!.kids!.length) depth--;
    if (depth < 0) {
      this.leaf = null;
      return;
    }
    indexes[depth]!++;
    let n = nodes[depth]!.kids![indexes[depth]!]!;
    nodes.length = depth + 1;
    indexes.length = depth + 1;
    while (n.kids !== null) {
      nodes.push(n);
      indexes.push(0);
      n = n.kids[0]!;
    }
    this.leaf = n;
    this.pos = 0;
    if (n.keys.length === 0) this.nextLeaf();
  }
}
