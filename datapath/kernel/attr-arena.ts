// The process-lifetime memory every bpf(2) call goes through.
//
// One off-heap arena (koffi.alloc, never moved, never freed) holds `union bpf_attr`
// at offset 0, an info struct, a path buffer and id arrays, so their addresses are
// computed once. Everything runs synchronously on the calling thread: the arena is
// shared by all commands and each command zeroes the range it uses and passes its
// own size (the kernel rejects non-zero bytes past the fields a command knows).
import koffi from 'koffi';
import { libc, SYS_BPF } from './libc.js';

const ARENA_SIZE = 16384;
export const ATTR_OFFSET = 0;
export const ATTR_MAX = 256;
export const INFO_OFFSET = 256;
export const INFO_MAX = 512;
export const PATH_OFFSET = 4096;
export const PATH_MAX = 4096;
export const IDS_OFFSET = 8192;
export const IDS_MAX_COUNT = 1024; // two arrays of u32 ids: 8192..12288 and 12288..16384

const arenaPtr = koffi.alloc('uint8_t', ARENA_SIZE) as unknown;
const arenaMemory = koffi.view(arenaPtr, ARENA_SIZE);
/** Byte view of the arena (attr at 0). */
export const arena = Buffer.from(arenaMemory);
/** u32 view of the arena: attr field at byte offset o is arenaU32[o / 4]. */
export const arenaU32 = new Uint32Array(arenaMemory);
export const ARENA_ADDR = Number(koffi.address(arenaPtr));

const syscall = libc().syscall;

/**
 * Issues bpf(cmd) with the attr currently in the arena. Returns the non-negative
 * result, or -errno. Never throws; callers turn -errno into a BpfError.
 */
export function bpfSyscall(cmd: number, size: number): number {
  const ret = syscall(SYS_BPF, cmd, ARENA_ADDR, size);
  return ret < 0 ? -koffi.errno() : ret;
}

/** Zeroes attr bytes [0, size). */
export function zeroAttr(size: number): void {
  arena.fill(0, ATTR_OFFSET, ATTR_OFFSET + size);
}

const TWO_32 = 0x100000000;

/** Writes a 64-bit pointer (or u64 number) at attr byte offset `offset` (8-aligned). */
export function putU64(offset: number, value: number): void {
  const index = offset >>> 2;
  arenaU32[index] = value % TWO_32;
  arenaU32[index + 1] = Math.floor(value / TWO_32);
}

export function putU32(offset: number, value: number): void {
  arenaU32[offset >>> 2] = value >>> 0;
}

export function getU32(offset: number): number {
  return arenaU32[offset >>> 2]!;
}

export function getU64(offset: number): bigint {
  return arena.readBigUInt64LE(offset);
}

/**
 * Writes a NUL-terminated path into the arena's path buffer and returns its address.
 * Throws a RangeError for paths that do not fit PATH_MAX.
 */
export function putPath(path: string): number {
  const len = Buffer.byteLength(path);
  if (len >= PATH_MAX) throw new RangeError(`path too long (${len} bytes): ${path.slice(0, 80)}...`);
  arena.write(path, PATH_OFFSET, 'utf8');
  arena[PATH_OFFSET + len] = 0;
  return ARENA_ADDR + PATH_OFFSET;
}

/** Memory the kernel may read or write, with its address computed once. */
export interface PinnedBytes {
  readonly buf: Buffer;
  readonly addr: number;
}

/**
 * Allocates long-lived memory whose address is taken once. The ArrayBuffer constructor
 * always allocates off the V8 heap, so the address stays valid as long as `buf` is
 * referenced: keep the returned object in a field of whoever passes the address.
 */
export function allocPinned(size: number): PinnedBytes {
  const buf = Buffer.from(new ArrayBuffer(Math.max(8, size)));
  return { buf, addr: Number(koffi.address(buf)) };
}

let io: PinnedBytes = allocPinned(4096);

/**
 * A shared, growable region for commands that are not on the hot path (program load,
 * test runs, queries). Valid until the next ioRegion call that grows it; the module keeps
 * it referenced, so an address taken from it stays valid for the synchronous call.
 */
export function ioRegion(size: number): PinnedBytes {
  if (size > io.buf.length) io = allocPinned(Math.max(size, io.buf.length * 2));
  return io;
}
