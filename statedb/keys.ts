// Key encoders: each turns a typed key into a binary string whose bytewise
// order is the key's natural order, and parses/formats the key as text for
// the CLI and HTTP API. Queries are typed by their index's KeyType, so a
// wrong key type does not compile.
import {
  binaryToBytes,
  binaryToHex,
  binaryToUtf8,
  bytesToBinary,
  escapeComponent,
  unescapeComponent,
  utf8ToBinary,
} from './binary.js';
import { KeyParseError } from './errors.js';
import { addressFromBytes, formatAddress, formatPrefix, parseAddress, parsePrefix } from './ip.js';

export interface KeyType<K> {
  /** Short name shown by tooling, e.g. "u32", "string", "tuple(string,u16)". */
  readonly name: string;
  /** Byte width when every key has the same length; undefined for variable-length keys. */
  readonly fixedWidth: number | undefined;
  /** The order-preserving binary encoding. Throws RangeError/TypeError on a value outside the type. */
  encode(key: K): string;
  /** Inverse of encode. */
  decode(bin: string): K;
  /** Parses the text form (CLI, HTTP); throws KeyParseError. */
  parse(text: string): K;
  /** The text form; parse(format(k)) encodes like k. */
  format(key: K): string;
}

function uint(name: string, bytes: 1 | 2 | 4): KeyType<number> {
  const max = 2 ** (bytes * 8) - 1;
  return {
    name,
    fixedWidth: bytes,
    encode(n) {
      if (!Number.isInteger(n) || n < 0 || n > max) throw new RangeError(`${name} key out of range: ${n}`);
      if (bytes === 1) return String.fromCharCode(n);
      if (bytes === 2) return String.fromCharCode(n >>> 8, n & 0xff);
      return String.fromCharCode(n >>> 24, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
    },
    decode(bin) {
      let n = 0;
      for (let i = 0; i < bytes; i++) n = n * 256 + bin.charCodeAt(i);
      return n;
    },
    parse(text) {
      const n = /^\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
      if (!Number.isInteger(n) || n > max) throw new KeyParseError(`invalid ${name} ${JSON.stringify(text)}`);
      return n;
    },
    format: (n) => String(n),
  };
}

function sint(name: string, bytes: 1 | 2 | 4): KeyType<number> {
  const half = 2 ** (bytes * 8 - 1);
  const unsigned = uint(name, bytes);
  return {
    name,
    fixedWidth: bytes,
    // Adding 2^(w-1) flips the sign bit of two's complement: negatives
    // sort before positives, numerically (upstream does not flip).
    encode(n) {
      if (!Number.isInteger(n) || n < -half || n >= half) throw new RangeError(`${name} key out of range: ${n}`);
      return unsigned.encode(n + half);
    },
    decode: (bin) => unsigned.decode(bin) - half,
    parse(text) {
      const n = /^-?\d+$/.test(text.trim()) ? Number(text.trim()) : NaN;
      if (!Number.isInteger(n) || n < -half || n >= half) {
        throw new KeyParseError(`invalid ${name} ${JSON.stringify(text)}`);
      }
      return n;
    },
    format: (n) => String(n),
  };
}

const TWO_64 = 1n << 64n;
const TWO_63 = 1n << 63n;

function u64Bytes(v: bigint): string {
  let out = '';
  for (let shift = 56n; shift >= 0n; shift -= 8n) out += String.fromCharCode(Number((v >> shift) & 0xffn));
  return out;
}

function bigFromBytes(bin: string): bigint {
  let v = 0n;
  for (let i = 0; i < 8; i++) v = (v << 8n) | BigInt(bin.charCodeAt(i));
  return v;
}

/** 64-bit keys take a bigint or a safe integer; decoding gives a number when it is safe, else a bigint. */
export type Int64 = number | bigint;

function toBig(name: string, v: Int64): bigint {
  if (typeof v === 'bigint') return v;
  if (!Number.isSafeInteger(v)) throw new RangeError(`${name} key must be a safe integer or a bigint: ${v}`);
  return BigInt(v);
}

function narrow(v: bigint): Int64 {
  return v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v;
}

const u64: KeyType<Int64> = {
  name: 'u64',
  fixedWidth: 8,
  encode(v) {
    const b = toBig('u64', v);
    if (b < 0n || b >= TWO_64) throw new RangeError(`u64 key out of range: ${v}`);
    return u64Bytes(b);
  },
  decode: (bin) => narrow(bigFromBytes(bin)),
  parse(text) {
    if (!/^\d+$/.test(text.trim()) || BigInt(text.trim()) >= TWO_64) {
      throw new KeyParseError(`invalid u64 ${JSON.stringify(text)}`);
    }
    return narrow(BigInt(text.trim()));
  },
  format: (v) => String(v),
};

const i64: KeyType<Int64> = {
  name: 'i64',
  fixedWidth: 8,
  encode(v) {
    const b = toBig('i64', v);
    if (b < -TWO_63 || b >= TWO_63) throw new RangeError(`i64 key out of range: ${v}`);
    return u64Bytes(b + TWO_63);
  },
  decode: (bin) => narrow(bigFromBytes(bin) - TWO_63),
  parse(text) {
    const t = text.trim();
    if (!/^-?\d+$/.test(t) || BigInt(t) < -TWO_63 || BigInt(t) >= TWO_63) {
      throw new KeyParseError(`invalid i64 ${JSON.stringify(text)}`);
    }
    return narrow(BigInt(t));
  },
  format: (v) => String(v),
};

const string: KeyType<string> = {
  name: 'string',
  fixedWidth: undefined,
  encode(s) {
    if (typeof s !== 'string') throw new TypeError(`string key expected, got ${typeof s}`);
    return utf8ToBinary(s);
  },
  decode: binaryToUtf8,
  parse: (text) => text,
  format: (s) => s,
};

const bool: KeyType<boolean> = {
  name: 'bool',
  fixedWidth: 1,
  encode: (b) => (b ? 'T' : 'F'),
  decode: (bin) => bin === 'T',
  parse(text) {
    const t = text.trim().toLowerCase();
    if (['true', 't', '1', 'yes'].includes(t)) return true;
    if (['false', 'f', '0', 'no'].includes(t)) return false;
    throw new KeyParseError(`invalid bool ${JSON.stringify(text)}`);
  },
  format: (b) => String(b),
};

const bytes: KeyType<Uint8Array> = {
  name: 'bytes',
  fixedWidth: undefined,
  encode: bytesToBinary,
  decode: binaryToBytes,
  parse(text) {
    const hex = text.trim().replace(/^0x/i, '');
    if (!/^([0-9a-fA-F]{2})*$/.test(hex)) throw new KeyParseError(`invalid hex bytes ${JSON.stringify(text)}`);
    return new Uint8Array(Buffer.from(hex, 'hex'));
  },
  format: (b) => binaryToHex(bytesToBinary(b)),
};

/** An IP address given as text ("10.0.0.1", "fd00::1") or as 4 or 16 bytes. */
export type IPAddressInput = string | Uint8Array;

const ip: KeyType<IPAddressInput> = {
  name: 'ip',
  fixedWidth: 16,
  encode: (a) => (typeof a === 'string' ? parseAddress(a) : addressFromBytes(a)),
  decode: formatAddress,
  parse: (text) => {
    parseAddress(text.trim());
    return text.trim();
  },
  format: (a) => formatAddress(typeof a === 'string' ? parseAddress(a) : addressFromBytes(a)),
};

const prefix: KeyType<string> = {
  name: 'prefix',
  fixedWidth: 17,
  // The masked 16-byte address, then one byte of prefix length (IPv4 shifted by 96).
  encode(text) {
    const p = parsePrefix(text);
    return p.address + String.fromCharCode(p.bits);
  },
  decode: (bin) => formatPrefix({ address: bin.slice(0, 16), bits: bin.charCodeAt(16) }),
  parse(text) {
    parsePrefix(text.trim());
    return text.trim();
  },
  format: (text) => formatPrefix(parsePrefix(text)),
};

type KeysOf<T extends readonly KeyType<unknown>[]> = { [I in keyof T]: T[I] extends KeyType<infer K> ? K : never };

/**
 * A composite key: components in order, each kept exact. Fixed-width
 * components are written as they are; variable-width ones are escaped and
 * 0x00-terminated, so ("a", 2) < ("ab", 1) and ("a") never matches ("ab").
 * Text form: components joined by "," (a component holding "," cannot be
 * parsed from text).
 */
function tuple<const T extends readonly KeyType<unknown>[]>(...parts: T): KeyType<KeysOf<T>> {
  const width = parts.every((p) => p.fixedWidth !== undefined)
    ? parts.reduce((sum, p) => sum + p.fixedWidth!, 0)
    : undefined;
  return {
    name: `tuple(${parts.map((p) => p.name).join(',')})`,
    fixedWidth: width,
    encode(values) {
      if (!Array.isArray(values) || values.length !== parts.length) {
        throw new TypeError(`tuple key needs ${parts.length} components`);
      }
      let out = '';
      for (let i = 0; i < parts.length; i++) {
        const p = parts[i]!;
        const enc = p.encode(values[i]);
        out += p.fixedWidth === undefined ? `${escapeComponent(enc)}\0` : enc;
      }
      return out;
    },
    decode(bin) {
      const out: unknown[] = [];
      let at = 0;
      for (const p of parts) {
        if (p.fixedWidth !== undefined) {
          out.push(p.decode(bin.slice(at, at + p.fixedWidth)));
          at += p.fixedWidth;
        } else {
          const { value, next } = unescapeComponent(bin, at);
          out.push(p.decode(value));
          at = next;
        }
      }
      return out as KeysOf<T>;
    },
    parse(text) {
      const fields = text.split(',');
      if (fields.length !== parts.length) {
        throw new KeyParseError(`invalid ${this.name} ${JSON.stringify(text)}: expected ${parts.length} fields`);
      }
      return parts.map((p, i) => p.parse(fields[i]!)) as KeysOf<T>;
    },
    format: (values) => parts.map((p, i) => p.format(values[i])).join(','),
  };
}

/** The built-in key types. */
export const Keys = {
  u8: uint('u8', 1),
  u16: uint('u16', 2),
  u32: uint('u32', 4),
  u64,
  i8: sint('i8', 1),
  i16: sint('i16', 2),
  i32: sint('i32', 4),
  i64,
  string,
  bool,
  bytes,
  ip,
  prefix,
  tuple,
} as const;
