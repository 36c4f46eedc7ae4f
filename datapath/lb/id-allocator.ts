// Service (= reverse-NAT) and backend IDs (reference §4.1). IDs start at 1
// and are handed out monotonically: a released ID is not handed out again
// until the counter has gone all the way round, because a conntrack entry
// may still name it. After the maximum the counter wraps to the first ID
// and skips IDs in use.

/** No free ID is left in the range. */
export class IDExhaustedError extends Error {
  override readonly name = 'IDExhaustedError';
  constructor(
    readonly allocator: string,
    readonly max: number,
  ) {
    super(`${allocator}: every ID in 1..${max - 1} is in use`);
  }
}

/** Hands out IDs for keys (an address key string). Not thread-safe; all synchronous. */
export class IDAllocator {
  private nextId: number;
  private readonly idByKey = new Map<string, number>();
  private readonly keyById = new Map<number, string>();
  // IDs found in the pinned maps at start, reserved for their keys until
  // someone claims them (acquire) or prune forgets them.
  private readonly restored = new Map<string, number>();

  /** IDs in [first, limit); e.g. service IDs [1, 0xffff), backend IDs [1, 0xffffffff). */
  constructor(
    readonly name: string,
    readonly first: number,
    readonly limit: number,
  ) {
    this.nextId = first;
  }

  /** IDs in use (restored reservations included). */
  get size(): number {
    return this.keyById.size;
  }

  /** The key's ID, or undefined. Restored reservations do not count until claimed. */
  get(key: string): number | undefined {
    return this.idByKey.get(key);
  }

  /** The key holding an ID (claimed or restored), or undefined. */
  keyOf(id: number): string | undefined {
    return this.keyById.get(id);
  }

  /** True when the ID is claimed (not merely a restored reservation). */
  isClaimed(id: number): boolean {
    const key = this.keyById.get(id);
    return key !== undefined && this.idByKey.get(key) === id;
  }

  /**
   * The key's ID: the one it has, else the one restored for it, else the
   * next free one. Idempotent per key. Throws IDExhaustedError.
   */
  acquire(key: string): number {
    const have = this.idByKey.get(key);
    if (have !== undefined) return have;
    const restored = this.restored.get(key);
    if (restored !== undefined) {
      this.restored.delete(key);
      this.idByKey.set(key, restored);
      return restored;
    }
    const id = this.findFree();
    this.idByKey.set(key, id);
    this.keyById.set(id, key);
    this.nextId = id + 1 >= this.limit ? this.first : id + 1;
    return id;
  }

  /** Frees the key's ID (it is not handed out again soon). No-op for a key without one. */
  release(key: string): void {
    const id = this.idByKey.get(key);
    if (id === undefined) return;
    this.idByKey.delete(key);
    this.keyById.delete(id);
  }

  /**
   * Reserves an ID found in the maps at start for its key, and moves the
   * counter past it. A conflicting reservation (the ID or the key already
   * taken) is ignored and returns false: the entry is pruned later.
   */
  restore(key: string, id: number): boolean {
    if (!Number.isInteger(id) || id < this.first || id >= this.limit) return false;
    if (this.keyById.has(id) || this.idByKey.has(key) || this.restored.has(key)) return false;
    this.restored.set(key, id);
    this.keyById.set(id, key);
    if (id >= this.nextId) this.nextId = id + 1 >= this.limit ? this.first : id + 1;
    return true;
  }

  /** Drops restored reservations nobody claimed; returns their IDs. */
  forgetRestored(): number[] {
    const ids = [...this.restored.values()];
    for (const id of ids) this.keyById.delete(id);
    this.restored.clear();
    return ids;
  }

  private findFree(): number {
    let id = this.nextId;
    for (let scanned = 0; scanned < this.limit - this.first; scanned++) {
      if (!this.keyById.has(id)) return id;
      id = id + 1 >= this.limit ? this.first : id + 1;
    }
    throw new IDExhaustedError(this.name, this.limit);
  }
}
