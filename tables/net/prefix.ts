// IP prefixes (CIDRs): source ranges of services and ipBlocks of policies.
import { formatIPBytes, InvalidAddressError, parseIPBytes, type IPFamily } from './ip-address.js';

/** A parsed prefix: canonical network address (host bits cleared) and length. */
export interface Prefix {
  readonly ip: string;
  readonly bits: number;
  readonly family: IPFamily;
}

/**
 * Parses `a.b.c.d/n` or `x::y/n`. Host bits set below the prefix length are
 * cleared (`10.1.2.3/8` becomes `10.0.0.0/8`), as Kubernetes accepts such
 * values and every datapath masks them anyway. Throws InvalidAddressError on
 * a missing or out-of-range length or an invalid address.
 */
export function parsePrefix(text: string): Prefix {
  if (typeof text !== 'string') throw new InvalidAddressError(String(text), 'not a string');
  const slash = text.indexOf('/');
  if (slash < 0) throw new InvalidAddressError(text, 'a prefix needs a /length');
  const lengthText = text.slice(slash + 1);
  const bytes = parseIPBytes(text.slice(0, slash));
  const max = bytes.length * 8;
  if (!/^(0|[1-9][0-9]{0,2})$/.test(lengthText) || Number(lengthText) > max) {
    throw new InvalidAddressError(text, `prefix length must be 0..${max}`);
  }
  const bits = Number(lengthText);
  maskBytes(bytes, bits);
  return { ip: formatIPBytes(bytes), bits, family: bytes.length === 4 ? 4 : 6 };
}

/** The canonical text of a prefix: `10.0.0.0/8`. */
export function formatPrefix(prefix: Prefix): string {
  return `${prefix.ip}/${prefix.bits}`;
}

/** Canonical text of a prefix given as text. Throws InvalidAddressError. */
export function canonicalPrefix(text: string): string {
  return formatPrefix(parsePrefix(text));
}

/**
 * True when every address of `inner` is inside `outer` (same family, inner
 * at least as long and equal to outer on outer's bits). A prefix contains
 * itself.
 */
export function prefixContains(outer: Prefix, inner: Prefix): boolean {
  if (outer.family !== inner.family || inner.bits < outer.bits) return false;
  const a = parseIPBytes(outer.ip);
  const b = parseIPBytes(inner.ip);
  maskBytes(b, outer.bits);
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** True when the address is inside the prefix. */
export function prefixContainsIP(prefix: Prefix, ip: string): boolean {
  const bytes = parseIPBytes(ip);
  return prefixContains(prefix, { ip, bits: bytes.length * 8, family: bytes.length === 4 ? 4 : 6 });
}

/** Clears every bit after the first `bits` bits, in place. */
export function maskBytes(bytes: Uint8Array, bits: number): void {
  for (let i = 0; i < bytes.length; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    bytes[i] = bytes[i]! & ((0xff << (8 - keep)) & 0xff);
  }
}
