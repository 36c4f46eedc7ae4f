// Applies Kubernetes object changes (Pods, Namespaces, NetworkPolicies) to
// the policy input tables, a batch in one write transaction, so the policy
// controller sees the batch at once.
import type { V1Namespace, V1NetworkPolicy, V1Pod } from '@kubernetes/client-node';
import type { DB, WriteTxn } from '../../statedb/index.js';
import { ConversionError } from '../conversion-error.js';
import { nameForErrors, objectName } from '../validate.js';
import { fromNamespace } from './convert-namespace.js';
import { fromPod, type PodConversionOptions } from './convert-pod.js';
import { policyRowOf } from './policy-row.js';
import type { EndpointRow, PolicyTables } from './policy-tables.js';

export type PolicyObjectKind = 'Pod' | 'Namespace' | 'NetworkPolicy';

/** One object change. A delete needs only the object's metadata (name, namespace). */
export type PolicyObjectChange =
  | { readonly kind: 'Pod'; readonly op: 'upsert' | 'delete'; readonly object: V1Pod }
  | { readonly kind: 'Namespace'; readonly op: 'upsert' | 'delete'; readonly object: V1Namespace }
  | { readonly kind: 'NetworkPolicy'; readonly op: 'upsert' | 'delete'; readonly object: V1NetworkPolicy };

export interface PolicyWriteReport {
  /** Rows inserted or replaced, and rows deleted. */
  readonly written: number;
  readonly deleted: number;
  /** Changes that left their row as it was. */
  readonly unchanged: number;
  /** NetworkPolicies stored with a validation error (they enforce nothing). */
  readonly invalidPolicies: readonly string[];
  /** Objects that could not be applied at all (their rows are untouched). */
  readonly errors: readonly ConversionError[];
}

/** Pods, namespaces and policies into their tables; see apply. */
export class PolicyWriter {
  constructor(
    private readonly db: DB,
    private readonly tables: PolicyTables,
    private readonly podOptions: PodConversionOptions,
  ) {}

  /**
   * Applies the changes in order, in one write transaction. A bad object
   * is reported in `errors` and skipped, never failing the others; a
   * NetworkPolicy that fails validation is stored with its error (see
   * policyRowOf). A pod that is no endpoint (host network, no IP,
   * finished) removes its row. Rewriting an equal row is skipped, so a
   * resync of unchanged objects wakes nobody. Deleting a missing row is a
   * no-op. The controller-owned `identity` of an endpoint is carried over.
   * Throws only what statedb throws (e.g. TableLockedError).
   */
  apply(changes: Iterable<PolicyObjectChange>): PolicyWriteReport {
    const t = this.tables;
    const counts = { written: 0, deleted: 0, unchanged: 0 };
    const invalidPolicies: string[] = [];
    const errors: ConversionError[] = [];
    this.db.write([t.endpoints, t.namespaces, t.policies], (txn) => {
      for (const change of changes) {
        try {
          const outcome = this.applyOne(txn, change, invalidPolicies);
          counts[outcome]++;
        } catch (err) {
          errors.push(ConversionError.from(change.kind, nameForErrors(change.object?.metadata), err));
        }
      }
    });
    return { ...counts, invalidPolicies, errors };
  }

  private applyOne(txn: WriteTxn, change: PolicyObjectChange, invalidPolicies: string[]): 'written' | 'deleted' | 'unchanged' {
    const t = this.tables;
    switch (change.kind) {
      case 'Pod': {
        const id = objectName(change.object?.metadata);
        const row = change.op === 'delete' ? null : fromPod(change.object, this.podOptions);
        const existing = t.endpoints.get(txn, t.endpoints.primary.query(id));
        if (row === null) return existing === undefined ? 'unchanged' : (t.endpoints.delete(txn, existing), 'deleted');
        const withIdentity: EndpointRow = { ...row, identity: existing?.identity ?? 0 };
        if (existing !== undefined && sameJSON(existing, withIdentity)) return 'unchanged';
        t.endpoints.insert(txn, withIdentity);
        return 'written';
      }
      case 'Namespace': {
        const name = objectName(change.object?.metadata, false);
        const existing = t.namespaces.get(txn, t.namespaces.primary.query(name));
        if (change.op === 'delete') return existing === undefined ? 'unchanged' : (t.namespaces.delete(txn, existing), 'deleted');
        const row = fromNamespace(change.object);
        if (existing !== undefined && sameJSON(existing, row)) return 'unchanged';
        t.namespaces.insert(txn, row);
        return 'written';
      }
      case 'NetworkPolicy': {
        const name = objectName(change.object?.metadata);
        const existing = t.policies.get(txn, t.policies.primary.query(name));
        if (change.op === 'delete') return existing === undefined ? 'unchanged' : (t.policies.delete(txn, existing), 'deleted');
        const row = policyRowOf(change.object);
        if (row.error !== null) invalidPolicies.push(row.name);
        if (existing !== undefined && sameJSON(existing, row)) return 'unchanged';
        t.policies.insert(txn, row);
        return 'written';
      }
    }
  }

  /**
   * Registers an initializer on the input table of `kind` (the source's
   * initial listing is not complete until the returned function is
   * called). The controller prunes nothing and computes no final state
   * before every input table is initialized. Throws InitializerError when
   * `name` is already pending there. Calling the returned function again
   * is a no-op.
   */
  registerInitializer(kind: PolicyObjectKind, name: string): () => void {
    const table = kind === 'Pod' ? this.tables.endpoints : kind === 'Namespace' ? this.tables.namespaces : this.tables.policies;
    const markDone = this.db.write(table, (txn) => table.registerInitializer(txn, name));
    return () => this.db.write(table, (txn) => markDone(txn));
  }
}

/** Rows are plain data built in a fixed field order, so their JSON compares them. */
function sameJSON(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}
