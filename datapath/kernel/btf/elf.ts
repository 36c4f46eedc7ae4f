// Just enough ELF64 (little-endian) to find a section by name in a BPF object.

export class ElfError extends Error {
  override readonly name = 'ElfError';
}

/** The bytes of section `name` (e.g. `.BTF`), or undefined when the object has none. */
export function elfSection(file: Buffer, name: string, path = 'object'): Buffer | undefined {
  if (file.length < 64 || file.readUInt32BE(0) !== 0x7f454c46) throw new ElfError(`${path} is not an ELF file`);
  if (file[4] !== 2 || file[5] !== 1) throw new ElfError(`${path} is not a little-endian ELF64 object`);
  const shoff = Number(file.readBigUInt64LE(0x28));
  const shentsize = file.readUInt16LE(0x3a);
  const shnum = file.readUInt16LE(0x3c);
  const shstrndx = file.readUInt16LE(0x3e);
  if (shoff + shnum * shentsize > file.length) throw new ElfError(`${path}: section headers run past the end of the file`);
  const header = (i: number): { name: number; offset: number; size: number } => {
    const base = shoff + i * shentsize;
    return {
      name: file.readUInt32LE(base),
      offset: Number(file.readBigUInt64LE(base + 0x18)),
      size: Number(file.readBigUInt64LE(base + 0x20)),
    };
  };
  const strtab = header(shstrndx);
  for (let i = 0; i < shnum; i++) {
    const h = header(i);
    const start = strtab.offset + h.name;
    const end = file.indexOf(0, start);
    if (file.toString('latin1', start, end) === name) {
      if (h.offset + h.size > file.length) throw new ElfError(`${path}: section ${name} runs past the end of the file`);
      return file.subarray(h.offset, h.offset + h.size);
    }
  }
  return undefined;
}
