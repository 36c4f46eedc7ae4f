// Watches: resolve-once "something you looked at may have changed" signals,
// the TypeScript form of statedb's watch channels. A watch is a plain object
// with a synchronous `closed` flag; its promise is allocated only when
// someone asks for it, because most watches are checked synchronously or
// never awaited at all (thousands of per-key watches must stay cheap).

/** A one-shot signal. Once closed it stays closed; closing twice is a no-op. */
export class Watch {
  private isClosed = false;
  private pending: Promise<void> | undefined;
  private resolvePending: (() => void) | undefined;

  /** True once the watched thing changed (or the watch was closed for another reason). */
  get closed(): boolean {
    return this.isClosed;
  }

  /** Resolves when the watch closes; already resolved if it is closed. Allocated on first use. */
  get promise(): Promise<void> {
    if (this.pending === undefined) {
      if (this.isClosed) this.pending = Promise.resolve();
      else this.pending = new Promise<void>((resolve) => (this.resolvePending = resolve));
    }
    return this.pending;
  }

  /** Closes the watch. Idempotent. Library code closes watches only after a commit is visible. */
  close(): void {
    if (this.isClosed) return;
    this.isClosed = true;
    const resolve = this.resolvePending;
    this.resolvePending = undefined;
    if (resolve !== undefined) resolve();
  }
}

/** A watch that is already closed: returned where the caller must re-query at once. */
export const closedWatch: Watch = (() => {
  const w = new Watch();
  w.close();
  return w;
})();

/** Thrown by `waitAny` when its signal aborts. */
export class WaitAbortedError extends Error {
  constructor(reason: unknown) {
    super(`waiting for watches aborted${reason instanceof Error ? `: ${reason.message}` : ''}`);
    this.name = 'WaitAbortedError';
  }
}

/**
 * Resolves with the watches (from `watches`) that are closed once at least
 * one of them has closed. Rejects with WaitAbortedError when `signal`
 * aborts first. An empty list waits for the signal only (and never resolves
 * without one), as a watch set with nothing to watch would.
 */
export async function waitAny(watches: Iterable<Watch>, signal?: AbortSignal): Promise<Watch[]> {
  const list = [...watches];
  const closedNow = list.filter((w) => w.closed);
  if (closedNow.length > 0) return closedNow;
  if (signal?.aborted) throw new WaitAbortedError(signal.reason);
  let onAbort: (() => void) | undefined;
  const aborted = new Promise<never>((_, reject) => {
    if (signal === undefined) return;
    onAbort = () => reject(new WaitAbortedError(signal.reason));
    signal.addEventListener('abort', onAbort, { once: true });
  });
  try {
    await Promise.race([...list.map((w) => w.promise), aborted]);
  } finally {
    if (onAbort !== undefined) signal!.removeEventListener('abort', onAbort);
  }
  return list.filter((w) => w.closed);
}
