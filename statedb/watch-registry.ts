// Per-index registries of the watches handed out by queries. They live
// beside the trees (not in them), are shared by all snapshots, and are
// allocated lazily: a table nobody watches pays nothing at commit. Each
// watched key or prefix has one shared Watch; closing removes it.
import { Watch } from './watch.js';

export class IndexWatches {
  private keys: Map<string, Watch> | null = null;
  private prefixes: Map<string, Watch> | null = null;
  /** Registered prefix length -> how many prefixes of that length: only those lengths are probed. */
  private prefixLengths: Map<number, number> | null = null;
  private root: Watch | null = null;

  /** True when a commit must look at changed keys for this index. */
  get hasKeyWatches(): boolean {
    return (this.keys !== null && this.keys.size > 0) || (this.prefixes !== null && this.prefixes.size > 0);
  }

  get hasAny(): boolean {
    return this.root !== null || this.hasKeyWatches;
  }

  /** A watch that closes when the entry under exactly `key` changes (appears, changes, disappears). */
  key(key: string): Watch {
    this.keys ??= new Map();
    let w = this.keys.get(key);
    if (w === undefined) this.keys.set(key, (w = new Watch()));
    return w;
  }

  /** A watch that closes when any key starting with `prefix` changes. */
  prefix(prefix: string): Watch {
    this.prefixes ??= new Map();
    this.prefixLengths ??= new Map();
    let w = this.prefixes.get(prefix);
    if (w === undefined) {
      this.prefixes.set(prefix, (w = new Watch()));
      this.prefixLengths.set(prefix.length, (this.prefixLengths.get(prefix.length) ?? 0) + 1);
    }
    return w;
  }

  /** A watch that closes on any change to the index. */
  any(): Watch {
    return (this.root ??= new Watch());
  }

  /** Closes the watches on `key` and on every registered prefix of it. Call only after the commit is visible. */
  closeKey(key: string): void {
    const keys = this.keys;
    if (keys !== null && keys.size > 0) {
      const w = keys.get(key);
      if (w !== undefined) {
        keys.delete(key);
        w.close();
      }
    }
    const prefixes = this.prefixes;
    if (prefixes === null || prefixes.size === 0) return;
    for (const len of this.prefixLengths!.keys()) {
      if (len > key.length) continue;
      const p = len === key.length ? key : key.slice(0, len);
      const w = prefixes.get(p);
      if (w === undefined) continue;
      prefixes.delete(p);
      const left = this.prefixLengths!.get(len)! - 1;
      if (left === 0) this.prefixLengths!.delete(len);
      else this.prefixLengths!.set(len, left);
      w.close();
    }
  }

  /** Closes the whole-index watch. */
  closeAny(): void {
    const w = this.root;
    if (w === null) return;
    this.root = null;
    w.close();
  }

  /** Counts for tooling and tests. */
  stats(): { keys: number; prefixes: number; any: boolean } {
    return { keys: this.keys?.size ?? 0, prefixes: this.prefixes?.size ?? 0, any: this.root !== null };
  }
}
