// A few eBPF instructions, enough for feature probes and small test programs.
// Each instruction is 8 bytes: opcode, dst:4|src:4, off (s16), imm (s32).

export type Insn = Buffer;

export function insn(code: number, dst: number, src: number, off: number, imm: number): Insn {
  const b = Buffer.alloc(8);
  b[0] = code;
  b[1] = ((src & 0xf) << 4) | (dst & 0xf);
  b.writeInt16LE(off, 2);
  b.writeInt32LE(imm, 4);
  return b;
}

/** r[dst] = imm (64-bit move). */
export const movImm = (dst: number, imm: number): Insn => insn(0xb7, dst, 0, 0, imm);
/** return r0. */
export const exit = (): Insn => insn(0x95, 0, 0, 0, 0);
/** r[dst] = map (ld_imm64 with BPF_PSEUDO_MAP_FD), two instruction slots. */
export const ldMapFd = (dst: number, fd: number): Insn => Buffer.concat([insn(0x18, dst, 1, 0, fd), insn(0, 0, 0, 0, 0)]);
/** call helper id. */
export const call = (helper: number): Insn => insn(0x85, 0, 0, 0, helper);

/** A program that returns `value`: `r0 = value; exit`. */
export function returnProgram(value: number): Buffer {
  return Buffer.concat([movImm(0, value), exit()]);
}
