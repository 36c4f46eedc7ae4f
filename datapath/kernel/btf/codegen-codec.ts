// The straight-line bodies of generated encode/decode functions.
//
// Scalars go through a DataView cached on the Buffer (about 15x cheaper than Buffer's
// read/write methods) with an inline range check that throws RangeError naming the
// field. Every byte of the record is written exactly as needed: fields that share
// bytes (union members, bitfields) are grouped, a group with more than one writer is
// zeroed first, an optional field left out is zeroed, and padding holes are zeroed,
// so keys compare equal in the kernel without a fill of the whole record.
import type { ObjectModel, RecordField, RecordModel, ScalarKind, TypeShape } from './object-model.js';

const SET: Record<ScalarKind, string> = {
  u8: 'setUint8', s8: 'setInt8', u16: 'setUint16', s16: 'setInt16', be16: 'setUint16', u32: 'setUint32', s32: 'setInt32',
  be32: 'setUint32', u64: 'setBigUint64', s64: 'setBigInt64', be64: 'setBigUint64', bool: 'setUint8', f32: 'setFloat32', f64: 'setFloat64',
};
const CHECK: Partial<Record<ScalarKind, string>> = {
  u8: 'checkU8', s8: 'checkS8', u16: 'checkU16', s16: 'checkS16', be16: 'checkU16', u32: 'checkU32', s32: 'checkS32',
  be32: 'checkU32', u64: 'checkU64', s64: 'checkS64', be64: 'checkU64', f32: 'checkNumber', f64: 'checkNumber',
};

/** Runtime helpers the generated code may use (imported from the kernel layer when used). */
export const CODEC_RUNTIME = [
  'arrayCodec', 'bytesCodec', 'checkLength', 'checkNumber', 'checkS16', 'checkS32', 'checkS64', 'checkS8', 'checkU16',
  'checkU32', 'checkU64', 'checkU8', 'dataView', 'readBits', 'readBytes', 'scalarCodecs', 'writeBits', 'writeBytes', 'zeroBytes',
];

/** Endianness argument for a DataView call: host order is little-endian (x86-64). */
function endian(kind: ScalarKind): string {
  if (kind === 'u8' || kind === 's8' || kind === 'bool') return '';
  return kind.startsWith('be') ? ', false' : ', true';
}

function isByteArray(shape: TypeShape): boolean {
  return shape.kind === 'array' && shape.element.kind === 'scalar' && (shape.element.scalar === 'u8' || shape.element.scalar === 's8');
}

interface Group {
  start: number;
  end: number;
  fields: RecordField[];
}

/** Fields that share bytes, merged transitively; fields keep declaration order. */
function byteGroups(r: RecordModel): Group[] {
  let groups: Group[] = [];
  for (const f of r.fields) {
    const mine: Group = { start: f.offset, end: f.offset + f.size, fields: [f] };
    const rest: Group[] = [];
    for (const g of groups) {
      if (g.start < mine.end && mine.start < g.end) {
        mine.start = Math.min(mine.start, g.start);
        mine.end = Math.max(mine.end, g.end);
        mine.fields = [...g.fields, ...mine.fields];
      } else rest.push(g);
    }
    groups = [...rest, mine];
  }
  const order = new Map(r.fields.map((f, i) => [f, i]));
  for (const g of groups) g.fields.sort((a, b) => order.get(a)! - order.get(b)!);
  return groups.sort((a, b) => a.start - b.start);
}

/** Straight-line zeroing of [start, start + length). */
function zeroStmts(start: number, length: number): string[] {
  if (length > 32) return [`zeroBytes(buf, o + ${start}, ${length});`];
  const out: string[] = [];
  for (let at = start, left = length; left > 0; ) {
    const step = left >= 4 ? 4 : left >= 2 ? 2 : 1;
    out.push(`d.setUint${step * 8}(o + ${at}, 0);`);
    at += step;
    left -= step;
  }
  return out;
}

function writeField(f: RecordField, field: string, model: ObjectModel, temp: { n: number }): string[] {
  if (f.bitfield) {
    const shift = f.bitfield.bitOffset - f.offset * 8;
    return [`writeBits(buf, o + ${f.offset}, ${f.size}, ${shift}, ${f.bitfield.bits}, v.${f.tsName}, '${field}');`];
  }
  return encodeStmts(f.shape, `v.${f.tsName}`, `o + ${f.offset}`, field, model, temp, 0);
}

export function encodeBody(r: RecordModel, model: ObjectModel): string[] {
  const out: string[] = [];
  const temp = { n: 0 };
  let cursor = 0;
  for (const g of byteGroups(r)) {
    if (g.start > cursor) out.push(...zeroStmts(cursor, g.start - cursor));
    cursor = g.end;
    const only = g.fields.length === 1 ? g.fields[0]! : undefined;
    if (only && !only.bitfield) {
      const write = writeField(only, `${r.key}.${only.cName}`, model, temp);
      if (!only.optional) out.push(...write);
      else out.push(`if (v.${only.tsName} !== undefined) {`, ...write.map((s) => `  ${s}`), '} else {', ...zeroStmts(g.start, g.end - g.start).map((s) => `  ${s}`), '}');
      continue;
    }
    out.push(...zeroStmts(g.start, g.end - g.start)); // shared bytes: zero, then each writer in declaration order
    for (const f of g.fields) {
      const write = writeField(f, `${r.key}.${f.cName}`, model, temp);
      if (f.optional) out.push(`if (v.${f.tsName} !== undefined) {`, ...write.map((s) => `  ${s}`), '}');
      else out.push(...write);
    }
  }
  if (cursor < r.size) out.push(...zeroStmts(cursor, r.size - cursor));
  return usesDataView(out) ? ['const d = dataView(buf);', ...out] : out;
}

export function decodeBody(r: RecordModel, model: ObjectModel): string[] {
  const pre: string[] = [];
  const props: string[] = [];
  const temp = { n: 0 };
  for (const f of r.fields) {
    const expr = f.bitfield
      ? `readBits(buf, o + ${f.offset}, ${f.size}, ${f.bitfield.bitOffset - f.offset * 8}, ${f.bitfield.bits})`
      : decodeExpr(f.shape, `o + ${f.offset}`, model, temp, 0, pre);
    props.push(`${f.tsName}: ${expr}`);
  }
  const out = [...pre, `return { ${props.join(', ')} };`];
  return usesDataView(out) ? ['const d = dataView(buf);', ...out] : out;
}

function usesDataView(lines: string[]): boolean {
  return lines.some((l) => /\bd\.(get|set)/.test(l));
}

function encodeStmts(shape: TypeShape, value: string, off: string, field: string, model: ObjectModel, temp: { n: number }, depth: number): string[] {
  switch (shape.kind) {
    case 'scalar': {
      const kind = shape.scalar;
      if (kind === 'bool') return [`d.setUint8(${off}, ${value} ? 1 : 0);`];
      return [`d.${SET[kind]}(${off}, ${CHECK[kind]}(${value}, '${field}')${endian(kind)});`];
    }
    case 'bytes':
      return [`writeBytes(buf, ${off}, ${value}, ${shape.length}, '${field}');`];
    case 'record':
      return [`${model.records.get(shape.record)!.tsName}Codec.encode(${value}, buf, ${off});`];
    case 'array': {
      if (isByteArray(shape)) return [`writeBytes(buf, ${off}, ${value}, ${shape.length}, '${field}');`];
      const a = `a${temp.n++}`;
      const i = `i${depth}`;
      const inner = encodeStmts(shape.element, `${a}[${i}]!`, `${off} + ${i} * ${shape.elementSize}`, field, model, temp, depth + 1);
      return [`const ${a} = ${value};`, `checkLength(${a}, ${shape.length}, '${field}');`, `for (let ${i} = 0; ${i} < ${shape.length}; ${i}++) { ${inner.join(' ')} }`].map((s, n) =>
        n === 0 ? `{ ${s}` : n === 2 ? `  ${s} }` : `  ${s}`,
      );
    }
  }
}

function decodeExpr(shape: TypeShape, off: string, model: ObjectModel, temp: { n: number }, depth: number, pre: string[]): string {
  switch (shape.kind) {
    case 'scalar': {
      const kind = shape.scalar;
      if (kind === 'bool') return `d.getUint8(${off}) !== 0`;
      return `d.${SET[kind].replace('set', 'get')}(${off}${endian(kind)})`;
    }
    case 'bytes':
      return `readBytes(buf, ${off}, ${shape.length})`;
    case 'record':
      return `${model.records.get(shape.record)!.tsName}Codec.decode(buf, ${off})`;
    case 'array': {
      if (isByteArray(shape)) return `readBytes(buf, ${off}, ${shape.length})`;
      const t = `t${temp.n++}`;
      const i = `i${depth}`;
      const innerPre: string[] = [];
      const inner = decodeExpr(shape.element, `${off} + ${i} * ${shape.elementSize}`, model, temp, depth + 1, innerPre);
      pre.push(`const ${t} = new Array<${tsElementType(shape.element, model)}>(${shape.length});`, `for (let ${i} = 0; ${i} < ${shape.length}; ${i}++) { ${[...innerPre, `${t}[${i}] = ${inner};`].join(' ')} }`);
      return t;
    }
  }
}

/** TypeScript type of a shape (shared with the interface emitter). */
export function tsElementType(shape: TypeShape, model: ObjectModel): string {
  switch (shape.kind) {
    case 'scalar':
      return /64$/.test(shape.scalar) && shape.scalar !== 'f64' ? 'bigint' : shape.scalar === 'bool' ? 'boolean' : 'number';
    case 'bytes':
      return 'Uint8Array';
    case 'record':
      return model.records.get(shape.record)!.tsName;
    case 'array': {
      if (isByteArray(shape)) return 'Uint8Array';
      const inner = tsElementType(shape.element, model);
      return `readonly ${inner.startsWith('readonly ') ? `(${inner})` : inner}[]`;
    }
  }
}

export { isByteArray };
