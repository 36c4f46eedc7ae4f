// Which endpoints need their policy recomputed after a change. An
// endpoint's policy depends on the policies selecting it and, through
// their peers, on other endpoints, namespaces and CIDR identities; this
// maps each kind of change to the subjects of the policies it can affect.
// Conservative (never misses an endpoint) but small (never "everything"
// unless every policy is affected).
import type { Labels } from '../labels.js';
import { selectorMatches } from './label-selector.js';
import {
  namespaceLabelsFor,
  namespaceLabelsLookup,
  podsPeerMatches,
  policySelects,
  type PolicyContext,
  type PolicyEndpoint,
} from './endpoint-policy.js';
import type { NetworkPolicy, PolicyRule } from './network-policy.js';

export type PolicyChange =
  /** Added (no before), changed, or removed (no after). */
  | { readonly kind: 'policy'; readonly before?: NetworkPolicy; readonly after?: NetworkPolicy }
  /** Added, removed, or labels / identity / named ports changed. */
  | { readonly kind: 'endpoint'; readonly before?: PolicyEndpoint; readonly after?: PolicyEndpoint }
  | { readonly kind: 'namespace'; readonly name: string; readonly before?: Labels; readonly after?: Labels }
  /** The prefix -> identity map changed. */
  | { readonly kind: 'cidr-identities' };

/**
 * Ids of the endpoints (among ctx.endpoints, plus the changed endpoint
 * itself) whose computed policy may differ after `change`. `ctx` is the
 * state after the change. Pure; never throws.
 *
 * - policy: the endpoints the old or the new version selects;
 * - endpoint: the endpoint itself, and the subjects of every policy with a
 *   peer that matches its old or new self (including egress rules to any
 *   peer on a named port, which resolve on the peer);
 * - namespace: the subjects of policies whose namespace selectors match
 *   the old or new labels, and the namespace's own endpoints;
 * - cidr-identities: the subjects of policies with ipBlock peers.
 */
export function endpointsToRecompute(change: PolicyChange, ctx: PolicyContext): Set<string> {
  const out = new Set<string>();
  switch (change.kind) {
    case 'policy':
      for (const p of [change.before, change.after]) if (p !== undefined) addSubjects(p, ctx, out);
      break;
    case 'endpoint': {
      const versions = [change.before, change.after].filter((e): e is PolicyEndpoint => e !== undefined);
      for (const e of versions) out.add(e.id);
      const nsLabels = namespaceLabelsLookup(ctx);
      for (const p of ctx.policies) {
        if (versions.some((e) => policyReferencesPeer(p, e, nsLabels))) addSubjects(p, ctx, out);
      }
      break;
    }
    case 'namespace': {
      const labelSets = [change.before, change.after]
        .filter((l): l is Labels => l !== undefined)
        .map((l) => namespaceLabelsFor({ namespaceLabels: new Map([[change.name, l]]) }, change.name));
      for (const p of ctx.policies) {
        if (policyRules(p).some((r) => namespaceSelectorMatchesAny(r, labelSets))) addSubjects(p, ctx, out);
      }
      for (const e of ctx.endpoints) if (e.namespace === change.name) out.add(e.id);
      break;
    }
    case 'cidr-identities':
      for (const p of ctx.policies) {
        if (policyRules(p).some((r) => r.peers !== 'any' && r.peers.some((peer) => peer.kind === 'ipBlock'))) addSubjects(p, ctx, out);
      }
      break;
  }
  return out;
}

function addSubjects(policy: NetworkPolicy, ctx: PolicyContext, out: Set<string>): void {
  for (const e of ctx.endpoints) if (policySelects(policy, e)) out.add(e.id);
}

function policyRules(p: NetworkPolicy): PolicyRule[] {
  return [...p.ingress, ...p.egress];
}

/** True when the endpoint, as a peer, can contribute entries to the policy's subjects. */
function policyReferencesPeer(policy: NetworkPolicy, endpoint: PolicyEndpoint, nsLabels: (namespace: string) => Labels): boolean {
  for (const rule of policy.ingress) {
    if (rule.peers !== 'any' && rule.peers.some((peer) => peer.kind === 'pods' && podsPeerMatches(peer, policy, endpoint, nsLabels))) return true;
  }
  for (const rule of policy.egress) {
    if (rule.peers === 'any') {
      // Egress to any peer on a named port resolves the name on every pod.
      if (rule.ports !== 'any' && rule.ports.some((p) => typeof p.port === 'string') && endpoint.namedPorts.length > 0) return true;
    } else if (rule.peers.some((peer) => peer.kind === 'pods' && podsPeerMatches(peer, policy, endpoint, nsLabels))) {
      return true;
    }
  }
  return false;
}

function namespaceSelectorMatchesAny(rule: PolicyRule, labelSets: readonly Labels[]): boolean {
  if (rule.peers === 'any') return false;
  return rule.peers.some(
    (peer) => peer.kind === 'pods' && peer.namespaceSelector !== null && labelSets.some((l) => selectorMatches(peer.namespaceSelector!, l)),
  );
}
