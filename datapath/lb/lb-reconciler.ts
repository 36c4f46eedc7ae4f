// The frontends reconciler: the generic engine driving LBOperations, with a
// status accessor that also records the assigned service ID on the row
// (for display: `db show frontends`).
import { Reconciler, type ReconcilerConfig, type StatusAccessor } from '../../reconcilers/index.js';
import type { Frontend, LBTables } from '../../tables/index.js';
import type { LBOperations } from './lb-operations.js';

export interface LBReconcilerOptions extends Omit<ReconcilerConfig<Frontend>, 'table' | 'status' | 'operations'> {
  readonly tables: LBTables;
  readonly operations: LBOperations;
}

/** The status of a frontend row, plus its ID as the operations assigned it. */
export function frontendStatusAccessor(ops: LBOperations): StatusAccessor<Frontend> {
  return {
    get: (fe) => fe.status,
    set: (fe, status) => ({ ...fe, status, id: ops.idOf(fe.address) }),
  };
}

/**
 * A reconciler (not started) that keeps the load-balancing maps in step
 * with the frontends table. Throws ReconcilerConfigError for a bad setting.
 */
export function newLBReconciler(opts: LBReconcilerOptions): Reconciler<Frontend> {
  const { tables, operations, ...rest } = opts;
  return new Reconciler<Frontend>({
    name: 'lb-maps',
    ...rest,
    table: tables.frontends,
    status: frontendStatusAccessor(operations),
    operations,
  });
}
