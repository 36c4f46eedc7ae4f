// Shared fixtures for the reconciler tests: a row type with a status, its
// table, and an in-memory target that records every operation.
import type { ReadTxn } from '../../statedb/index.js';
import { DB, Keys, uniqueIndex } from '../../statedb/index.js';
import type { BatchEntry, BatchOperations, Clock, Operations, ReconcilerConfig, StatusSet } from '../../reconcilers/index.js';
import { Reconciler, Status, statusProperty, statusSetProperty, TestClock } from '../../reconcilers/index.js';

export interface Item {
  readonly id: number;
  readonly value: string;
  readonly status: Status;
}

export interface MultiItem {
  readonly id: number;
  readonly value: string;
  readonly statuses: StatusSet;
}

export function itemTable(db = new DB()) {
  const table = db.newTable({ name: 'items', primary: uniqueIndex('id', Keys.u32, (o: Item) => o.id) });
  return { db, table };
}

export function multiItemTable(db = new DB()) {
  const table = db.newTable({ name: 'multi', primary: uniqueIndex('id', Keys.u32, (o: MultiItem) => o.id) });
  return { db, table };
}

export const pending = (id: number, value = `v${id}`, clock?: Clock): Item => ({ id, value, status: Status.pending(clock) });
export const done = (id: number, value = `v${id}`, clock?: Clock): Item => ({ id, value, status: Status.done(clock) });

type Failing = (op: 'update' | 'delete' | 'prune', id: number) => boolean;

/**
 * A target holding id -> value, recording each operation as "update(1)",
 * "delete(2) fail", "prune(n=3)". `fail` decides which calls throw; delete of
 * a missing id succeeds (the contract).
 */
export class MemoryTarget implements Operations<{ id: number; value: string }>, BatchOperations<{ id: number; value: string }> {
  readonly state = new Map<number, string>();
  log: string[] = [];
  /** Revisions passed to update, by id. */
  readonly revisions = new Map<number, number[]>();
  fail: Failing = () => false;
  /** When set, operations return promises resolved after this many microtask hops. */
  async = false;

  update(_txn: ReadTxn, revision: number, obj: { id: number; value: string }): void | Promise<void> {
    return this.run('update', obj.id, () => {
      const revs = this.revisions.get(obj.id) ?? [];
      revs.push(revision);
      this.revisions.set(obj.id, revs);
      this.state.set(obj.id, obj.value);
    });
  }

  delete(_txn: ReadTxn, _revision: number, obj: { id: number; value: string }): void | Promise<void> {
    return this.run('delete', obj.id, () => this.state.delete(obj.id));
  }

  prune(_txn: ReadTxn, desired: Iterable<{ id: number; value: string }>): void | Promise<void> {
    const keep = new Set<number>();
    for (const o of desired) keep.add(o.id);
    const failing = this.fail('prune', keep.size);
    this.log.push(`prune(n=${keep.size})${failing ? ' fail' : ''}`);
    const apply = () => {
      if (failing) throw new Error('prune failed');
      for (const id of [...this.state.keys()]) if (!keep.has(id)) this.state.delete(id);
    };
    if (!this.async) return apply();
    return Promise.resolve().then(apply);
  }

  updateBatch(txn: ReadTxn, entries: readonly BatchEntry<{ id: number; value: string }>[]): void {
    this.log.push(`updateBatch(${entries.length})`);
    for (const e of entries) this.perEntry(e, () => this.update(txn, e.revision, e.object));
  }

  deleteBatch(txn: ReadTxn, entries: readonly BatchEntry<{ id: number; value: string }>[]): void {
    this.log.push(`deleteBatch(${entries.length})`);
    for (const e of entries) this.perEntry(e, () => this.delete(txn, e.revision, e.object));
  }

  /** The log since the last call. */
  take(): string[] {
    const out = this.log;
    this.log = [];
    return out;
  }

  private perEntry(e: BatchEntry<unknown>, fn: () => void | Promise<void>): void {
    const wasAsync = this.async;
    this.async = false;
    try {
      void fn();
    } catch (err) {
      e.error = err;
    } finally {
      this.async = wasAsync;
    }
  }

  private run(op: 'update' | 'delete', id: number, apply: () => void): void | Promise<void> {
    const failing = this.fail(op, id);
    this.log.push(`${op}(${id})${failing ? ' fail' : ''}`);
    const go = () => {
      if (failing) throw new Error(`${op} ${id} failed`);
      apply();
    };
    if (!this.async) return go();
    return Promise.resolve().then(go);
  }
}

export interface Harness<R> {
  db: DB;
  clock: TestClock;
  target: MemoryTarget;
  reconciler: Reconciler<R>;
}

type Overrides<R> = Partial<Omit<ReconcilerConfig<R>, 'db' | 'table' | 'operations'>>;

/**
 * A started reconciler on "items" with the test clock, exact backoff (no
 * jitter), no round rate limit, and no pruning or refresh unless overridden.
 */
export function startItems(overrides: Overrides<Item> = {}, opts: { batch?: boolean; initializer?: string } = {}) {
  const { db, table } = itemTable();
  const clock = new TestClock();
  const target = new MemoryTarget();
  const batch = opts.batch ?? false;
  const initializer = opts.initializer;
  const markDone =
    initializer === undefined ? undefined : db.write([table], (txn) => table.registerInitializer(txn, initializer));
  const markInitialized = () => db.write([table], (txn) => markDone?.(txn));
  const reconciler = new Reconciler<Item>({
    db,
    table,
    status: statusProperty<Item, 'status'>('status'),
    operations: target,
    batchOperations: batch ? target : undefined,
    clock,
    retry: { jitter: 0 },
    roundRate: { perSecond: Infinity },
    refreshIntervalMs: 0,
    pruneIntervalMs: 0,
    ...overrides,
  });
  reconciler.start();
  const write = (fn: (txn: Parameters<Parameters<DB['write']>[1]>[0]) => void): number =>
    db.write([table], (txn) => {
      fn(txn);
      return table.revision(txn);
    });
  const insert = (...items: Item[]) => write((txn) => items.forEach((i) => table.insert(txn, i)));
  const remove = (...ids: number[]) => write((txn) => ids.forEach((id) => table.delete(txn, { id } as Item)));
  const get = (id: number) => table.get(db.readTxn(), table.primary.query(id));
  return { db, table, clock, target, reconciler, write, insert, remove, get, markInitialized };
}

/** Two reconcilers ("left", "right") on one table with a StatusSet each (no pruning or refresh). */
export function startMulti(overrides: Overrides<MultiItem> = {}) {
  const { db, table } = multiItemTable();
  const clock = new TestClock();
  const make = (name: string) => {
    const target = new MemoryTarget();
    const reconciler = new Reconciler<MultiItem>({
      db,
      table,
      name,
      status: statusSetProperty<MultiItem, 'statuses'>('statuses', name),
      operations: target,
      clock,
      retry: { jitter: 0 },
      roundRate: { perSecond: Infinity },
      refreshIntervalMs: 0,
      pruneIntervalMs: 0,
      ...overrides,
    });
    return { target, reconciler };
  };
  const left = make('left');
  const right = make('right');
  left.reconciler.start();
  right.reconciler.start();
  const insert = (...items: MultiItem[]) =>
    db.write([table], (txn) => {
      items.forEach((i) => table.insert(txn, i));
      return table.revision(txn);
    });
  const get = (id: number) => table.get(db.readTxn(), table.primary.query(id));
  return { db, table, clock, left, right, insert, get };
}
