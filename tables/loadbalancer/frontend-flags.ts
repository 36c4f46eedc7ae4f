// The 16-bit flag set of a service map entry (reference §7.1) and the names
// the dump prints for it. The reconciler writes the bits; `lb dump` decodes
// them with serviceFlagNames, so both sides share this one table.
import { isSurrogateAddress } from './expand-node-port.js';
import type { FrontendParams } from './frontend.js';
import type { LBAlgorithm, Service } from './service.js';

/** Bits of the services map `flags` (low byte) and `flags2` (high byte). */
export const ServiceFlag = {
  ExternalIPs: 1 << 0,
  NodePort: 1 << 1,
  ExtLocalScope: 1 << 2,
  HostPort: 1 << 3,
  SessionAffinity: 1 << 4,
  LoadBalancer: 1 << 5,
  Routable: 1 << 6,
  SourceRange: 1 << 7,
  LocalRedirect: 1 << 8,
  Nat46x64: 1 << 9,
  L7LoadBalancer: 1 << 10,
  Loopback: 1 << 11,
  IntLocalScope: 1 << 12,
  TwoScopes: 1 << 13,
  /** On a slot: the backend is quarantined. On a master: SourceRangeDeny. */
  Quarantined: 1 << 14,
  SourceRangeDeny: 1 << 14,
  FwdModeDSR: 1 << 15,
} as const;

/** Which map entry the flags are for: the master (slot 0) or a backend slot. */
export type FlagEntry = 'master' | 'slot' | 'quarantined-slot';

export interface FrontendFlagOptions {
  /** Default 'master'. Slots drop the source-range bits; quarantined slots add the quarantined bit. */
  readonly entry?: FlagEntry;
  /** ClusterIP addresses reachable from outside the cluster (routable). Default false. */
  readonly externalClusterIP?: boolean;
  /** Check source ranges for every type, not only LoadBalancer. Default false. */
  readonly sourceRangesAllTypes?: boolean;
}

export interface FlagSet {
  readonly bits: number;
  /** The type first, then the other flags in bit order, as the dump prints them. */
  readonly names: readonly string[];
  /** names joined with '+', e.g. `LoadBalancer+Local+two-scopes`. */
  readonly text: string;
}

const TYPE_BITS: Record<FrontendParams['type'], number> = {
  ClusterIP: 0,
  NodePort: ServiceFlag.NodePort,
  LoadBalancer: ServiceFlag.LoadBalancer,
  ExternalIPs: ServiceFlag.ExternalIPs,
  HostPort: ServiceFlag.HostPort,
};

/**
 * The flags of a frontend's master entry or of one of its slots: type,
 * Local (ETP) / InternalLocal (ITP), sessionAffinity, routable (not for
 * the surrogate, not for ClusterIP unless externalClusterIP), source-range
 * check (LoadBalancer, or every type with sourceRangesAllTypes; master
 * only, with deny for `src-ranges-policy: deny`), two-scopes (exactly one
 * policy Local, never for ClusterIP). Pure.
 */
export function frontendFlags(frontend: FrontendParams, service: Service, opts: FrontendFlagOptions = {}): FlagSet {
  const entry = opts.entry ?? 'master';
  const bits = frontendFlagBits(frontend, service, opts);
  const names = serviceFlagNames(bits, entry !== 'master');
  return { bits, names, text: names.join('+') };
}

/** The bits of frontendFlags without the names: what the reconciler writes, for every entry it writes. Pure. */
export function frontendFlagBits(frontend: FrontendParams, service: Service, opts: FrontendFlagOptions = {}): number {
  const entry = opts.entry ?? 'master';
  let bits = TYPE_BITS[frontend.type];
  const extLocal = service.extTrafficPolicy === 'Local';
  const intLocal = service.intTrafficPolicy === 'Local';
  if (extLocal) bits |= ServiceFlag.ExtLocalScope;
  if (intLocal) bits |= ServiceFlag.IntLocalScope;
  if (extLocal !== intLocal && frontend.type !== 'ClusterIP') bits |= ServiceFlag.TwoScopes;
  if (service.sessionAffinity) bits |= ServiceFlag.SessionAffinity;
  if (!isSurrogateAddress(frontend.address) && (frontend.type !== 'ClusterIP' || opts.externalClusterIP === true)) {
    bits |= ServiceFlag.Routable;
  }
  const checkSourceRange =
    service.sourceRanges.length > 0 && (frontend.type === 'LoadBalancer' || opts.sourceRangesAllTypes === true);
  if (entry === 'master' && checkSourceRange) {
    bits |= ServiceFlag.SourceRange;
    if (service.sourceRangesPolicy === 'deny') bits |= ServiceFlag.SourceRangeDeny;
  }
  if (entry === 'quarantined-slot') bits |= ServiceFlag.Quarantined;
  return bits;
}

const NAMED_BITS: readonly [number, string][] = [
  [ServiceFlag.ExtLocalScope, 'Local'],
  [ServiceFlag.SessionAffinity, 'sessionAffinity'],
  [ServiceFlag.Routable, 'non-routable'], // printed when absent
  [ServiceFlag.SourceRange, 'check source-range'],
  [ServiceFlag.Nat46x64, '46x64'],
  [ServiceFlag.L7LoadBalancer, 'l7-load-balancer'],
  [ServiceFlag.Loopback, 'loopback'],
  [ServiceFlag.IntLocalScope, 'InternalLocal'],
  [ServiceFlag.TwoScopes, 'two-scopes'],
  [ServiceFlag.Quarantined, 'quarantined'], // 'deny' on a master
  [ServiceFlag.FwdModeDSR, 'dsr'],
];

/**
 * Decodes flag bits into dump names: the type (ExternalIPs, NodePort,
 * LoadBalancer, HostPort, LocalRedirect, else ClusterIP), then the others in
 * bit order; bit 14 reads `quarantined` on a slot and `deny` on a master.
 */
export function serviceFlagNames(bits: number, slot: boolean): string[] {
  const names = [flagTypeName(bits)];
  for (const [bit, name] of NAMED_BITS) {
    if (bit === ServiceFlag.Routable) {
      if ((bits & bit) === 0) names.push(name);
    } else if (bit === ServiceFlag.Quarantined) {
      if ((bits & bit) !== 0) names.push(slot ? 'quarantined' : 'deny');
    } else if ((bits & bit) !== 0) {
      names.push(name);
    }
  }
  return names;
}

function flagTypeName(bits: number): string {
  if (bits & ServiceFlag.ExternalIPs) return 'ExternalIPs';
  if (bits & ServiceFlag.NodePort) return 'NodePort';
  if (bits & ServiceFlag.LoadBalancer) return 'LoadBalancer';
  if (bits & ServiceFlag.HostPort) return 'HostPort';
  if (bits & ServiceFlag.LocalRedirect) return 'LocalRedirect';
  return 'ClusterIP';
}

export interface LBAlgorithmOptions {
  /** The agent's algorithm (`--bpf-lb-algorithm`). Default random. */
  readonly defaultAlgorithm?: LBAlgorithm;
  /** Honour the per-service lb-algorithm annotation. Default true. */
  readonly annotations?: boolean;
  /** ClusterIP is reachable from outside, so Maglev may apply to it. Default false. */
  readonly externalClusterIP?: boolean;
}

/**
 * The algorithm for a frontend's master entry (reference §5 "When Maglev
 * applies"): never Maglev for the surrogate; the service's annotation when
 * annotations are honoured; otherwise the default, which for Maglev applies
 * to NodePort, LoadBalancer, HostPort and ExternalIPs (ClusterIP only with
 * externalClusterIP) and falls back to random for the rest.
 */
export function frontendLBAlgorithm(frontend: FrontendParams, service: Service, opts: LBAlgorithmOptions = {}): LBAlgorithm {
  if (isSurrogateAddress(frontend.address)) return 'random';
  if ((opts.annotations ?? true) && service.lbAlgorithm !== undefined) return service.lbAlgorithm;
  if ((opts.defaultAlgorithm ?? 'random') !== 'maglev') return 'random';
  if (frontend.type === 'ClusterIP' && opts.externalClusterIP !== true) return 'random';
  return 'maglev';
}
