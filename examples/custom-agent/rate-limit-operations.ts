// The reconciler's operations for the rate-limit map: make the map hold
// each row, remove deleted rows, and prune whatever the table no longer
// wants (after a restart: entries of clients removed while the agent was
// down). Synchronous: a map write is one syscall, no promise needed.
import type { ReadTxn } from 'flagella/statedb';
import type { Operations } from 'flagella/reconcilers';
import type { TypedMap } from 'flagella/datapath';
import type { RateLimitValue } from './rate-limit-map.js';
import type { RateLimit } from './rate-limits.js';

export class RateLimitOperations implements Operations<RateLimit> {
  constructor(private readonly map: TypedMap<string, RateLimitValue>) {}

  /**
   * Writes the row's entry; idempotent (a retry or refresh writes the same
   * bytes). A rate that is not a u32 throws RangeError: the row goes to error
   * status with that message and is retried with backoff until a new
   * version of the row replaces it.
   */
  update(_txn: ReadTxn, _revision: number, r: RateLimit): void {
    this.map.put(r.client, { packetsPerSecond: r.packetsPerSecond, burst: r.burst });
  }

  /** Removes the entry; an entry already gone (or never written: a row in error) is success. */
  delete(_txn: ReadTxn, _revision: number, r: RateLimit): void {
    this.map.delete(r.client, { idempotent: true });
  }

  /** Removes every entry whose client has no row. Collects the keys first: never delete while walking a map. */
  prune(_txn: ReadTxn, desired: Iterable<RateLimit>): void {
    const wanted = new Set<string>();
    for (const r of desired) wanted.add(r.client);
    const stale = [...this.map.keys()].filter((client) => !wanted.has(client));
    for (const client of stale) this.map.delete(client, { idempotent: true });
  }
}
