// The few libc entry points the kernel layer needs, bound once through koffi.
// Every prototype is declared non-variadic: koffi's variadic calls cost about
// 150 ns more, and on x86-64 the fixed-argument form is ABI-compatible.
import koffi from 'koffi';

/** bpf(2) on x86-64; other architectures are not supported (the layouts are x86-64 facts). */
export const SYS_BPF = 321;
export const CLONE_NEWNET = 0x40000000;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;
const F_DUPFD_CLOEXEC = 1030;

export interface Libc {
  /** Raw syscall with the bpf(2) argument shape; returns -1 and sets errno on failure. */
  syscall: (nr: number, cmd: number, attr: number, size: number) => number;
  close: (fd: number) => number;
  /** Returns the address as a number, or -1 (MAP_FAILED) with errno set. */
  mmap: (addr: number, length: number, prot: number, flags: number, fd: number, offset: number) => number;
  munmap: (addr: number, length: number) => number;
  setns: (fd: number, nstype: number) => number;
  ifNameToIndex: (name: string) => number;
  dupCloexec: (fd: number) => number;
  mount: (source: string, target: string, fstype: string, flags: number, data: null) => number;
  /** Formats a C va_list; only valid inside the callback that received `ap`. */
  vsnprintf: (out: Buffer, size: number, fmt: unknown, ap: unknown) => number;
  pageSize: () => number;
}

let bound: Libc | undefined;

/** Binds libc on first use (loading it at import time would make every importer pay). */
export function libc(): Libc {
  if (bound) return bound;
  if (process.arch !== 'x64' || process.platform !== 'linux') {
    throw new Error(`flagella's kernel layer supports linux/x64 only (this is ${process.platform}/${process.arch})`);
  }
  const lib = koffi.load('libc.so.6');
  const syscall = lib.func('long syscall(long nr, int cmd, uintptr_t attr, uint32_t size)');
  const close = lib.func('int close(int fd)');
  const mmap = lib.func('intptr_t mmap(uintptr_t addr, size_t length, int prot, int flags, int fd, intptr_t offset)');
  const munmap = lib.func('int munmap(uintptr_t addr, size_t length)');
  const setns = lib.func('int setns(int fd, int nstype)');
  const ifNameToIndex = lib.func('unsigned int if_nametoindex(const char *name)');
  const fcntl = lib.func('int fcntl(int fd, int cmd, int arg)');
  const mount = lib.func('int mount(const char *source, const char *target, const char *fstype, unsigned long flags, const void *data)');
  const vsnprintf = lib.func('int vsnprintf(void *out, size_t size, void *fmt, void *ap)');
  const getpagesize = lib.func('int getpagesize()');
  bound = {
    syscall: syscall as Libc['syscall'],
    close: close as Libc['close'],
    mmap: (addr, length, prot, flags, fd, offset) => Number(mmap(addr, length, prot, flags, fd, offset)),
    munmap: munmap as Libc['munmap'],
    setns: setns as Libc['setns'],
    ifNameToIndex: ifNameToIndex as Libc['ifNameToIndex'],
    dupCloexec: (fd) => fcntl(fd, F_DUPFD_CLOEXEC, 0) as number,
    mount: mount as Libc['mount'],
    vsnprintf: vsnprintf as Libc['vsnprintf'],
    pageSize: getpagesize as Libc['pageSize'],
  };
  return bound;
}

/** errno of the last failed foreign call on this thread. */
export function lastErrno(): number {
  return koffi.errno();
}
