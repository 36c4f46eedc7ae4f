// Port ranges as LPM blocks for the per-endpoint policy map (reference
// §7.9). The key's last 24 bits are protocol (8) then port (16, network
// order), so a range of ports is written as the few aligned power-of-two
// blocks that cover it exactly, each with its own prefix length.

/** Identity (32) + direction (8) bits: the part of every policy key that is always matched. */
export const POLICY_KEY_STATIC_PREFIX = 40;
/** The whole key after the prefixlen field: 8 · (12 − 4) bits. */
export const POLICY_KEY_FULL_PREFIX = 64;
/** Protocol (8) + port (16) bits. */
export const POLICY_KEY_L4_BITS = 24;

/** An aligned block of ports: the `prefixBits` leading bits of `port` are matched, the rest are free. */
export interface PortPrefix {
  readonly port: number;
  readonly prefixBits: number;
}

/** One LPM entry of the policy map for a (protocol, port block). */
export interface PolicyKeyPrefix {
  /** IP protocol number; 0 = any (only with every port). */
  readonly protocol: number;
  /** First port of the block (0 when ports are wildcarded). */
  readonly port: number;
  /** The key's `prefixlen`: 40 + 8 if the protocol is given + matched port bits. */
  readonly prefixLength: number;
  /** The value's `lpm_prefix_length`: prefixLength − 40, 0..24. */
  readonly lpmPrefixLength: number;
}

/**
 * The minimal list of aligned blocks whose union is exactly [lo, hi] in a
 * `width`-bit port space (16 for real ports), in ascending order. Greedy is
 * minimal: at each step the largest aligned block starting at lo that fits
 * is taken, and any cover must split at the same points. Throws RangeError
 * unless 0 <= lo <= hi < 2^width.
 */
export function portRangePrefixes(lo: number, hi: number, width = 16): PortPrefix[] {
  if (!Number.isInteger(width) || width < 1 || width > 16) throw new RangeError(`port width ${width} is not in 1..16`);
  const max = 2 ** width - 1;
  if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi > max || lo > hi) {
    throw new RangeError(`port range [${lo}, ${hi}] is not within 0..${max} with lo <= hi`);
  }
  const out: PortPrefix[] = [];
  let start = lo;
  while (start <= hi) {
    // Largest power of two that divides start (all of them for 0) ...
    let freeBits = start === 0 ? width : Math.min(width, 31 - Math.clz32(start & -start));
    // ... shrunk until the block ends within the range.
    while (start + 2 ** freeBits - 1 > hi) freeBits--;
    out.push({ port: start, prefixBits: width - freeBits });
    start += 2 ** freeBits;
  }
  return out;
}

/** The key prefix length for a protocol (0 = any) and the number of matched port bits. Throws RangeError on a port with protocol 0. */
export function policyKeyPrefixLength(protocol: number, portPrefixBits: number): number {
  if (!Number.isInteger(portPrefixBits) || portPrefixBits < 0 || portPrefixBits > 16) {
    throw new RangeError(`port prefix bits ${portPrefixBits} is not in 0..16`);
  }
  if (protocol === 0) {
    if (portPrefixBits !== 0) throw new RangeError('a policy key can wildcard the protocol only when every port is open');
    return POLICY_KEY_STATIC_PREFIX;
  }
  return POLICY_KEY_STATIC_PREFIX + 8 + portPrefixBits;
}

/**
 * The policy-map LPM entries for a protocol and port range: one entry
 * with the protocol wildcarded (prefix 40) for protocol 0 over every port,
 * one protocol-only entry (48) for a protocol over every port, else one per
 * aligned block (48 + matched port bits; a single port is 64). Throws
 * RangeError on a bad range, a protocol outside 0..255, or protocol 0 with
 * anything but the whole port space.
 */
export function policyKeyPrefixes(protocol: number, lo: number, hi: number): PolicyKeyPrefix[] {
  if (!Number.isInteger(protocol) || protocol < 0 || protocol > 255) throw new RangeError(`protocol ${protocol} is not in 0..255`);
  const blocks = portRangePrefixes(lo, hi, 16);
  if (protocol === 0 && (blocks.length !== 1 || blocks[0]!.prefixBits !== 0)) {
    throw new RangeError(`protocol 0 (any) needs the whole port range, not [${lo}, ${hi}]`);
  }
  return blocks.map((b) => {
    const prefixLength = policyKeyPrefixLength(protocol, b.prefixBits);
    return { protocol, port: b.port, prefixLength, lpmPrefixLength: prefixLength - POLICY_KEY_STATIC_PREFIX };
  });
}
