// Which row versions differ from an earlier one only by reconciler status
// writes. When several reconcilers share a table, each one's status
// write-back makes a new revision, so another reconciler's compare-and-swap
// against the revision it reconciled fails although the row it reconciled
// is unchanged. Upstream then compares status ids (the "pending-ID
// fallback"), which also accepts a row a writer changed while keeping the
// status id, and so marks an unreconciled change done. Here every
// status-only write records "new row derives from base row", and the
// fallback applies only when the current row reaches the reconciled row
// through such records: exact, and rows that die take their records with
// them (WeakMap).

const derivedFrom = new WeakMap<object, object>();
const reconcilersPerTable = new WeakMap<object, number>();

/** Counts a reconciler on `table` until the returned function is called. */
export function joinTable(table: object): () => void {
  reconcilersPerTable.set(table, (reconcilersPerTable.get(table) ?? 0) + 1);
  let left = false;
  return () => {
    if (left) return;
    left = true;
    reconcilersPerTable.set(table, (reconcilersPerTable.get(table) ?? 1) - 1);
  };
}

/** True while more than one reconciler works on `table` (only then are derivations recorded). */
export function isShared(table: object): boolean {
  return (reconcilersPerTable.get(table) ?? 0) > 1;
}

/** Records that `row` is `base` with only a reconciler status changed. */
export function recordStatusWrite(row: unknown, base: unknown): void {
  if (typeof row === 'object' && row !== null && typeof base === 'object' && base !== null) derivedFrom.set(row, base);
}

/**
 * True when `current` is `base`, or was made from it by status writes
 * only. The walk is bounded (a row with more than `limit` status writes
 * since `base` reads as changed, which is merely conservative).
 */
export function derivesFrom(current: unknown, base: unknown, limit = 256): boolean {
  let row: unknown = current;
  for (let i = 0; i <= limit; i++) {
    if (row === base) return true;
    if (typeof row !== 'object' || row === null) return false;
    row = derivedFrom.get(row);
    if (row === undefined) return false;
  }
  return false;
}
