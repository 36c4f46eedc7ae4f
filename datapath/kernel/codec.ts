// Codecs between plain objects and the bytes of map keys and values. The generated
// layouts (datapath/maps/layouts.generated.ts) emit one straight-line codec per struct;
// the scalar, bytes and array codecs here cover keys and values that are not structs,
// and the helpers keep the generated code short.
//
// Byte order: `be*` kinds are network order; everything else is host order, which is
// little-endian on the only supported architecture (x86-64).

export interface Codec<T> {
  /** C type this codec reads and writes, e.g. `struct lb4_key` or `__u32`. */
  readonly name: string;
  /** Bytes read and written. */
  readonly size: number;
  /**
   * Writes every byte of [offset, offset + size), padding included (zero), so keys
   * compare equal in the kernel. Throws RangeError on out-of-range numbers or wrong
   * array lengths.
   */
  encode(value: T, buf: Buffer, offset?: number): void;
  decode(buf: Buffer, offset?: number): T;
}

/** The value type a codec produces. */
export type CodecValue<C> = C extends Codec<infer T> ? T : never;

export const u8: Codec<number> = {
  name: '__u8',
  size: 1,
  encode: (v, b, o = 0) => void b.writeUInt8(v, o),
  decode: (b, o = 0) => b.readUInt8(o),
};
export const s8: Codec<number> = {
  name: '__s8',
  size: 1,
  encode: (v, b, o = 0) => void b.writeInt8(v, o),
  decode: (b, o = 0) => b.readInt8(o),
};
export const u16: Codec<number> = {
  name: '__u16',
  size: 2,
  encode: (v, b, o = 0) => void b.writeUInt16LE(v, o),
  decode: (b, o = 0) => b.readUInt16LE(o),
};
export const s16: Codec<number> = {
  name: '__s16',
  size: 2,
  encode: (v, b, o = 0) => void b.writeInt16LE(v, o),
  decode: (b, o = 0) => b.readInt16LE(o),
};
export const be16: Codec<number> = {
  name: '__be16',
  size: 2,
  encode: (v, b, o = 0) => void b.writeUInt16BE(v, o),
  decode: (b, o = 0) => b.readUInt16BE(o),
};
export const u32: Codec<number> = {
  name: '__u32',
  size: 4,
  encode: (v, b, o = 0) => void b.writeUInt32LE(v, o),
  decode: (b, o = 0) => b.readUInt32LE(o),
};
export const s32: Codec<number> = {
  name: '__s32',
  size: 4,
  encode: (v, b, o = 0) => void b.writeInt32LE(v, o),
  decode: (b, o = 0) => b.readInt32LE(o),
};
export const be32: Codec<number> = {
  name: '__be32',
  size: 4,
  encode: (v, b, o = 0) => void b.writeUInt32BE(v, o),
  decode: (b, o = 0) => b.readUInt32BE(o),
};
export const u64: Codec<bigint> = {
  name: '__u64',
  size: 8,
  encode: (v, b, o = 0) => void b.writeBigUInt64LE(v, o),
  decode: (b, o = 0) => b.readBigUInt64LE(o),
};
export const s64: Codec<bigint> = {
  name: '__s64',
  size: 8,
  encode: (v, b, o = 0) => void b.writeBigInt64LE(v, o),
  decode: (b, o = 0) => b.readBigInt64LE(o),
};
export const be64: Codec<bigint> = {
  name: '__be64',
  size: 8,
  encode: (v, b, o = 0) => void b.writeBigUInt64BE(v, o),
  decode: (b, o = 0) => b.readBigUInt64BE(o),
};
export const bool: Codec<boolean> = {
  name: '_Bool',
  size: 1,
  encode: (v, b, o = 0) => void b.writeUInt8(v ? 1 : 0, o),
  decode: (b, o = 0) => b.readUInt8(o) !== 0,
};
export const f32: Codec<number> = {
  name: 'float',
  size: 4,
  encode: (v, b, o = 0) => void b.writeFloatLE(v, o),
  decode: (b, o = 0) => b.readFloatLE(o),
};
export const f64: Codec<number> = {
  name: 'double',
  size: 8,
  encode: (v, b, o = 0) => void b.writeDoubleLE(v, o),
  decode: (b, o = 0) => b.readDoubleLE(o),
};

/** The scalar codecs by kind, as the generated layouts refer to them. */
export const scalarCodecs = { u8, s8, u16, s16, be16, u32, s32, be32, u64, s64, be64, bool, f32, f64 } as const;

/** Raw bytes of a fixed length (decode returns a copy). */
export function bytesCodec(length: number, name = `bytes[${length}]`): Codec<Uint8Array> {
  return {
    name,
    size: length,
    encode: (v, b, o = 0) => writeBytes(b, o, v, length, name),
    decode: (b, o = 0) => readBytes(b, o, length),
  };
}

/** A fixed-length array of elements (e.g. a Maglev row of backend ids). */
export function arrayCodec<T>(element: Codec<T>, length: number): Codec<T[]> {
  const name = `${element.name}[${length}]`;
  return {
    name,
    size: element.size * length,
    encode(v, b, o = 0) {
      checkLength(v, length, name);
      for (let i = 0; i < length; i++) element.encode(v[i]!, b, o + i * element.size);
    },
    decode(b, o = 0) {
      const out: T[] = new Array<T>(length);
      for (let i = 0; i < length; i++) out[i] = element.decode(b, o + i * element.size);
      return out;
    },
  };
}

/** Copies exactly `length` bytes of value into buf at offset. Throws RangeError on another length. */
export function writeBytes(buf: Buffer, offset: number, value: Uint8Array, length: number, field: string): void {
  if (value.length !== length) throw new RangeError(`${field}: expected ${length} bytes, got ${value.length}`);
  buf.set(value, offset);
}

/** A copy of `length` bytes at offset. */
export function readBytes(buf: Buffer, offset: number, length: number): Uint8Array {
  const out = new Uint8Array(length);
  out.set(buf.subarray(offset, offset + length));
  return out;
}

/** Throws RangeError unless the array has exactly `length` elements. */
export function checkLength(value: ArrayLike<unknown>, length: number, field: string): void {
  if (value.length !== length) throw new RangeError(`${field}: expected ${length} elements, got ${value.length}`);
}

/**
 * ORs a bitfield into zeroed bytes: `bits` wide at bit `shift` of the `width`-byte
 * little-endian word at offset (arithmetic, not 32-bit operators, so windows up to 48
 * bits work). Throws RangeError when value does not fit.
 */
export function writeBits(buf: Buffer, offset: number, width: number, shift: number, bits: number, value: number, field: string): void {
  const max = 2 ** bits - 1;
  if (!Number.isInteger(value) || value < 0 || value > max) {
    throw new RangeError(`${field}: ${value} does not fit a ${bits}-bit field (0..${max})`);
  }
  buf.writeUIntLE(buf.readUIntLE(offset, width) + value * 2 ** shift, offset, width);
}

/** Reads a bitfield written by writeBits. */
export function readBits(buf: Buffer, offset: number, width: number, shift: number, bits: number): number {
  return Math.floor(buf.readUIntLE(offset, width) / 2 ** shift) % 2 ** bits;
}
