// A frontend: one address a service answers on. The frontends table is the
// one the load-balancing reconciler drives; its row adds a status (and the
// selected backends) to these parameters.
import type { L3n4Addr } from './l3n4-addr.js';

export type FrontendType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalIPs' | 'HostPort';

/** What conversion produces for a frontend: readonly plain data, JSON-serialisable. */
export interface FrontendParams {
  /** The primary key. For NodePort this is the `0.0.0.0`/`::` surrogate (see expandNodePort). */
  readonly address: L3n4Addr;
  readonly type: FrontendType;
  /** `namespace/name` of the owning service. */
  readonly serviceName: string;
  /** Service port name ('' when unnamed); selects backends carrying that port name. */
  readonly portName: string;
  /** The service (ClusterIP) port; differs from address.port for NodePort. */
  readonly servicePort: number;
}
