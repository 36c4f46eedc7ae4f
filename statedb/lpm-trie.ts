// A persistent binary trie over 128-bit prefixes (16-byte binary strings
// plus a bit length), with path compression and "imaginary" branching nodes
// that hold no entries. It answers longest-prefix-match lookups for the LPM
// index; IPv4 lives inside it as IPv4-mapped IPv6 (lengths shifted by 96).
// Ownership works as in btree.ts: nodes owned by the open write are mutated
// in place, others are copied first.

/** What the trie stores per prefix: values ordered by a sort key (the primary key). */
export interface LpmItem<V> {
  readonly sortKey: string;
  readonly value: V;
}

class LpmNode<V> {
  constructor(
    public addr: string,
    public bits: number,
    /** Null for an imaginary (branching-only) node. */
    public items: LpmItem<V>[] | null,
    public left: LpmNode<V> | null,
    public right: LpmNode<V> | null,
    public owner: object | null,
  ) {}
}

function bitAt(addr: string, i: number): number {
  return (addr.charCodeAt(i >> 3) >> (7 - (i & 7))) & 1;
}

/** Number of leading bits a and b share, at most `limit`. */
function commonBits(a: string, b: string, limit: number): number {
  let i = 0;
  while (i < limit) {
    const byte = i >> 3;
    const x = a.charCodeAt(byte) ^ b.charCodeAt(byte);
    if (x === 0) {
      i = (byte + 1) * 8;
      continue;
    }
    return Math.min(limit, byte * 8 + Math.clz32(x) - 24);
  }
  return limit;
}

function mask(addr: string, bits: number): string {
  let out = '';
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out += String.fromCharCode(addr.charCodeAt(i) & ((0xff00 >> keep) & 0xff));
  }
  return out;
}

/** The highest address a prefix covers. */
function lastAddress(addr: string, bits: number): string {
  let out = '';
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out += String.fromCharCode(addr.charCodeAt(i) | (0xff >> keep));
  }
  return out;
}

export interface LpmEntry<V> {
  readonly addr: string;
  readonly bits: number;
  readonly items: readonly LpmItem<V>[];
}

export class LpmTrie<V> {
  private constructor(
    private root: LpmNode<V> | null,
    private count: number,
    private owner: object | null,
  ) {}

  static empty<V>(): LpmTrie<V> {
    return new LpmTrie<V>(null, 0, null);
  }

  /** Number of stored items (not prefixes). */
  get size(): number {
    return this.count;
  }

  sameRoot(other: LpmTrie<V>): boolean {
    return this.root === other.root;
  }

  /** A read-only view of the current content (this trie itself when already frozen). */
  snapshot(): LpmTrie<V> {
    if (this.owner === null) return this;
    this.freeze();
    return new LpmTrie<V>(this.root, this.count, null);
  }

  forWrite(): LpmTrie<V> {
    return new LpmTrie<V>(this.root, this.count, {});
  }

  freeze(final = false): void {
    if (this.owner !== null) this.owner = final ? null : {};
  }

  /** The items of the longest stored prefix containing addr/bits, or undefined. */
  lookup(addr: string, bits: number): readonly LpmItem<V>[] | undefined {
    let node = this.root;
    let best: LpmItem<V>[] | undefined;
    while (node !== null) {
      if (node.bits > bits || commonBits(node.addr, addr, node.bits) < node.bits) break;
      // An imaginary node matching the query's exact length must not end the
      // search with "not found": the best real ancestor stays the answer.
      if (node.items !== null) best = node.items;
      if (node.bits === bits) break;
      node = bitAt(addr, node.bits) === 0 ? node.left : node.right;
    }
    return best;
  }

  /** The items stored under exactly addr/bits. */
  exact(addr: string, bits: number): readonly LpmItem<V>[] | undefined {
    let node = this.root;
    while (node !== null) {
      if (node.bits > bits || commonBits(node.addr, addr, node.bits) < node.bits) return undefined;
      if (node.bits === bits) return node.items ?? undefined;
      node = bitAt(addr, node.bits) === 0 ? node.left : node.right;
    }
    return undefined;
  }

  /** Every stored prefix in key order: by address, then shorter first. */
  *entries(): Generator<LpmEntry<V>> {
    this.freeze();
    yield* walk(this.root);
  }

  /** Stored prefixes contained in addr/bits (at least as specific), in key order. */
  *within(addr: string, bits: number): Generator<LpmEntry<V>> {
    this.freeze();
    let node = this.root;
    while (node !== null && node.bits < bits) {
      if (commonBits(node.addr, addr, node.bits) < node.bits) return;
      node = bitAt(addr, node.bits) === 0 ? node.left : node.right;
    }
    if (node === null || commonBits(node.addr, addr, bits) < bits) return;
    yield* walk(node);
  }

  /** Stored prefixes whose (address, length) is >= (addr, bits), in key order. */
  *from(addr: string, bits: number): Generator<LpmEntry<V>> {
    this.freeze();
    yield* walkFrom(this.root, addr, bits);
  }

  /** Adds or replaces (same sortKey) an item under addr/bits (addr must be masked). */
  insert(addr: string, bits: number, item: LpmItem<V>): void {
    this.assertWritable();
    this.root = this.insertAt(this.root, addr, bits, item);
  }

  /** Removes the item with sortKey under addr/bits; returns whether it was there. */
  remove(addr: string, bits: number, sortKey: string): boolean {
    this.assertWritable();
    const before = this.count;
    this.root = this.removeAt(this.root, addr, bits, sortKey);
    return this.count < before;
  }

  private assertWritable(): void {
    if (this.owner === null) throw new Error('statedb internal: write to a frozen LPM trie');
  }

  private own(n: LpmNode<V>): LpmNode<V> {
    if (n.owner === this.owner) return n;
    return new LpmNode<V>(n.addr, n.bits, n.items === null ? null : n.items.slice(), n.left, n.right, this.owner);
  }

  private insertAt(node: LpmNode<V> | null, addr: string, bits: number, item: LpmItem<V>): LpmNode<V> {
    if (node === null) {
      this.count++;
      return new LpmNode<V>(addr, bits, [item], null, null, this.owner);
    }
    const common = commonBits(node.addr, addr, Math.min(node.bits, bits));
    if (common === node.bits && common === bits) {
      const n = this.own(node);
      if (n.items === null) n.items = [];
      const items = n.items;
      let i = 0;
      while (i < items.length && items[i]!.sortKey < item.sortKey) i++;
      if (i < items.length && items[i]!.sortKey === item.sortKey) items[i] = item;
      else {
        items.splice(i, 0, item);
        this.count++;
      }
      return n;
    }
    if (common === node.bits) {
      const n = this.own(node);
      if (bitAt(addr, n.bits) === 0) n.left = this.insertAt(n.left, addr, bits, item);
      else n.right = this.insertAt(n.right, addr, bits, item);
      return n;
    }
    this.count++;
    if (common === bits) {
      // The new prefix contains the node: it becomes the node's parent.
      const parent = new LpmNode<V>(addr, bits, [item], null, null, this.owner);
      if (bitAt(node.addr, bits) === 0) parent.left = node;
      else parent.right = node;
      return parent;
    }
    // They diverge below both: an imaginary node branches at the first differing bit.
    const leaf = new LpmNode<V>(addr, bits, [item], null, null, this.owner);
    const branch = new LpmNode<V>(mask(addr, common), common, null, null, null, this.owner);
    if (bitAt(addr, common) === 0) {
      branch.left = leaf;
      branch.right = node;
    } else {
      branch.left = node;
      branch.right = leaf;
    }
    return branch;
  }

  private removeAt(node: LpmNode<V> | null, addr: string, bits: number, sortKey: string): LpmNode<V> | null {
    if (node === null || node.bits > bits || commonBits(node.addr, addr, node.bits) < node.bits) return node;
    let n: LpmNode<V>;
    if (node.bits === bits) {
      const i = node.items === null ? -1 : node.items.findIndex((it) => it.sortKey === sortKey);
      if (i < 0) return node;
      n = this.own(node);
      n.items!.splice(i, 1);
      this.count--;
      if (n.items!.length === 0) n.items = null;
    } else {
      const goLeft = bitAt(addr, node.bits) === 0;
      const child = goLeft ? node.left : node.right;
      const newChild = this.removeAt(child, addr, bits, sortKey);
      if (newChild === child) return node;
      n = this.own(node);
      if (goLeft) n.left = newChild;
      else n.right = newChild;
    }
    // An imaginary node needs two children; with fewer it collapses.
    if (n.items === null) {
      if (n.left === null) return n.right;
      if (n.right === null) return n.left;
    }
    return n;
  }

  /** Structural checks for validation mode; returns the problems found. */
  check(): string[] {
    const problems: string[] = [];
    let counted = 0;
    const visit = (n: LpmNode<V> | null, parentBits: number, parentAddr: string | null): void => {
      if (n === null) return;
      if (n.bits <= parentBits && parentAddr !== null) problems.push('child prefix not longer than parent');
      if (parentAddr !== null && commonBits(n.addr, parentAddr, parentBits) < parentBits) {
        problems.push('child outside its parent prefix');
      }
      if (mask(n.addr, n.bits) !== n.addr) problems.push('unmasked prefix address');
      if (n.items === null && (n.left === null || n.right === null)) problems.push('imaginary node with < 2 children');
      if (n.items !== null) {
        if (n.items.length === 0) problems.push('empty item list');
        counted += n.items.length;
        for (let i = 1; i < n.items.length; i++) {
          if (!(n.items[i - 1]!.sortKey < n.items[i]!.sortKey)) problems.push('items not sorted by primary key');
        }
      }
      if (n.left !== null && bitAt(n.left.addr, n.bits) !== 0) problems.push('left child with bit 1');
      if (n.right !== null && bitAt(n.right.addr, n.bits) !== 1) problems.push('right child with bit 0');
      visit(n.left, n.bits, n.addr);
      visit(n.right, n.bits, n.addr);
    };
    visit(this.root, -1, null);
    if (counted !== this.count) problems.push(`size ${this.count} but ${counted} items`);
    return problems;
  }
}

function* walk<V>(node: LpmNode<V> | null): Generator<LpmEntry<V>> {
  if (node === null) return;
  if (node.items !== null) yield { addr: node.addr, bits: node.bits, items: node.items };
  yield* walk(node.left);
  yield* walk(node.right);
}

function* walkFrom<V>(node: LpmNode<V> | null, addr: string, bits: number): Generator<LpmEntry<V>> {
  if (node === null) return;
  if (lastAddress(node.addr, node.bits) < addr) return; // the whole subtree sorts before the bound
  if (node.items !== null && (node.addr > addr || (node.addr === addr && node.bits >= bits))) {
    yield { addr: node.addr, bits: node.bits, items: node.items };
  }
  yield* walkFrom(node.left, addr, bits);
  yield* walkFrom(node.right, addr, bits);
}
