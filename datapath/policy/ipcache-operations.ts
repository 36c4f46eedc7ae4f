// Reconciler operations for the ipcache table -> flg_ipcache (LPM_TRIE).
import type { BatchEntry, BatchOperations, Operations } from '../../reconcilers/index.js';
import type { ReadTxn } from '../../statedb/index.js';
import type { IpcacheRow } from '../../tables/index.js';
import type { TypedMap } from '../kernel/index.js';
import type { IpcacheKey, RemoteEndpointInfo } from '../maps/layouts.generated.js';
import { ipcacheKey, ipcacheKeyPrefix, ipcacheValue } from './ipcache-entry.js';

/**
 * Writes each ipcache row as one flg_ipcache entry. update is an upsert and
 * delete of a missing key succeeds, so both are idempotent; a failure
 * throws BpfError (the engine retries the row). Batches go through the map
 * batch syscalls, and a failed batch is redone entry by entry so each row
 * gets its own error.
 */
export class IpcacheOperations implements Operations<IpcacheRow>, BatchOperations<IpcacheRow> {
  constructor(private readonly ipcache: TypedMap<IpcacheKey, RemoteEndpointInfo>) {}

  update(_txn: ReadTxn, _revision: number, row: IpcacheRow): void {
    this.ipcache.put(ipcacheKey(row.prefix), ipcacheValue(row.identity));
  }

  delete(_txn: ReadTxn, _revision: number, row: IpcacheRow): void {
    this.ipcache.delete(ipcacheKey(row.prefix), { idempotent: true });
  }

  /** Removes every entry whose prefix no row holds (keys collected before any delete). */
  prune(_txn: ReadTxn, desired: Iterable<IpcacheRow>): void {
    const wanted = new Set<string>();
    for (const row of desired) wanted.add(row.prefix);
    const stale = [...this.ipcache.keys()].filter((key) => !wanted.has(ipcacheKeyPrefix(key)));
    for (const key of stale) this.ipcache.delete(key, { idempotent: true });
  }

  updateBatch(txn: ReadTxn, entries: readonly BatchEntry<IpcacheRow>[]): void {
    try {
      this.ipcache.putBatch(entries.map((e) => [ipcacheKey(e.object.prefix), ipcacheValue(e.object.identity)] as const));
    } catch {
      this.oneByOne(entries, (row) => this.update(txn, 0, row));
    }
  }

  deleteBatch(txn: ReadTxn, entries: readonly BatchEntry<IpcacheRow>[]): void {
    try {
      this.ipcache.deleteBatch(
        entries.map((e) => ipcacheKey(e.object.prefix)),
        { idempotent: true },
      );
    } catch {
      this.oneByOne(entries, (row) => this.delete(txn, 0, row));
    }
  }

  private oneByOne(entries: readonly BatchEntry<IpcacheRow>[], op: (row: IpcacheRow) => void): void {
    for (const entry of entries) {
      try {
        op(entry.object);
      } catch (err) {
        entry.error = err;
      }
    }
  }
}
