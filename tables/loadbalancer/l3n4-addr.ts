// L3n4Addr: an IP address, an L4 port and protocol, and a lookup scope.
// The frontend table's primary key is its 24-byte encoding, so frontends
// sort (and prefix-search) by address bytes, then port, protocol and scope.
import {
  compareBytes,
  formatIPBytes,
  InvalidAddressError,
  ipFamily,
  parseIPBytes,
  unmapIPBytes,
  writeIP16,
} from '../net/ip-address.js';
import type { IPFamily } from '../net/ip-address.js';

export type L4Protocol = 'TCP' | 'UDP' | 'SCTP' | 'ANY';
export const L4_PROTOCOLS: readonly L4Protocol[] = ['TCP', 'UDP', 'SCTP', 'ANY'];

/**
 * external: the address as seen from outside the node (the default);
 * internal: a second entry for the same address used by traffic from inside
 * the cluster when the two traffic policies differ ("two scopes").
 */
export type Scope = 'external' | 'internal';

export interface L3n4Addr {
  /** Canonical IPv4 or IPv6 address (see canonicalIP). */
  readonly ip: string;
  /** 0..65535; 0 only for wildcard entries. */
  readonly port: number;
  readonly protocol: L4Protocol;
  readonly scope: Scope;
}

/** Size of the key encoding (§2.2): 16 address + 4 cluster id + 2 port + 1 protocol + 1 scope. */
export const L3N4ADDR_KEY_SIZE = 24;

const PROTOCOL_LETTER: Record<L4Protocol, number> = { TCP: 0x54, UDP: 0x55, SCTP: 0x53, ANY: 0x3f };
const LETTER_PROTOCOL = new Map<number, L4Protocol>(
  Object.entries(PROTOCOL_LETTER).map(([p, l]) => [l, p as L4Protocol]),
);

/** A string that is not an L3n4Addr. */
export class InvalidL3n4AddrError extends Error {
  override readonly name = 'InvalidL3n4AddrError';
  constructor(
    readonly input: string,
    readonly reason: string,
  ) {
    super(`invalid address ${JSON.stringify(input)}: ${reason}`);
  }
}

/**
 * Builds an L3n4Addr, canonicalising the IP (an IPv4-mapped IPv6 address
 * becomes IPv4, since both have the same key). Throws InvalidAddressError or RangeError on a bad port. */
export function l3n4Addr(ip: string, port: number, protocol: L4Protocol, scope: Scope = 'external'): L3n4Addr {
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new RangeError(`port ${port} is not in 0..65535`);
  return { ip: formatIPBytes(unmapIPBytes(parseIPBytes(ip))), port, protocol, scope };
}

/** The address family of an L3n4Addr. */
export function l3n4Family(addr: L3n4Addr): IPFamily {
  return ipFamily(addr.ip);
}

/** `1.2.3.4:80/TCP`, `[2001::1]:443/UDP`, with `/i` appended for internal scope. */
export function formatL3n4Addr(addr: L3n4Addr): string {
  const host = addr.ip.includes(':') ? `[${addr.ip}]` : addr.ip;
  return `${host}:${addr.port}/${addr.protocol}${addr.scope === 'internal' ? '/i' : ''}`;
}

/** `ip:port` with IPv6 in brackets (no protocol, no scope), as reverse-NAT entries print. */
export function formatHostPort(ip: string, port: number): string {
  return `${ip.includes(':') ? `[${ip}]` : ip}:${port}`;
}

/**
 * Parses the string form written by formatL3n4Addr. The protocol is
 * required; the address is canonicalised. Throws InvalidL3n4AddrError.
 */
export function parseL3n4Addr(text: string): L3n4Addr {
  const m = /^(?:\[([^\]]*)\]|([^:/[\]]*)):([0-9]+)\/([A-Za-z]+)(\/i)?$/.exec(text);
  if (m === null) throw new InvalidL3n4AddrError(text, 'expected ip:port/PROTO, [ip6]:port/PROTO, optionally /i');
  const ipText = m[1] ?? m[2] ?? '';
  if (m[1] !== undefined && !ipText.includes(':')) throw new InvalidL3n4AddrError(text, 'brackets are for IPv6 only');
  // IPv4-mapped IPv6 becomes IPv4 below: both spellings share one key.
  if (m[2] !== undefined && ipText.includes(':')) throw new InvalidL3n4AddrError(text, 'IPv6 addresses need brackets');
  let ip: string;
  try {
    ip = formatIPBytes(unmapIPBytes(parseIPBytes(ipText)));
  } catch (err) {
    throw new InvalidL3n4AddrError(text, err instanceof InvalidAddressError ? err.reason : String(err));
  }
  const portText = m[3]!;
  const port = Number(portText);
  if ((portText.length > 1 && portText.startsWith('0')) || port > 65535) {
    throw new InvalidL3n4AddrError(text, `port ${portText} is not in 0..65535`);
  }
  const protocol = m[4]!.toUpperCase();
  if (!(L4_PROTOCOLS as readonly string[]).includes(protocol)) {
    throw new InvalidL3n4AddrError(text, `protocol ${m[4]} is not one of ${L4_PROTOCOLS.join(', ')}`);
  }
  return { ip, port, protocol: protocol as L4Protocol, scope: m[5] === undefined ? 'external' : 'internal' };
}

/**
 * The 24-byte key (reference §2.2): 16-byte IPv6 or IPv4-mapped address,
 * 4-byte cluster id (big-endian), port big-endian, protocol letter
 * (T, U, S, ?), scope (0 external, 1 internal).
 */
export function l3n4AddrKey(addr: L3n4Addr, clusterId = 0): Uint8Array {
  const key = new Uint8Array(L3N4ADDR_KEY_SIZE);
  writeIP16(addr.ip, key, 0);
  key[16] = (clusterId >>> 24) & 0xff;
  key[17] = (clusterId >>> 16) & 0xff;
  key[18] = (clusterId >>> 8) & 0xff;
  key[19] = clusterId & 0xff;
  key[20] = addr.port >> 8;
  key[21] = addr.port & 0xff;
  key[22] = PROTOCOL_LETTER[addr.protocol];
  key[23] = addr.scope === 'internal' ? 1 : 0;
  return key;
}

/**
 * Decodes a key written by l3n4AddrKey. IPv4-mapped addresses come back as
 * IPv4. Throws InvalidL3n4AddrError on a wrong size or unknown letter.
 */
export function l3n4AddrFromKey(key: Uint8Array): L3n4Addr {
  if (key.length !== L3N4ADDR_KEY_SIZE) throw new InvalidL3n4AddrError(`<${key.length} bytes>`, 'a key has 24 bytes');
  const mapped = key.subarray(0, 10).every((b) => b === 0) && key[10] === 0xff && key[11] === 0xff;
  const ip = formatIPBytes(mapped ? key.slice(12, 16) : key.slice(0, 16));
  const protocol = LETTER_PROTOCOL.get(key[22]!);
  if (protocol === undefined) throw new InvalidL3n4AddrError(`<key>`, `unknown protocol byte ${key[22]}`);
  return { ip, port: (key[20]! << 8) | key[21]!, protocol, scope: key[23] === 1 ? 'internal' : 'external' };
}

/** Orders addresses by their key bytes: address, port, protocol letter, scope. */
export function compareL3n4Addr(a: L3n4Addr, b: L3n4Addr): number {
  return compareBytes(l3n4AddrKey(a), l3n4AddrKey(b));
}

/** True when both name the same address, port, protocol and scope. */
export function equalL3n4Addr(a: L3n4Addr, b: L3n4Addr): boolean {
  return a.ip === b.ip && a.port === b.port && a.protocol === b.protocol && a.scope === b.scope;
}
