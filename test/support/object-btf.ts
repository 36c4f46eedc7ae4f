// The BTF of the compiled datapath object, for tests that check TypeScript
// mirrors (reasons, event layout) against what clang actually emitted.
import { readFileSync } from 'node:fs';
import { DEFAULT_OBJECT_PATH, parseBtf } from '../../datapath/index.js';

type BtfTypes = ReturnType<typeof parseBtf>;

/** The bytes of an ELF64 little-endian section, by name. */
function elfSection(file: Buffer, name: string): Buffer {
  const shoff = Number(file.readBigUInt64LE(0x28));
  const shentsize = file.readUInt16LE(0x3a);
  const shnum = file.readUInt16LE(0x3c);
  const shstrndx = file.readUInt16LE(0x3e);
  const header = (i: number) => shoff + i * shentsize;
  const strOff = Number(file.readBigUInt64LE(header(shstrndx) + 0x18));
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const nameOff = strOff + file.readUInt32LE(h);
    const secName = file.toString('latin1', nameOff, file.indexOf(0, nameOff));
    if (secName === name) {
      const off = Number(file.readBigUInt64LE(h + 0x18));
      return file.subarray(off, off + Number(file.readBigUInt64LE(h + 0x20)));
    }
  }
  throw new Error(`section ${name} not found`);
}

export function objectBtf(path = DEFAULT_OBJECT_PATH): BtfTypes {
  return parseBtf(elfSection(readFileSync(path), '.BTF'), path);
}

/** Members of a named struct: name -> [byte offset, byte size]. */
export function structMembers(types: BtfTypes, name: string): Map<string, [number, number]> {
  const byId = new Map(types.map((t) => [t.id, t]));
  const struct = types.find((t) => t.name === name && t.members);
  if (!struct?.members) throw new Error(`struct ${name} not in BTF`);
  const sizeOf = (id: number): number => {
    let t = byId.get(id);
    while (t && t.sizeOrType !== undefined && !t.members && !t.int && !t.array && t.kind !== 6) t = byId.get(t.sizeOrType);
    if (!t) return 0;
    if (t.array) return t.array.length * sizeOf(t.array.type);
    return t.sizeOrType;
  };
  return new Map(struct.members.map((m) => [m.name, [m.bitOffset / 8, sizeOf(m.type)]]));
}

/** Values of a named enum. */
export function enumValues(types: BtfTypes, name: string): Map<string, number> {
  const e = types.find((t) => t.name === name && t.values);
  if (!e?.values) throw new Error(`enum ${name} not in BTF`);
  return new Map(e.values.map((v) => [v.name, Number(v.value)]));
}
