// statedb key types for the load-balancing tables. Frontends are keyed by
// the 24-byte L3n4Addr encoding (reference §2.2) so they sort by address,
// port, protocol and scope, and a prefix of it selects e.g. every frontend on
// one IP; backends by service name, address and source, so a service's
// backends are one prefix search.
import type { KeyType } from '../../statedb/index.js';
import { KeyParseError } from '../../statedb/index.js';
import {
  InvalidL3n4AddrError,
  L3N4ADDR_KEY_SIZE,
  formatL3n4Addr,
  l3n4AddrFromKey,
  l3n4AddrKey,
  parseL3n4Addr,
  type L3n4Addr,
} from './l3n4-addr.js';


// Addresses are immutable and shared between rows, conversions and the
// reconciler's state, and their key is wanted many times per write: remember
// it per object.
const keyCache = new WeakMap<L3n4Addr, string>();

/**
 * The 24-byte key of an address as a binary string (one char per byte),
 * the form statedb indexes store. Remembered per address object (addresses
 * must not be mutated; rows are frozen anyway).
 */
export function l3n4AddrKeyString(addr: L3n4Addr): string {
  let key = keyCache.get(addr);
  if (key === undefined) {
    key = computeKeyString(addr);
    keyCache.set(addr, key);
  }
  return key;
}

const PROTOCOL_CODE = { TCP: 0x54, UDP: 0x55, SCTP: 0x53, ANY: 0x3f } as const;

function computeKeyString(addr: L3n4Addr): string {
  const port = addr.port;
  const proto = PROTOCOL_CODE[addr.protocol];
  const scope = addr.scope === 'internal' ? 1 : 0;
  const v4 = parseIPv4Fast(addr.ip);
  if (v4 >= 0) {
    // One flat string in one call: no rope to flatten when it is hashed.
    return String.fromCharCode(
      0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff,
      v4 >>> 24, (v4 >>> 16) & 0xff, (v4 >>> 8) & 0xff, v4 & 0xff,
      0, 0, 0, 0,
      port >>> 8, port & 0xff, proto, scope,
    );
  }
  return bytesToBinary(l3n4AddrKey(addr).subarray(0, 20)) + String.fromCharCode(port >>> 8, port & 0xff, proto, scope);
}

/** A canonical dotted IPv4 address as a number, or -1 for anything else (IPv6). */
function parseIPv4Fast(ip: string): number {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 0x2e) {
      if (digits === 0 || part > 255) return -1;
      value = value * 256 + part;
      part = 0;
      digits = 0;
      dots++;
    } else if (c >= 0x30 && c <= 0x39) {
      part = part * 10 + (c - 0x30);
      digits++;
    } else {
      return -1;
    }
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return value * 256 + part;
}

/** The binary-string key of an address with port, protocol and scope cut off: a prefix selecting every frontend on that IP. */
export function ipKeyPrefix(ip: string): string {
  return l3n4AddrKeyString({ ip, port: 0, protocol: 'ANY', scope: 'external' }).slice(0, 20);
}

function bytesToBinary(bytes: Uint8Array): string {
  return String.fromCharCode(...bytes); // one flat string (keys are short)
}

function binaryToBytes(bin: string): Uint8Array {
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** L3n4Addr keys: 24 bytes; text form `1.2.3.4:80/TCP`, `[2001::1]:443/UDP/i`. */
export const l3n4AddrKeyType: KeyType<L3n4Addr> = {
  name: 'l3n4addr',
  fixedWidth: L3N4ADDR_KEY_SIZE,
  encode: l3n4AddrKeyString,
  decode: (bin) => l3n4AddrFromKey(binaryToBytes(bin)),
  parse(text) {
    try {
      return parseL3n4Addr(text.trim());
    } catch (err) {
      if (err instanceof InvalidL3n4AddrError) throw new KeyParseError(err.message);
      throw err;
    }
  },
  format: formatL3n4Addr,
};

/**
 * A backend row's identity: the service it serves, its address and its
 * source. A query with only `serviceName` (or only serviceName and address)
 * encodes the prefix of every key below it.
 */
export interface BackendKey {
  readonly serviceName: string;
  readonly address?: L3n4Addr;
  readonly source?: string;
}

const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();

function utf8Binary(s: string): string {
  // Service names and sources are ASCII in practice; only encode when not.
  // eslint-disable-next-line no-control-regex
  return /^[\x01-\x7f]*$/.test(s) ? s : bytesToBinary(utf8.encode(s));
}

/** `name 00 address(24) 00 source`: sorted by service, then address, then source. */
export const backendKeyType: KeyType<BackendKey> = {
  name: 'backend',
  fixedWidth: undefined,
  encode(key) {
    if (key.serviceName.includes('\0')) throw new TypeError('a service name cannot contain NUL');
    // Joined once into a flat string: concatenation would leave a rope that
    // every comparison in the index tree walks again (statedb/binary.ts).
    const name = utf8Binary(key.serviceName);
    if (key.address === undefined) return `${name}\0`;
    const addr = l3n4AddrKeyString(key.address);
    if (key.source === undefined) return [name, addr, ''].join('\0');
    return [name, addr, utf8Binary(key.source)].join('\0');
  },
  decode(bin) {
    const nul = bin.indexOf('\0');
    const serviceName = utf8Decoder.decode(binaryToBytes(bin.slice(0, nul)));
    const rest = bin.slice(nul + 1);
    if (rest.length < L3N4ADDR_KEY_SIZE) return { serviceName };
    const address = l3n4AddrFromKey(binaryToBytes(rest.slice(0, L3N4ADDR_KEY_SIZE)));
    const source = utf8Decoder.decode(binaryToBytes(rest.slice(L3N4ADDR_KEY_SIZE + 1)));
    return { serviceName, address, source };
  },
  parse(text) {
    const parts = text.trim().split(/\s+/);
    if (parts.length === 0 || parts[0] === '' || parts.length > 3) {
      throw new KeyParseError(`invalid backend key ${JSON.stringify(text)}: expected "<ns/name> [<ip:port/PROTO> [<source>]]"`);
    }
    const [serviceName, address, source] = parts as [string, string | undefined, string | undefined];
    return {
      serviceName,
      ...(address === undefined ? {} : { address: l3n4AddrKeyType.parse(address) }),
      ...(source === undefined ? {} : { source }),
    };
  },
  format(key) {
    return [key.serviceName, key.address === undefined ? undefined : formatL3n4Addr(key.address), key.source].filter((p) => p !== undefined).join(' ');
  },
};
