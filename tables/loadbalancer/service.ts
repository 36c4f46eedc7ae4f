// The service row: what a Kubernetes Service (or another source) says about
// load balancing as a whole. Frontends point to it by name; it is not
// reconciled itself.
import type { Labels } from '../labels.js';

export type TrafficPolicy = 'Cluster' | 'Local';
export type LBAlgorithm = 'random' | 'maglev';
export type SourceRangesPolicy = 'allow' | 'deny';
export type ServiceType = 'ClusterIP' | 'NodePort' | 'LoadBalancer' | 'ExternalName';

/** Annotations naming the per-service load-balancing algorithm; ours wins when both are set. */
export const LB_ALGORITHM_ANNOTATIONS = ['flagella.io/lb-algorithm', 'service.cilium.io/lb-algorithm'] as const;
/** `deny` inverts the source-range check: listed prefixes are refused, others allowed. */
export const SOURCE_RANGES_POLICY_ANNOTATION = 'service.cilium.io/src-ranges-policy';
/** The label that marks a service headless even with a cluster IP. */
export const HEADLESS_LABEL = 'service.kubernetes.io/headless';
/** Kubernetes' default ClientIP affinity timeout. */
export const DEFAULT_AFFINITY_TIMEOUT_SECONDS = 10800;


/** A service row: readonly plain data, JSON-serialisable. */
export interface Service {
  /** `namespace/name`: the primary key. */
  readonly name: string;
  readonly namespace: string;
  /** Where it came from: `k8s`, `file`, `local-api`, ... */
  readonly source: string;
  readonly type: ServiceType;
  readonly labels: Labels;
  readonly annotations: Labels;
  /** Pod selector; empty means the backends are managed externally. */
  readonly selector: Labels;
  /** North-south traffic (NodePort, LoadBalancer, ExternalIPs). */
  readonly extTrafficPolicy: TrafficPolicy;
  /** East-west traffic (ClusterIP, and the internal scope). */
  readonly intTrafficPolicy: TrafficPolicy;
  readonly sessionAffinity: boolean;
  /** Seconds; 0 when affinity is off. */
  readonly sessionAffinityTimeoutSeconds: number;
  /** Canonical prefixes from `spec.loadBalancerSourceRanges`, sorted. */
  readonly sourceRanges: readonly string[];
  readonly sourceRangesPolicy: SourceRangesPolicy;
  /** Service port name -> service port, for named ports. */
  readonly portNames: Readonly<Record<string, number>>;
  /** From the lb-algorithm annotation; undefined means the agent's default. */
  readonly lbAlgorithm?: LBAlgorithm;
  /** `clusterIP: None` or the headless label: a row but no frontends. */
  readonly headless: boolean;
  /** 0 when not set. */
  readonly healthCheckNodePort: number;
  /** '' when not set. */
  readonly loadBalancerClass: string;
  /** '' unless set and the internal traffic policy is Cluster (topology hints need both). */
  readonly trafficDistribution: string;
}
