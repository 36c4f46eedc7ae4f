// The seam between sources and the writers that own tables. A source turns
// what it reads into batches of KubeChange and hands each batch to an
// ObjectSink; the sink applies a batch in one write transaction. Writers
// (load balancing, policy, node addresses) implement ObjectSink; sources know
// nothing of tables.
import type { KubeKind, KubeObjectByKind } from './kinds.js';

export type ChangeType = 'upsert' | 'delete';

/**
 * One object created/updated (`upsert`) or deleted. `kind` narrows `object`.
 * For a delete, `object` is the last state the source saw. Objects must be
 * treated as immutable: sources may share them with their caches.
 */
export type KubeChange = {
  readonly [K in KubeKind]: { readonly type: ChangeType; readonly kind: K; readonly object: KubeObjectByKind[K] };
}[KubeKind];

/** A change the sink could not apply, and why. */
export interface ObjectApplyError {
  readonly change: KubeChange;
  readonly error: Error;
}

export interface ApplyResult {
  /** One entry per rejected change; empty when all applied. */
  readonly errors: readonly ObjectApplyError[];
}

export const APPLIED: ApplyResult = Object.freeze({ errors: Object.freeze([]) });

export interface InitializerHandle {
  /**
   * Completes the initializer (in a write transaction of the sink's tables).
   * Idempotent: later calls do nothing. Throwing means it was not recorded;
   * the source retries with backoff.
   */
  markDone(): void | Promise<void>;
}

export interface ObjectSink {
  /**
   * Applies a batch in one write transaction. At most one key per object in
   * a batch (sources coalesce). Must be idempotent: an upsert of the object
   * already stored, or a delete of an object the sink does not hold, is a
   * no-op, because a source may re-send a batch after a failure and may
   * coalesce create+delete into a bare delete.
   *
   * A change the sink rejects (a bad object) is returned in `errors` and the
   * rest of the batch still applies; the source logs it and does not retry it
   * (the object stays rejected until it changes; the agent retries conflicts
   * itself, see RejectionTracker). Throwing means nothing was
   * applied: the source keeps the batch and retries it, merged with newer
   * changes, after a backoff.
   */
  apply(changes: readonly KubeChange[]): ApplyResult | Promise<ApplyResult>;

  /**
   * Registers a pending initializer named `sourceName` on every table the
   * sink writes for `kinds` (a table reports initialized, and may be pruned,
   * only once every initializer is done). Called once per source, when the
   * source is constructed; the source calls markDone after its initial sync
   * has been applied. Throws when the name is already pending.
   */
  registerInitializer(sourceName: string, kinds: readonly KubeKind[]): InitializerHandle;
}
