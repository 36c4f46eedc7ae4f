// Strict IP address parsing and canonical formatting.
//
// Rows hold addresses as canonical strings (dotted quad for IPv4, RFC 5952
// for IPv6) so they stay plain JSON; bytes are derived when a key or a map
// entry needs them. Parsing is strict because an address that means
// something different to us than to the kernel or Kubernetes is worse than
// a rejected one: no leading zeros in IPv4 (`01.2.3.4` is octal to some
// parsers), no short forms (`1.2.3`), no zone ids (`fe80::1%eth0`: a zone is
// not part of an address a BPF map can hold).
import { isIP } from 'node:net';

export type IPFamily = 4 | 6;

/** An address string that is not a valid IPv4 or IPv6 address. */
export class InvalidAddressError extends Error {
  override readonly name = 'InvalidAddressError';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid IP address ${JSON.stringify(input)}: ${reason}`);
  }
}

/**
 * Parses an IPv4 or IPv6 address into 4 or 16 bytes.
 * Throws InvalidAddressError with the reason on anything else.
 */
export function parseIPBytes(text: string): Uint8Array {
  if (typeof text !== 'string') throw new InvalidAddressError(String(text), 'not a string');
  if (text.includes('%')) throw new InvalidAddressError(text, 'zone ids are not allowed');
  if (text.includes(':')) return parseIPv6(text);
  return parseIPv4(text);
}

/** The canonical form of an address: `1.2.3.4`, `2001:db8::1`. Throws InvalidAddressError. */
export function canonicalIP(text: string): string {
  return formatIPBytes(parseIPBytes(text));
}

/** True when text is a valid address in the strict sense of parseIPBytes. */
export function isValidIP(text: string): boolean {
  try {
    parseIPBytes(text);
    return true;
  } catch {
    return false;
  }
}

/** The family of a canonical address string (no validation: IPv6 iff it contains a colon). */
export function ipFamily(ip: string): IPFamily {
  return ip.includes(':') ? 6 : 4;
}

/** The unspecified address of a family: the NodePort surrogate's address. */
export function unspecifiedIP(family: IPFamily): string {
  return family === 4 ? '0.0.0.0' : '::';
}

/**
 * Writes an address as 16 bytes into `out` at `offset`: IPv6 as is, IPv4 as
 * the IPv4-mapped `::ffff:a.b.c.d`. Throws InvalidAddressError.
 */
export function writeIP16(ip: string, out: Uint8Array, offset = 0): void {
  const bytes = parseIPBytes(ip);
  if (bytes.length === 16) {
    out.set(bytes, offset);
    return;
  }
  out.fill(0, offset, offset + 10);
  out[offset + 10] = 0xff;
  out[offset + 11] = 0xff;
  out.set(bytes, offset + 12);
}

/** Formats 4 or 16 bytes as a canonical address (RFC 5952 for IPv6). Throws RangeError on other lengths. */
export function formatIPBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}`;
  if (bytes.length !== 16) throw new RangeError(`an IP address has 4 or 16 bytes, not ${bytes.length}`);
  return formatIPv6(bytes);
}

/**
 * Returns 4 bytes for an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`), the
 * input otherwise: such an address and its IPv4 form share one map key, so
 * keyed rows must use one spelling.
 */
export function unmapIPBytes(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16 || bytes[10] !== 0xff || bytes[11] !== 0xff) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  return bytes.slice(12, 16);
}

/** Compares two canonical addresses by their 16-byte (IPv4-mapped) form. */
export function compareIPs(a: string, b: string): number {
  if (a === b) return 0;
  const ka = new Uint8Array(16);
  const kb = new Uint8Array(16);
  writeIP16(a, ka);
  writeIP16(b, kb);
  return compareBytes(ka, kb);
}

/** Bytewise comparison, shorter first on a common prefix. */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

function parseIPv4(text: string): Uint8Array {
  // A hand-rolled scan: this runs for every address of every object
  // converted, and split + regex per part cost several times more.
  const out = new Uint8Array(4);
  let part = 0;
  let value = 0;
  let digits = 0;
  let leadingZero = false;
  for (let i = 0; i <= text.length; i++) {
    const c = i < text.length ? text.charCodeAt(i) : 0x2e; // a virtual '.' ends the last part
    if (c >= 0x30 && c <= 0x39) {
      if (digits === 0) leadingZero = c === 0x30;
      value = value * 10 + (c - 0x30);
      digits++;
      continue;
    }
    if (c !== 0x2e) {
      if (text.split('.').length !== 4) throw new InvalidAddressError(text, 'an IPv4 address has four dotted decimal parts');
      throw new InvalidAddressError(text, `part ${JSON.stringify(text.split('.')[Math.min(part, 3)])} is not a decimal number`);
    }
    if (part > 3) throw new InvalidAddressError(text, 'an IPv4 address has four dotted decimal parts');
    const partText = text.slice(i - digits, i);
    if (digits === 0 || digits > 3) {
      if (text.split('.').length !== 4) throw new InvalidAddressError(text, 'an IPv4 address has four dotted decimal parts');
      throw new InvalidAddressError(text, `part ${JSON.stringify(partText)} is not a decimal number`);
    }
    if (leadingZero && digits > 1) throw new InvalidAddressError(text, `part ${JSON.stringify(partText)} has a leading zero`);
    if (value > 255) throw new InvalidAddressError(text, `part ${partText} is above 255`);
    out[part++] = value;
    value = 0;
    digits = 0;
  }
  if (part !== 4) throw new InvalidAddressError(text, 'an IPv4 address has four dotted decimal parts');
  return out;
}

function parseIPv6(text: string): Uint8Array {
  // node:net rejects most malformed forms with the same grammar as the
  // kernel's inet_pton; we still walk the string ourselves to get the bytes
  // (and to reject forms isIP lets through, such as zone ids, above).
  if (isIP(text) !== 6) throw new InvalidAddressError(text, 'not a valid IPv6 address');
  const out = new Uint8Array(16);
  let head = text;
  let tail = '';
  const gap = text.indexOf('::');
  if (gap >= 0) {
    head = text.slice(0, gap);
    tail = text.slice(gap + 2);
  }
  const headWords = splitWords(text, head);
  const tailWords = splitWords(text, tail);
  const words = headWords.length + tailWords.length;
  if (gap < 0 && words !== 8) throw new InvalidAddressError(text, 'an IPv6 address has eight groups');
  if (gap >= 0 && words > 7) throw new InvalidAddressError(text, "'::' must stand for at least one group");
  headWords.forEach((w, i) => writeWord(out, i, w));
  tailWords.forEach((w, i) => writeWord(out, 8 - tailWords.length + i, w));
  return out;
}

/** Splits a colon-separated run into 16-bit words; an embedded IPv4 tail counts as two. */
function splitWords(whole: string, run: string): number[] {
  if (run === '') return [];
  const groups = run.split(':');
  const words: number[] = [];
  groups.forEach((g, i) => {
    if (g.includes('.')) {
      if (i !== groups.length - 1) throw new InvalidAddressError(whole, 'an embedded IPv4 address must come last');
      const v4 = parseIPv4(g);
      words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
    } else {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw new InvalidAddressError(whole, `group ${JSON.stringify(g)} is not 1-4 hex digits`);
      words.push(parseInt(g, 16));
    }
  });
  return words;
}

function writeWord(out: Uint8Array, index: number, word: number): void {
  out[index * 2] = word >> 8;
  out[index * 2 + 1] = word & 0xff;
}

function formatIPv6(bytes: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 8; i++) words.push((bytes[i * 2]! << 8) | bytes[i * 2 + 1]!);
  // RFC 5952 §5: IPv4-mapped addresses keep the dotted tail.
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) {
    return `::ffff:${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`;
  }
  // RFC 5952 §4.2: compress the longest run of two or more zero groups, the
  // first one on a tie; never a single group.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}
