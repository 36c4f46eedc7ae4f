// The two policy reconcilers, wired: ipcache -> flg_ipcache and
// endpoint-policies -> flg_policy, flg_endpoints and flg_policy_state.
import { Reconciler, statusProperty, type ReconcilerConfig } from '../../reconcilers/index.js';
import type { DB } from '../../statedb/index.js';
import type { EndpointPolicyRow, IpcacheRow, PolicyTables } from '../../tables/index.js';
import type { DatapathMaps } from '../loader/index.js';
import { EndpointPolicyOperations, type EndpointPolicyOperationsOptions } from './endpoint-policy-operations.js';
import { IpcacheOperations } from './ipcache-operations.js';

/** Settings shared by both reconcilers (everything but db, table, status and operations). */
export type PolicyReconcilerSettings = Omit<ReconcilerConfig<unknown>, 'db' | 'table' | 'status' | 'operations' | 'batchOperations' | 'name'>;

export interface PolicyReconcilers {
  readonly ipcache: Reconciler<IpcacheRow>;
  readonly endpointPolicies: Reconciler<EndpointPolicyRow>;
  start(): void;
  stop(): Promise<void>;
}

/**
 * Creates (does not start) the reconcilers of the policy tables over a
 * loaded datapath's maps. Throws ReconcilerConfigError or BpfError (reading
 * the pinned endpoints).
 */
export function policyReconcilers(
  db: DB,
  tables: Pick<PolicyTables, 'ipcache' | 'endpointPolicies'>,
  maps: Pick<DatapathMaps, 'ipcache' | 'endpoints' | 'policy' | 'policyState'>,
  settings: PolicyReconcilerSettings & EndpointPolicyOperationsOptions = {},
): PolicyReconcilers {
  const { mode, ...common } = settings;
  const ipcacheOps = new IpcacheOperations(maps.ipcache);
  const ipcache = new Reconciler<IpcacheRow>({ ...common, db, table: tables.ipcache, status: statusProperty<IpcacheRow, 'status'>('status'), operations: ipcacheOps, batchOperations: ipcacheOps });
  const endpointOps = new EndpointPolicyOperations(maps, mode ? { mode } : {});
  const endpointPolicies = new Reconciler<EndpointPolicyRow>({
    ...common,
    db,
    table: tables.endpointPolicies,
    status: statusProperty<EndpointPolicyRow, 'status'>('status'),
    operations: endpointOps,
    batchOperations: endpointOps,
  });
  return {
    ipcache,
    endpointPolicies,
    start() {
      ipcache.start();
      endpointPolicies.start();
    },
    async stop() {
      await Promise.all([ipcache.stop(), endpointPolicies.stop()]);
    },
  };
}
