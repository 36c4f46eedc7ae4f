// How the engine reads and writes a reconciler's status on a row. Rows are
// immutable (statedb freezes them), so `set` returns a new row.
import type { Status } from './status.js';
import type { StatusSet } from './status-set.js';

/** Reads and replaces one reconciler's status on a row. */
export interface StatusAccessor<T> {
  /** This reconciler's status on obj. Must not throw. */
  get(obj: T): Status;
  /** A new row equal to obj except for this reconciler's status. Never mutates obj. */
  set(obj: T, status: Status): T;
}

type KeysOfType<T, V> = { [K in keyof T]-?: T[K] extends V ? K : never }[keyof T];

/**
 * The status lives in property `key` of a plain-object row (`{...obj, [key]: status}`).
 * Rows that are class instances need their own accessor (the spread drops the prototype).
 */
export function statusProperty<T extends object, K extends KeysOfType<T, Status>>(key: K): StatusAccessor<T> {
  return {
    get: (obj) => obj[key] as Status,
    set: (obj, status) => ({ ...obj, [key]: status }),
  };
}

/**
 * Reconciler `name`'s status inside the StatusSet in property `key` of a
 * plain-object row, for several reconcilers on one table.
 */
export function statusSetProperty<T extends object, K extends KeysOfType<T, StatusSet>>(
  key: K,
  name: string,
): StatusAccessor<T> {
  return {
    get: (obj) => (obj[key] as StatusSet).get(name),
    set: (obj, status) => ({ ...obj, [key]: (obj[key] as StatusSet).set(name, status) }),
  };
}
