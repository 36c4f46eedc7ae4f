// What one endpoint's policy map (an inner LPM_TRIE of flg_policy) must hold
// for a list of rules: every (direction, peer, protocol, port range) becomes
// the few aligned LPM blocks of portRangePrefixes, each keyed as reference
// §7.9 lays out. Pure: no kernel access.
import type { PolicyEntry as PolicyMapValue, PolicyKey } from '../maps/layouts.generated.js';
import { policyKeyPrefixes, POLICY_KEY_STATIC_PREFIX } from './port-prefixes.js';

/** One rule of an endpoint's policy, as the datapath enforces it. */
export interface PolicyMapRule {
  readonly direction: 'ingress' | 'egress';
  /** Remote security identity; 0 = any peer. */
  readonly peerIdentity: number;
  /** IP protocol number; 0 = any (then the ports must be 0..65535). */
  readonly protocol: number;
  readonly portLo: number;
  readonly portHi: number;
  /** A deny rule (NetworkPolicy has none; the datapath supports them). */
  readonly deny?: boolean;
  /** Higher wins between an identity's entry and the any-peer entry; deny always gets the maximum. */
  readonly precedence?: number;
}

/** One key and value of the inner LPM map. */
export interface PolicyMapEntry {
  readonly key: PolicyKey;
  readonly value: PolicyMapValue;
}

/** Mirrors of bpf/include/flagella/maps.h. */
export const POLICY_DIRECTION_INGRESS = 0;
export const POLICY_DIRECTION_EGRESS = 1;
export const POLICY_FLAG_DENY = 1 << 0;
export const POLICY_LPM_PREFIX_SHIFT = 3;
/** Reserved for deny entries (FLG_POLICY_MAX_PRECEDENCE). */
export const POLICY_MAX_PRECEDENCE = 0xffffffff;
/** max_entries of every inner policy map (the template in bpf/lib/maps.h). */
export const POLICY_MAP_MAX_ENTRIES = 16384;

/** A rule the datapath cannot express. */
export class PolicyRuleError extends Error {
  override readonly name = 'PolicyRuleError';
  constructor(
    readonly rule: PolicyMapRule,
    reason: string,
  ) {
    super(`policy rule ${JSON.stringify(rule)}: ${reason}`);
  }
}

/** The canonical text of a key: equal keys, equal text (a Map key and a sort key). */
export function policyKeyText(key: PolicyKey): string {
  return `${key.egress ? 'egress' : 'ingress'}/${key.secLabel}/${key.protocol}/${key.dport}/${key.prefixlen}`;
}

/**
 * The entries of a policy map for `rules`, by policyKeyText. Rules that
 * produce the same key merge: a deny wins, else the highest precedence.
 * Throws PolicyRuleError for a rule outside the key's ranges (identity not
 * a u32, protocol not 0..255, bad port range, protocol 0 with ports).
 */
export function policyMapEntries(rules: Iterable<PolicyMapRule>): Map<string, PolicyMapEntry> {
  const out = new Map<string, PolicyMapEntry>();
  for (const rule of rules) {
    if (!Number.isInteger(rule.peerIdentity) || rule.peerIdentity < 0 || rule.peerIdentity > 0xffffffff) {
      throw new PolicyRuleError(rule, 'peer identity must be a u32');
    }
    let blocks;
    try {
      blocks = policyKeyPrefixes(rule.protocol, rule.portLo, rule.portHi);
    } catch (err) {
      throw new PolicyRuleError(rule, (err as Error).message);
    }
    const deny = rule.deny === true;
    const precedence = deny ? POLICY_MAX_PRECEDENCE : Math.min(rule.precedence ?? 0, POLICY_MAX_PRECEDENCE - 1);
    for (const block of blocks) {
      const key: PolicyKey = {
        prefixlen: block.prefixLength,
        secLabel: rule.peerIdentity,
        egress: rule.direction === 'egress' ? POLICY_DIRECTION_EGRESS : POLICY_DIRECTION_INGRESS,
        protocol: block.protocol,
        dport: block.port,
      };
      const value: PolicyMapValue = {
        proxyPort: 0,
        flags: (deny ? POLICY_FLAG_DENY : 0) | (block.lpmPrefixLength << POLICY_LPM_PREFIX_SHIFT),
        auth: 0,
        precedence,
        cookie: 0,
      };
      const text = policyKeyText(key);
      const existing = out.get(text);
      if (existing === undefined || value.precedence > existing.value.precedence) out.set(text, { key, value });
    }
  }
  return out;
}

/** True when two values would make the datapath decide alike (every field compared). */
export function samePolicyValue(a: PolicyMapValue, b: PolicyMapValue): boolean {
  return a.proxyPort === b.proxyPort && a.flags === b.flags && a.auth === b.auth && a.precedence === b.precedence && a.cookie === b.cookie;
}

/** The key prefix length an LPM lookup in the datapath uses (identity, direction, protocol, port). */
export const POLICY_LOOKUP_PREFIX = POLICY_KEY_STATIC_PREFIX + 24;
