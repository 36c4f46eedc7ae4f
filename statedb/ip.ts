// IP addresses and prefixes as 16-byte binary strings. IPv4 is stored in
// its IPv4-mapped IPv6 form (::ffff:a.b.c.d), so one ordering and one LPM
// trie hold both families; an IPv4 prefix length is shifted by 96.
import { KeyParseError } from './errors.js';

const V4_MAPPED_PREFIX = '\0\0\0\0\0\0\0\0\0\0\xff\xff';

function parseV4Bytes(text: string): number[] | undefined {
  const parts = text.split('.');
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255 || (p.length > 1 && p[0] === '0')) return undefined;
    out.push(n);
  }
  return out;
}

function parseV6Bytes(text: string): number[] | undefined {
  let s = text;
  const zone = s.indexOf('%');
  if (zone >= 0) return undefined; // zones have no place in a key
  let tailV4: number[] = [];
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    const v4 = parseV4Bytes(s.slice(lastColon + 1));
    if (v4 === undefined) return undefined;
    tailV4 = v4;
    s = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string): number[] | undefined => {
    if (h === '') return [];
    const out: number[] = [];
    for (const g of h.split(':')) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
      out.push(parseInt(g, 16));
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (head === undefined || tail === undefined) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(missing).fill(0), ...tail];
  const bytes: number[] = [];
  for (const g of all) bytes.push(g >> 8, g & 0xff);
  if (tailV4.length === 4) bytes.splice(12, 4, ...tailV4);
  return bytes;
}

/** Parses an IPv4 or IPv6 address to its 16-byte binary form; throws KeyParseError. */
export function parseAddress(text: string): string {
  const v4 = parseV4Bytes(text);
  if (v4 !== undefined) return V4_MAPPED_PREFIX + String.fromCharCode(...v4);
  const v6 = parseV6Bytes(text);
  if (v6 !== undefined) return String.fromCharCode(...v6);
  throw new KeyParseError(`invalid IP address ${JSON.stringify(text)}`);
}

/** Address bytes (4 or 16) to the 16-byte binary form. */
export function addressFromBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return V4_MAPPED_PREFIX + String.fromCharCode(...bytes);
  if (bytes.length === 16) return String.fromCharCode(...bytes);
  throw new RangeError(`an IP address has 4 or 16 bytes, got ${bytes.length}`);
}

/** True when the 16-byte form is IPv4-mapped. */
export function isV4Mapped(bin: string): boolean {
  return bin.length === 16 && bin.startsWith(V4_MAPPED_PREFIX);
}

/** Formats the 16-byte form: dotted quad for IPv4-mapped, RFC 5952 text otherwise. */
export function formatAddress(bin: string): string {
  if (isV4Mapped(bin)) {
    return [12, 13, 14, 15].map((i) => bin.charCodeAt(i)).join('.');
  }
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((bin.charCodeAt(i) << 8) | bin.charCodeAt(i + 1));
  // Longest run of at least two zero groups becomes "::".
  let bestAt = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) {
      bestAt = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = groups.map((g) => g.toString(16));
  if (bestAt < 0) return hex.join(':');
  return `${hex.slice(0, bestAt).join(':')}::${hex.slice(bestAt + bestLen).join(':')}`;
}

/** A parsed prefix: the masked 16-byte address and the length in bits over 128. */
export interface BinaryPrefix {
  readonly address: string;
  readonly bits: number;
}

/** Zeroes every bit after `bits` in a 16-byte address. */
export function maskAddress(bin: string, bits: number): string {
  let out = '';
  for (let i = 0; i < 16; i++) {
    const keep = Math.max(0, Math.min(8, bits - i * 8));
    out += String.fromCharCode(bin.charCodeAt(i) & ((0xff00 >> keep) & 0xff));
  }
  return out;
}

/**
 * Parses "a.b.c.d/n", "x::/n" or a bare address (a host prefix). The
 * address is masked; IPv4 lengths are shifted by 96. Throws KeyParseError.
 */
export function parsePrefix(text: string): BinaryPrefix {
  const slash = text.indexOf('/');
  const addrText = slash < 0 ? text : text.slice(0, slash);
  const address = parseAddress(addrText);
  const v4 = parseV4Bytes(addrText) !== undefined;
  const max = v4 ? 32 : 128;
  let bits = max;
  if (slash >= 0) {
    const lenText = text.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText) || Number(lenText) > max) {
      throw new KeyParseError(`invalid prefix length in ${JSON.stringify(text)} (0..${max})`);
    }
    bits = Number(lenText);
  }
  const total = v4 ? bits + 96 : bits;
  return { address: maskAddress(address, total), bits: total };
}

/** Formats a prefix (IPv4-mapped prefixes of at least 96 bits print as IPv4). */
export function formatPrefix(p: BinaryPrefix): string {
  if (isV4Mapped(p.address) && p.bits >= 96) return `${formatAddress(p.address)}/${p.bits - 96}`;
  return `${formatAddress(p.address)}/${p.bits}`;
}
