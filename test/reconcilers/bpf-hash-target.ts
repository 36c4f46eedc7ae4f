// Reconciler operations for a kernel BPF hash map (u32 key -> u32 value,
// u32 version), written the way a datapath map reconciler would be: batch
// syscalls for incremental changes, idempotent deletes, and a prune that
// collects the keys to remove before removing any. Used by the kernel test
// and the benchmark.
import type { ReadTxn } from '../../statedb/index.js';
import { DB, Keys, uniqueIndex } from '../../statedb/index.js';
import type { BatchEntry, BatchOperations, Operations } from '../../reconcilers/index.js';
import type { Status } from '../../reconcilers/index.js';
import { BpfError, BpfMap } from '../../datapath/index.js';

export interface MapRow {
  readonly id: number;
  readonly value: number;
  readonly status: Status;
}

export const KEY_SIZE = 4;
export const VALUE_SIZE = 8;

export function mapRowTable(db = new DB(), name = 'map-rows') {
  const table = db.newTable({ name, primary: uniqueIndex('id', Keys.u32, (o: MapRow) => o.id) });
  return { db, table };
}

export function createHashMap(maxEntries: number, name: string): BpfMap {
  return BpfMap.create({ type: 'HASH', keySize: KEY_SIZE, valueSize: VALUE_SIZE, maxEntries, name });
}

/** The map's contents as id -> value. */
export function dumpMap(map: BpfMap): Map<number, number> {
  const { keys, values, count } = map.lookupBatch();
  const out = new Map<number, number>();
  for (let i = 0; i < count; i++) out.set(keys.readUInt32LE(i * KEY_SIZE), values.readUInt32LE(i * VALUE_SIZE));
  return out;
}

export class HashMapOps implements Operations<MapRow>, BatchOperations<MapRow> {
  private readonly key = Buffer.alloc(KEY_SIZE);
  private readonly value = Buffer.alloc(VALUE_SIZE);

  constructor(readonly map: BpfMap) {}

  update(_txn: ReadTxn, revision: number, obj: MapRow): void {
    this.key.writeUInt32LE(obj.id, 0);
    this.value.writeUInt32LE(obj.value, 0);
    this.value.writeUInt32LE(revision >>> 0, 4);
    this.map.update(this.key, this.value);
  }

  delete(_txn: ReadTxn, _revision: number, obj: MapRow): void {
    this.key.writeUInt32LE(obj.id, 0);
    this.map.delete(this.key, { idempotent: true });
  }

  /** Walks the map collecting keys not desired, then deletes them (never while walking). */
  prune(_txn: ReadTxn, desired: Iterable<MapRow>): void {
    const keep = new Set<number>();
    for (const o of desired) keep.add(o.id);
    const extra: Buffer[] = [];
    for (const key of this.map.keys()) if (!keep.has(key.readUInt32LE(0))) extra.push(key);
    const errors: unknown[] = [];
    for (const key of extra) {
      try {
        this.map.delete(key, { idempotent: true });
      } catch (e) {
        errors.push(e);
      }
    }
    if (errors.length > 0) throw new AggregateError(errors, `prune: ${errors.length} of ${extra.length} deletes failed`);
  }

  /**
   * UPDATE_BATCH over all entries. On a failure at entry p (BpfError.processed)
   * p gets the error and the batch resumes after it; a full map (E2BIG)
   * fails every remaining entry at once.
   */
  updateBatch(_txn: ReadTxn, entries: readonly BatchEntry<MapRow>[]): void {
    const batch = this.map.batch;
    const { keys, values } = batch.reserve(entries.length);
    entries.forEach((e, i) => {
      keys.writeUInt32LE(e.object.id, i * KEY_SIZE);
      values.writeUInt32LE(e.object.value, i * VALUE_SIZE);
      values.writeUInt32LE(e.revision >>> 0, i * VALUE_SIZE + 4);
    });
    this.resumable(entries, (start, count) => {
      if (start > 0) {
        keys.copyWithin(0, start * KEY_SIZE, (start + count) * KEY_SIZE);
        values.copyWithin(0, start * VALUE_SIZE, (start + count) * VALUE_SIZE);
      }
      batch.updateReserved(count);
    });
  }

  /** DELETE_BATCH, missing keys skipped (deleting what is gone is success). */
  deleteBatch(_txn: ReadTxn, entries: readonly BatchEntry<MapRow>[]): void {
    const batch = this.map.batch;
    const { keys } = batch.reserve(entries.length);
    entries.forEach((e, i) => keys.writeUInt32LE(e.object.id, i * KEY_SIZE));
    this.resumable(entries, (start, count) => {
      if (start > 0) keys.copyWithin(0, start * KEY_SIZE, (start + count) * KEY_SIZE);
      batch.deleteReserved(count, true);
    });
  }

  private resumable(entries: readonly BatchEntry<MapRow>[], call: (start: number, count: number) => void): void {
    let start = 0;
    while (start < entries.length) {
      try {
        call(start, entries.length - start);
        return;
      } catch (e) {
        if (!(e instanceof BpfError) || e.processed === undefined) throw e;
        const failed = start + e.processed;
        if (e.code === 'E2BIG') {
          for (let i = failed; i < entries.length; i++) entries[i]!.error = e;
          return;
        }
        entries[failed]!.error = e;
        start = failed + 1;
      }
    }
  }
}
