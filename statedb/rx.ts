// rxjs adapters: a query as an Observable of its results, re-run after each
// commit that closes its watch, and a table as an Observable of its changes.
// rxjs is only the notification edge: both are driven by statedb watches,
// so there is no per-commit fan-out to subscribers that did not ask.
import { createRequire } from 'node:module';
import type * as Rx from 'rxjs';
import type { Observable } from 'rxjs';
import type { AnyTable, DB } from './db.js';
import type { Change } from './entry.js';
import type { ChangeIterator } from './changes.js';
import type { ReadTxn } from './txn.js';
import type { Watch } from './watch.js';
import { waitAny, WaitAbortedError } from './watch.js';

// rxjs is loaded on first use (~90 ms of start-up otherwise paid by every
// program importing statedb).
let rxModule: typeof Rx | undefined;
const rx = (): typeof Rx => (rxModule ??= createRequire(import.meta.url)('rxjs') as typeof Rx);

/** One result of an observed query. */
export interface QueryResult<R> {
  /** The sum of the observed tables' revisions when the query ran: grows with every commit to any of them. */
  readonly revision: number;
  readonly result: R;
}

export interface ObserveQueryOptions {
  /**
   * After a watch closes, wait this long before re-running the query, so a
   * burst of commits spread over time gives one result (default 0:
   * re-run once the committing code yields, which already merges the
   * commits of one synchronous run).
   */
  readonly coalesceMs?: number;
}

/**
 * Runs `query` on the latest snapshot now and again after every commit that
 * closes the watch it returned; emits `{revision, result}` whenever the
 * revision of `tables` (the tables the query reads) moved. `query` must
 * return a materialised result (e.g. `[...rows]`, not a lazy iterable) and
 * the watch covering it, e.g. `t => { const {result, watch} = table.listWatch(t, q); return {result: [...result], watch} }`.
 * A throwing query errors the Observable. Unsubscribing stops waiting at
 * once; nothing is left registered. Never completes on its own.
 */
export function observeQuery<R>(
  db: DB,
  tables: AnyTable | readonly AnyTable[],
  query: (txn: ReadTxn) => { readonly result: R; readonly watch: Watch },
  opts: ObserveQueryOptions = {},
): Observable<QueryResult<R>> {
  const list: readonly AnyTable[] = Array.isArray(tables) ? (tables as readonly AnyTable[]) : [tables as AnyTable];
  const coalesceMs = opts.coalesceMs ?? 0;
  const { Observable, distinctUntilChanged } = rx();
  return new Observable<QueryResult<R>>((subscriber) => {
    const stop = new AbortController();
    const loop = async () => {
      while (!subscriber.closed) {
        const txn = db.readTxn();
        const { result, watch } = query(txn);
        let revision = 0;
        for (const t of list) revision += t.revision(txn);
        subscriber.next({ revision, result });
        await waitAny([watch], stop.signal);
        if (coalesceMs > 0) await sleep(coalesceMs, stop.signal);
      }
    };
    loop().catch((e: unknown) => {
      if (!(e instanceof WaitAbortedError) && !subscriber.closed) subscriber.error(e);
    });
    return () => stop.abort();
  }).pipe(distinctUntilChanged((a, b) => a.revision === b.revision));
}

/**
 * Every change of `table` from subscription on: first every current row as
 * an upsert, then inserts, updates and deletes as they commit, in revision
 * order (a change iterator's semantics). Each subscription has its own
 * iterator, closed on unsubscribe, so deleted rows are not retained for it
 * afterwards. Never completes on its own; rate-limit consumers under churn.
 */
export function observeChanges<T>(table: { changes(): ChangeIterator<T> }): Observable<Change<T>> {
  const { Observable } = rx();
  return new Observable<Change<T>>((subscriber) => {
    const it = table.changes();
    const stop = new AbortController();
    const loop = async () => {
      while (!subscriber.closed) {
        const { changes, watch } = it.next();
        for (const change of changes) {
          subscriber.next(change);
          if (subscriber.closed) return;
        }
        await waitAny([watch], stop.signal);
      }
    };
    loop().catch((e: unknown) => {
      if (!(e instanceof WaitAbortedError) && !subscriber.closed) subscriber.error(e);
    });
    return () => {
      stop.abort();
      it.close();
    };
  });
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(new WaitAbortedError(signal.reason));
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
