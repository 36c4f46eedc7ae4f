// A reader for BTF (the BPF Type Format): raw BTF (/sys/kernel/btf/vmlinux) or the
// .BTF section of a BPF object. Types are returned as plain records indexed by id.

export const BtfKind = {
  UNKN: 0,
  INT: 1,
  PTR: 2,
  ARRAY: 3,
  STRUCT: 4,
  UNION: 5,
  ENUM: 6,
  FWD: 7,
  TYPEDEF: 8,
  VOLATILE: 9,
  CONST: 10,
  RESTRICT: 11,
  FUNC: 12,
  FUNC_PROTO: 13,
  VAR: 14,
  DATASEC: 15,
  FLOAT: 16,
  DECL_TAG: 17,
  TYPE_TAG: 18,
  ENUM64: 19,
} as const;

export interface BtfMember {
  name: string;
  type: number;
  /** Bit offset from the start of the struct. */
  bitOffset: number;
  /** Bitfield width, 0 for a regular member. */
  bitSize: number;
}

export interface BtfType {
  id: number;
  kind: number;
  name: string;
  /** size for INT/STRUCT/UNION/ENUM/FLOAT/DATASEC; referenced type for PTR/TYPEDEF/CONST/VAR/... */
  sizeOrType: number;
  kindFlag: boolean;
  /** INT: encoding bits (1 signed, 2 char, 4 bool), bit offset and width. */
  int?: { encoding: number; offset: number; bits: number };
  array?: { type: number; indexType: number; length: number };
  members?: BtfMember[];
  /** DATASEC: the variables it holds. */
  vars?: { type: number; offset: number; size: number }[];
  /** ENUM/ENUM64 values. */
  values?: { name: string; value: bigint }[];
}

export class BtfError extends Error {
  override readonly name = 'BtfError';
}

/** Parses BTF bytes. Throws BtfError on a bad magic or truncated data. */
export function parseBtf(data: Buffer, source = 'BTF'): BtfType[] {
  if (data.length < 24 || data.readUInt16LE(0) !== 0xeb9f) throw new BtfError(`${source}: not BTF (bad magic)`);
  const hdrLen = data.readUInt32LE(4);
  const typeOff = hdrLen + data.readUInt32LE(8);
  const typeLen = data.readUInt32LE(12);
  const strOff = hdrLen + data.readUInt32LE(16);
  const strLen = data.readUInt32LE(20);
  if (typeOff + typeLen > data.length || strOff + strLen > data.length) throw new BtfError(`${source}: truncated BTF`);
  const str = (off: number): string => {
    if (off === 0) return '';
    const start = strOff + off;
    return data.toString('latin1', start, data.indexOf(0, start));
  };
  const types: BtfType[] = [{ id: 0, kind: BtfKind.UNKN, name: 'void', sizeOrType: 0, kindFlag: false }];
  let p = typeOff;
  const end = typeOff + typeLen;
  while (p < end) {
    const info = data.readUInt32LE(p + 4);
    const t: BtfType = {
      id: types.length,
      kind: (info >>> 24) & 0x1f,
      name: str(data.readUInt32LE(p)),
      sizeOrType: data.readUInt32LE(p + 8),
      kindFlag: info >>> 31 === 1,
    };
    const vlen = info & 0xffff;
    p += 12;
    p = readExtra(data, p, t, vlen, str, source);
    types.push(t);
  }
  return types;
}

function readExtra(data: Buffer, p: number, t: BtfType, vlen: number, str: (o: number) => string, source: string): number {
  switch (t.kind) {
    case BtfKind.INT: {
      const v = data.readUInt32LE(p);
      t.int = { encoding: (v >>> 24) & 0x0f, offset: (v >>> 16) & 0xff, bits: v & 0xff };
      return p + 4;
    }
    case BtfKind.ARRAY:
      t.array = { type: data.readUInt32LE(p), indexType: data.readUInt32LE(p + 4), length: data.readUInt32LE(p + 8) };
      return p + 12;
    case BtfKind.STRUCT:
    case BtfKind.UNION:
      t.members = [];
      for (let i = 0; i < vlen; i++, p += 12) {
        const off = data.readUInt32LE(p + 8);
        t.members.push({
          name: str(data.readUInt32LE(p)),
          type: data.readUInt32LE(p + 4),
          bitOffset: t.kindFlag ? off & 0xffffff : off,
          bitSize: t.kindFlag ? off >>> 24 : 0,
        });
      }
      return p;
    case BtfKind.ENUM:
      t.values = [];
      for (let i = 0; i < vlen; i++, p += 8) t.values.push({ name: str(data.readUInt32LE(p)), value: BigInt(data.readInt32LE(p + 4)) });
      return p;
    case BtfKind.ENUM64:
      t.values = [];
      for (let i = 0; i < vlen; i++, p += 12) {
        const value = (BigInt(data.readUInt32LE(p + 8)) << 32n) | BigInt(data.readUInt32LE(p + 4));
        t.values.push({ name: str(data.readUInt32LE(p)), value });
      }
      return p;
    case BtfKind.FUNC_PROTO:
      return p + 8 * vlen;
    case BtfKind.VAR:
    case BtfKind.DECL_TAG:
      return p + 4;
    case BtfKind.DATASEC:
      t.vars = [];
      for (let i = 0; i < vlen; i++, p += 12) {
        t.vars.push({ type: data.readUInt32LE(p), offset: data.readUInt32LE(p + 4), size: data.readUInt32LE(p + 8) });
      }
      return p;
    case BtfKind.PTR:
    case BtfKind.FWD:
    case BtfKind.TYPEDEF:
    case BtfKind.VOLATILE:
    case BtfKind.CONST:
    case BtfKind.RESTRICT:
    case BtfKind.FUNC:
    case BtfKind.FLOAT:
    case BtfKind.TYPE_TAG:
      return p;
    default:
      throw new BtfError(`${source}: unknown BTF kind ${t.kind} (type ${t.id})`);
  }
}
