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

const VIEW = Symbol('flagella.dataView');
const MAX_U64 = 0xffffffffffffffffn;
const MIN_S64 = -0x8000000000000000n;
const MAX_S64 = 0x7fffffffffffffffn;

/**
 * A DataView over buf, created once per Buffer and cached on it: DataView access is
 * about 15x cheaper than Buffer's read/write methods, and long-lived buffers (map
 * scratch and batch buffers) pay for the view once.
 */
export function dataView(buf: Uint8Array): DataView {
  const cached = (buf as Uint8Array & { [VIEW]?: DataView })[VIEW];
  if (cached !== undefined) return cached;
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  Object.defineProperty(buf, VIEW, { value: view });
  return view;
}

function outOfRange(value: unknown, field: string, kind: string): never {
  throw new RangeError(`${field}: ${typeof value === 'bigint' ? `${value}n` : String(value)} is not a valid ${kind}`);
}

// Range checks used by the generated codecs: each returns the value or throws a
// RangeError naming the field (a missing field is `undefined` and fails too).
export const checkU8 = (v: number, field: string): number => ((v & 0xff) === v ? v : outOfRange(v, field, 'u8'));
export const checkS8 = (v: number, field: string): number => (((v << 24) >> 24) === v ? v : outOfRange(v, field, 's8'));
export const checkU16 = (v: number, field: string): number => ((v & 0xffff) === v ? v : outOfRange(v, field, 'u16'));
export const checkS16 = (v: number, field: string): number => (((v << 16) >> 16) === v ? v : outOfRange(v, field, 's16'));
export const checkU32 = (v: number, field: string): number => (v >>> 0 === v ? v : outOfRange(v, field, 'u32'));
export const checkS32 = (v: number, field: string): number => ((v | 0) === v ? v : outOfRange(v, field, 's32'));
export const checkU64 = (v: bigint, field: string): bigint =>
  typeof v === 'bigint' && v >= 0n && v <= MAX_U64 ? v : outOfRange(v, field, 'u64 (a bigint)');
export const checkS64 = (v: bigint, field: string): bigint =>
  typeof v === 'bigint' && v >= MIN_S64 && v <= MAX_S64 ? v : outOfRange(v, field, 's64 (a bigint)');
export const checkNumber = (v: number, field: string): number => (typeof v === 'number' ? v : outOfRange(v, field, 'number'));

/** Zeroes length bytes at offset (for holes too large to zero inline). */
export function zeroBytes(buf: Uint8Array, offset: number, length: number): void {
  buf.fill(0, offset, offset + length);
}

function scalar<T>(name: string, size: number, encode: (d: DataView, v: T, o: number) => void, decode: (d: DataView, o: number) => T): Codec<T> {
  return {
    name,
    size,
    encode: (v, b, o = 0) => encode(dataView(b), v, o),
    decode: (b, o = 0) => decode(dataView(b), o),
  };
}

export const u8 = scalar<number>('__u8', 1, (d, v, o) => d.setUint8(o, checkU8(v, '__u8')), (d, o) => d.getUint8(o));
export const s8 = scalar<number>('__s8', 1, (d, v, o) => d.setInt8(o, checkS8(v, '__s8')), (d, o) => d.getInt8(o));
export const u16 = scalar<number>('__u16', 2, (d, v, o) => d.setUint16(o, checkU16(v, '__u16'), true), (d, o) => d.getUint16(o, true));
export const s16 = scalar<number>('__s16', 2, (d, v, o) => d.setInt16(o, checkS16(v, '__s16'), true), (d, o) => d.getInt16(o, true));
export const be16 = scalar<number>('__be16', 2, (d, v, o) => d.setUint16(o, checkU16(v, '__be16')), (d, o) => d.getUint16(o));
export const u32 = scalar<number>('__u32', 4, (d, v, o) => d.setUint32(o, checkU32(v, '__u32'), true), (d, o) => d.getUint32(o, true));
export const s32 = scalar<number>('__s32', 4, (d, v, o) => d.setInt32(o, checkS32(v, '__s32'), true), (d, o) => d.getInt32(o, true));
export const be32 = scalar<number>('__be32', 4, (d, v, o) => d.setUint32(o, checkU32(v, '__be32')), (d, o) => d.getUint32(o));
export const u64 = scalar<bigint>('__u64', 8, (d, v, o) => d.setBigUint64(o, checkU64(v, '__u64'), true), (d, o) => d.getBigUint64(o, true));
export const s64 = scalar<bigint>('__s64', 8, (d, v, o) => d.setBigInt64(o, checkS64(v, '__s64'), true), (d, o) => d.getBigInt64(o, true));
export const be64 = scalar<bigint>('__be64', 8, (d, v, o) => d.setBigUint64(o, checkU64(v, '__be64')), (d, o) => d.getBigUint64(o));
export const bool = scalar<boolean>('_Bool', 1, (d, v, o) => d.setUint8(o, v ? 1 : 0), (d, o) => d.getUint8(o) !== 0);
export const f32 = scalar<number>('float', 4, (d, v, o) => d.setFloat32(o, checkNumber(v, 'float'), true), (d, o) => d.getFloat32(o, true));
export const f64 = scalar<number>('double', 8, (d, v, o) => d.setFloat64(o, checkNumber(v, 'double'), true), (d, o) => d.getFloat64(o, true));

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
