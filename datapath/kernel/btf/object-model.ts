// From an object's BTF to a model of its maps and of every struct reachable from a map
// key or value: offsets, sizes, byte order, bitfields, nesting. The generator turns the
// model into TypeScript; verifyLayouts compares the plain LayoutSet derived from it.
import { readFileSync } from 'node:fs';
import { mapTypeName } from '../bpf-constants.js';
import { BtfKind, parseBtf, type BtfMember, type BtfType } from './btf-reader.js';
import { elfSection } from './elf.js';
import type { FieldLayout, LayoutSet, MapLayout, StructLayout } from './layout-types.js';

export class LayoutError extends Error {
  override readonly name = 'LayoutError';
}

export type ScalarKind = 'u8' | 'u16' | 'u32' | 'u64' | 's8' | 's16' | 's32' | 's64' | 'be16' | 'be32' | 'be64' | 'bool' | 'f32' | 'f64';

export type TypeShape =
  | { kind: 'scalar'; scalar: ScalarKind }
  | { kind: 'array'; element: TypeShape; length: number; elementSize: number }
  | { kind: 'record'; record: string }
  | { kind: 'bytes'; length: number };

export interface RecordField {
  cName: string;
  tsName: string;
  /** Byte offset in the record (of the containing bytes, for bitfields). */
  offset: number;
  size: number;
  cType: string;
  shape: TypeShape;
  /** Absolute bit offset in the record and width. */
  bitfield?: { bitOffset: number; bits: number };
  /** Union members and padding: may be left out when encoding. */
  optional: boolean;
}

export interface RecordModel {
  key: string;
  cName: string;
  tsName: string;
  kind: 'struct' | 'union';
  size: number;
  fields: RecordField[];
}

export interface MapModel {
  name: string;
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  pinning: 'none' | 'by-name';
  key: TypeShape;
  value: TypeShape;
  keyCType: string;
  valueCType: string;
  inner?: MapModel;
}

export interface ObjectModel {
  records: Map<string, RecordModel>;
  maps: MapModel[];
}

const PAD_NAME = /^_*(pad|padding|reserved|unused)\d*$/;
const BIG_ENDIAN: Record<string, ScalarKind> = { __be16: 'be16', __be32: 'be32', __be64: 'be64' };
const MAP_DEF_SCALARS = ['type', 'max_entries', 'map_flags', 'key_size', 'value_size', 'pinning', 'numa_node', 'map_extra'];

/** Reads the .BTF section of an object file and builds its model. Throws LayoutError. */
export function modelFromObject(path: string): ObjectModel {
  const btf = elfSection(readFileSync(path), '.BTF', path);
  if (!btf) throw new LayoutError(`${path} has no .BTF section: compile the datapath with clang -g`);
  return new ModelBuilder(parseBtf(btf, path), path).build();
}

/** The plain layouts of an object (what verifyLayouts compares). */
export function layoutsFromObject(path: string): LayoutSet {
  return layoutSetOf(modelFromObject(path));
}

export function layoutSetOf(model: ObjectModel): LayoutSet {
  const structs: Record<string, StructLayout> = {};
  for (const r of model.records.values()) {
    structs[r.key] = {
      name: r.key,
      kind: r.kind,
      size: r.size,
      fields: r.fields.map((f) => {
        const field: FieldLayout = { name: f.cName, offset: f.offset, size: f.size, type: f.cType };
        if (f.bitfield) {
          field.bitOffset = f.bitfield.bitOffset;
          field.bitSize = f.bitfield.bits;
        }
        return field;
      }),
    };
  }
  const maps: Record<string, MapLayout> = {};
  for (const m of model.maps) maps[m.name] = mapLayoutOf(m);
  return { structs, maps };
}

function mapLayoutOf(m: MapModel): MapLayout {
  const layout: MapLayout = {
    name: m.name,
    type: mapTypeName(m.type),
    keySize: m.keySize,
    valueSize: m.valueSize,
    maxEntries: m.maxEntries,
    flags: m.flags,
    pinning: m.pinning,
    keyType: m.keyCType,
    valueType: m.valueCType,
  };
  if (m.inner) layout.inner = mapLayoutOf(m.inner);
  return layout;
}

/** `lb4_key` → `Lb4Key`; a trailing `_t` of typedef names is dropped. */
export function pascalCase(name: string): string {
  return name
    .replace(/_t$/, '')
    .split(/[^A-Za-z0-9]+/)
    .filter(Boolean)
    .map((p) => p[0]!.toUpperCase() + p.slice(1))
    .join('');
}

/** `backend_slot` → `backendSlot`; leading underscores are dropped. */
export function camelCase(name: string): string {
  const pascal = pascalCase(name.replace(/^_+/, ''));
  return pascal ? pascal[0]!.toLowerCase() + pascal.slice(1) : name;
}

class ModelBuilder {
  private readonly records = new Map<string, RecordModel>();
  private readonly recordByTypeId = new Map<number, string>();

  constructor(
    private readonly types: BtfType[],
    private readonly source: string,
  ) {}

  build(): ObjectModel {
    const maps: MapModel[] = [];
    const sec = this.types.find((t) => t.kind === BtfKind.DATASEC && t.name === '.maps');
    for (const v of sec?.vars ?? []) {
      const variable = this.type(v.type);
      maps.push(this.mapDef(variable.name, variable.sizeOrType));
    }
    return { records: this.records, maps };
  }

  private type(id: number): BtfType {
    const t = this.types[id];
    if (!t) throw new LayoutError(`${this.source}: BTF type id ${id} out of range`);
    return t;
  }

  /** Skips typedef/const/volatile/restrict/type tags, remembering typedef names (outermost first). */
  private strip(id: number): { t: BtfType; typedefs: string[] } {
    const typedefs: string[] = [];
    let t = this.type(id);
    for (let hops = 0; hops < 64; hops++) {
      if (t.kind === BtfKind.TYPEDEF) typedefs.push(t.name);
      else if (t.kind !== BtfKind.CONST && t.kind !== BtfKind.VOLATILE && t.kind !== BtfKind.RESTRICT && t.kind !== BtfKind.TYPE_TAG) {
        return { t, typedefs };
      }
      t = this.type(t.sizeOrType);
    }
    throw new LayoutError(`${this.source}: typedef chain too long at type ${id}`);
  }

  private sizeOf(id: number): number {
    const { t } = this.strip(id);
    if (t.kind === BtfKind.ARRAY) return t.array!.length * this.sizeOf(t.array!.type);
    if (t.kind === BtfKind.PTR) return 8;
    return t.sizeOrType;
  }

  private mapDef(name: string, defId: number): MapModel {
    const def = this.strip(defId).t;
    if (def.kind !== BtfKind.STRUCT) throw new LayoutError(`${this.source}: map ${name} is not a BTF map definition`);
    const scalars: Record<string, number> = {};
    let key: { id: number } | undefined;
    let value: { id: number } | undefined;
    let inner: MapModel | undefined;
    for (const m of def.members ?? []) {
      const t = this.strip(m.type).t;
      if (MAP_DEF_SCALARS.includes(m.name) && t.kind === BtfKind.PTR) {
        const arr = this.strip(t.sizeOrType).t;
        scalars[m.name] = arr.array?.length ?? 0;
      } else if ((m.name === 'key' || m.name === 'value') && t.kind === BtfKind.PTR) {
        if (m.name === 'key') key = { id: t.sizeOrType };
        else value = { id: t.sizeOrType };
      } else if (m.name === 'values' && t.kind === BtfKind.ARRAY) {
        const ptr = this.strip(t.array!.type).t;
        if (ptr.kind === BtfKind.PTR) inner = this.mapDef(`${name}.inner`, ptr.sizeOrType);
      }
    }
    const keySide = this.mapSide(name, 'key', key?.id, scalars.key_size);
    const valueSide = inner
      ? { shape: { kind: 'scalar', scalar: 'u32' } as TypeShape, size: 4, cType: '__u32' }
      : this.mapSide(name, 'value', value?.id, scalars.value_size);
    return {
      name,
      type: scalars.type ?? 0,
      keySize: keySide.size,
      valueSize: valueSide.size,
      maxEntries: scalars.max_entries ?? 0,
      flags: scalars.map_flags ?? 0,
      pinning: scalars.pinning === 1 ? 'by-name' : 'none',
      key: keySide.shape,
      value: valueSide.shape,
      keyCType: keySide.cType,
      valueCType: valueSide.cType,
      ...(inner ? { inner } : {}),
    };
  }

  private mapSide(map: string, side: string, typeId: number | undefined, size: number | undefined): { shape: TypeShape; size: number; cType: string } {
    if (typeId !== undefined) {
      const { shape, cType } = this.shapeOf(typeId, `${map}.${side}`);
      return { shape, size: this.sizeOf(typeId), cType };
    }
    const length = size ?? 0;
    return { shape: { kind: 'bytes', length }, size: length, cType: `bytes[${length}]` };
  }

  /** The codec shape and C type text of a type; records are registered as a side effect. */
  private shapeOf(id: number, where: string): { shape: TypeShape; cType: string } {
    const { t, typedefs } = this.strip(id);
    const named = typedefs[0];
    switch (t.kind) {
      case BtfKind.INT:
      case BtfKind.ENUM:
      case BtfKind.ENUM64:
      case BtfKind.FLOAT:
        return { shape: { kind: 'scalar', scalar: this.scalarOf(t, typedefs, where) }, cType: named ?? t.name };
      case BtfKind.ARRAY: {
        const element = this.shapeOf(t.array!.type, where);
        const elementSize = this.sizeOf(t.array!.type);
        return {
          shape: { kind: 'array', element: element.shape, length: t.array!.length, elementSize },
          cType: named ?? `${element.cType}[${t.array!.length}]`,
        };
      }
      case BtfKind.STRUCT:
      case BtfKind.UNION: {
        const key = this.record(t, named ?? (t.name || where));
        const tag = t.kind === BtfKind.STRUCT ? 'struct' : 'union';
        return { shape: { kind: 'record', record: key }, cType: named ?? (t.name ? `${tag} ${t.name}` : `${tag} ${key}`) };
      }
      default:
        throw new LayoutError(`${this.source}: ${where} has BTF kind ${t.kind} (pointer, function or forward declaration), which cannot cross the user/kernel boundary`);
    }
  }

  private scalarOf(t: BtfType, typedefs: string[], where: string): ScalarKind {
    const be = typedefs.map((n) => BIG_ENDIAN[n]).find(Boolean);
    if (be) {
      if (BIG_ENDIAN[`__be${t.sizeOrType * 8}`] !== be) throw new LayoutError(`${this.source}: ${where}: ${typedefs[0]} over a ${t.sizeOrType}-byte type`);
      return be;
    }
    if (t.kind === BtfKind.FLOAT) {
      if (t.sizeOrType === 4) return 'f32';
      if (t.sizeOrType === 8) return 'f64';
      throw new LayoutError(`${this.source}: ${where}: ${t.sizeOrType}-byte float is not supported`);
    }
    const signed = t.kind === BtfKind.INT ? (t.int!.encoding & 1) === 1 : t.kindFlag;
    if (t.kind === BtfKind.INT && (t.int!.encoding & 4) !== 0) return 'bool';
    switch (t.sizeOrType) {
      case 1:
        return signed ? 's8' : 'u8';
      case 2:
        return signed ? 's16' : 'u16';
      case 4:
        return signed ? 's32' : 'u32';
      case 8:
        return signed ? 's64' : 'u64';
      default:
        throw new LayoutError(`${this.source}: ${where}: ${t.sizeOrType}-byte integers are not supported`);
    }
  }

  /** Registers (once) the record for a struct/union type and returns its key. */
  private record(t: BtfType, key: string): string {
    const known = this.recordByTypeId.get(t.id);
    if (known) return known;
    if (this.records.has(key)) throw new LayoutError(`${this.source}: two different types are both named ${key}`);
    this.recordByTypeId.set(t.id, key);
    const kind = t.kind === BtfKind.STRUCT ? 'struct' : 'union';
    const model: RecordModel = { key, cName: t.name ? `${kind} ${t.name}` : key, tsName: pascalCase(key), kind, size: t.sizeOrType, fields: [] };
    this.records.set(key, model);
    this.collectFields(model, t, 0, kind === 'union');
    this.checkNames(model);
    return key;
  }

  private collectFields(model: RecordModel, t: BtfType, baseBits: number, optional: boolean): void {
    for (const m of t.members ?? []) {
      const bitOffset = baseBits + m.bitOffset;
      const inner = this.strip(m.type).t;
      if (m.name === '' && (inner.kind === BtfKind.STRUCT || inner.kind === BtfKind.UNION)) {
        // Anonymous member: C code reads its fields as the parent's, and so do we.
        this.collectFields(model, inner, bitOffset, optional || inner.kind === BtfKind.UNION);
        continue;
      }
      model.fields.push(this.field(model, m, bitOffset, optional));
    }
  }

  private field(model: RecordModel, m: BtfMember, bitOffset: number, optional: boolean): RecordField {
    const where = `${model.key}.${m.name}`;
    const { t } = this.strip(m.type);
    let bitSize = m.bitSize;
    if (!bitSize && t.kind === BtfKind.INT && (t.int!.bits !== t.sizeOrType * 8 || t.int!.offset !== 0)) {
      bitSize = t.int!.bits; // old-style BTF bitfield, described by the int type
      bitOffset += t.int!.offset;
    }
    const { shape, cType } = this.shapeOf(m.type, `${model.key}.${m.name}`);
    const base = { cName: m.name, tsName: camelCase(m.name), cType, shape, optional: optional || PAD_NAME.test(m.name) };
    if (bitSize) return { ...base, ...this.bitfield(where, shape, bitOffset, bitSize) };
    if (bitOffset % 8 !== 0) throw new LayoutError(`${this.source}: ${where} is not byte-aligned`);
    return { ...base, offset: bitOffset / 8, size: this.sizeOf(m.type) };
  }

  private bitfield(where: string, shape: TypeShape, bitOffset: number, bits: number): Pick<RecordField, 'offset' | 'size' | 'bitfield'> {
    if (shape.kind !== 'scalar' || !/^u(8|16|32|64)$/.test(shape.scalar)) {
      throw new LayoutError(`${this.source}: bitfield ${where} must be an unsigned host-order integer (is ${shape.kind === 'scalar' ? shape.scalar : shape.kind})`);
    }
    const offset = Math.floor(bitOffset / 8);
    const size = Math.ceil(((bitOffset % 8) + bits) / 8);
    if (size > 6) throw new LayoutError(`${this.source}: bitfield ${where} spans ${size} bytes; at most 6 are supported`);
    return { offset, size, bitfield: { bitOffset, bits } };
  }

  private checkNames(model: RecordModel): void {
    const seen = new Map<string, string>();
    for (const f of model.fields) {
      const other = seen.get(f.tsName);
      if (other !== undefined) throw new LayoutError(`${this.source}: ${model.key}: members ${other} and ${f.cName} both map to TypeScript name ${f.tsName}`);
      seen.set(f.tsName, f.cName);
    }
  }
}
