// Why a packet ended as it did: the index of flg_metrics and the reason of
// every flg_events record. Mirrors `enum flg_reason` in
// bpf/include/flagella/events.h (the layout generator covers map keys and
// values, not this enum); test/bpf/reasons.test.ts compares the two.
// Values index pinned counters that survive restarts: never renumber.

export const Reason = {
  FORWARDED: 0,
  REVERSE_NAT: 1,
  PASSED: 2,
  PASSED_FRAGMENT: 3,
  DROP_NO_BACKEND: 8,
  DROP_NOT_IN_SOURCE_RANGE: 9,
  DROP_NO_SERVICE_PORT: 10,
  DROP_BACKEND_MISSING: 11,
  DROP_MALFORMED: 12,
  DROP_CSUM_ERROR: 13,
  DROP_CT_CREATE_FAILED: 14,
  DROP_POLICY_INGRESS: 15,
  DROP_POLICY_EGRESS: 16,
  DROP_POLICY_DENY_INGRESS: 17,
  DROP_POLICY_DENY_EGRESS: 18,
  DROP_FRAG_NOT_FOUND: 19,
  DROP_POLICY_UNSUPPORTED_FAMILY: 20,
} as const;

export type ReasonName = keyof typeof Reason;

/** Every value from this one on is a drop. */
export const REASON_DROP_FIRST = 8;
/** Entries of flg_metrics (FLG_REASON_MAX). */
export const REASON_MAX = 32;

const namesByValue = new Map<number, ReasonName>(
  Object.entries(Reason).map(([name, value]) => [value, name as ReasonName]),
);

/** The name of a reason value, or `UNKNOWN_<n>` for a value this build does not know. */
export function reasonName(value: number): string {
  return namesByValue.get(value) ?? `UNKNOWN_${value}`;
}

export function isDrop(value: number): boolean {
  return value >= REASON_DROP_FIRST;
}
