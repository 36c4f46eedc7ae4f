// libbpf.so.1 (Debian libbpf 1.1) bound through koffi, for loading ELF objects only.
// Map operations and links never go through libbpf: they use the raw syscalls.
//
// libbpf's print callback is process-global: it is registered once, kept alive for the
// life of the process, and routes messages to whoever is loading right now (a
// collector for the error's log plus the caller's logger). Loads are synchronous,
// never `.async`: the callback's va_list is only valid during the call.
import koffi, { type LibraryHandle, type TypeObject } from 'koffi';
import { libc } from './libc.js';

export interface KernelLogger {
  debug(msg: string): void;
  info(msg: string): void;
  warn(msg: string): void;
}

/** An opaque libbpf pointer (koffi hands these out; we only pass them back). */
export type Ptr = { readonly __libbpfPointer: true };

export interface Libbpf {
  OpenOpts: TypeObject;
  openFile: (path: string, opts: Record<string, unknown>) => Ptr | null;
  load: (obj: Ptr) => number;
  close: (obj: Ptr) => void;
  nextMap: (obj: Ptr, prev: Ptr | null) => Ptr | null;
  nextProgram: (obj: Ptr, prev: Ptr | null) => Ptr | null;
  mapName: (map: Ptr) => string;
  mapFd: (map: Ptr) => number;
  mapType: (map: Ptr) => number;
  mapSetMaxEntries: (map: Ptr, n: number) => number;
  mapSetValueSize: (map: Ptr, n: number) => number;
  mapSetKeySize: (map: Ptr, n: number) => number;
  mapSetFlags: (map: Ptr, n: number) => number;
  mapInnerMap: (map: Ptr) => Ptr | null;
  mapSetInnerMapFd: (map: Ptr, fd: number) => number;
  mapIsPinned: (map: Ptr) => boolean;
  mapPinPath: (map: Ptr) => string | null;
  mapIsInternal: (map: Ptr) => boolean;
  progName: (prog: Ptr) => string;
  progFd: (prog: Ptr) => number;
  progType: (prog: Ptr) => number;
  progSectionName: (prog: Ptr) => string;
  progSetAutoload: (prog: Ptr, autoload: boolean) => number;
}

/** bpf_object_open_opts of libbpf 1.1, which must match C byte for byte. */
const OPEN_OPTS_SIZE = 80;

let bound: Libbpf | undefined;
let printCallback: unknown;
let printBuffer: Buffer | undefined;

interface PrintSink {
  lines: string[];
  logger: KernelLogger | undefined;
}
let sink: PrintSink | undefined;
let defaultLogger: KernelLogger | undefined;

/** Binds libbpf on first use and installs the print callback. Throws if libbpf.so.1 is missing. */
export function libbpf(): Libbpf {
  if (bound) return bound;
  const lib = koffi.load('libbpf.so.1');
  koffi.opaque('bpf_object');
  koffi.opaque('bpf_map');
  koffi.opaque('bpf_program');
  const OpenOpts = koffi.struct('bpf_object_open_opts', {
    sz: 'size_t',
    object_name: 'const char *',
    relaxed_maps: 'bool',
    pin_root_path: 'const char *',
    attach_prog_fd_stub: 'uint32_t', // `__u32 :32` in C: an anonymous hole
    kconfig: 'const char *',
    btf_custom_path: 'const char *',
    kernel_log_buf: 'void *',
    kernel_log_size: 'size_t',
    kernel_log_level: 'uint32_t',
  });
  assertLayout(OpenOpts);
  const f = (sig: string) => lib.func(sig);
  const openFile = f('bpf_object *bpf_object__open_file(const char *path, const bpf_object_open_opts *opts)');
  bound = {
    OpenOpts,
    openFile: (path, opts) => openFile(path, opts) as Ptr | null,
    load: f('int bpf_object__load(bpf_object *obj)') as Libbpf['load'],
    close: f('void bpf_object__close(bpf_object *obj)') as Libbpf['close'],
    nextMap: f('bpf_map *bpf_object__next_map(const bpf_object *obj, const bpf_map *prev)') as Libbpf['nextMap'],
    nextProgram: f('bpf_program *bpf_object__next_program(const bpf_object *obj, bpf_program *prev)') as Libbpf['nextProgram'],
    mapName: f('const char *bpf_map__name(const bpf_map *map)') as Libbpf['mapName'],
    mapFd: f('int bpf_map__fd(const bpf_map *map)') as Libbpf['mapFd'],
    mapType: f('int bpf_map__type(const bpf_map *map)') as Libbpf['mapType'],
    mapSetMaxEntries: f('int bpf_map__set_max_entries(bpf_map *map, uint32_t n)') as Libbpf['mapSetMaxEntries'],
    mapSetValueSize: f('int bpf_map__set_value_size(bpf_map *map, uint32_t n)') as Libbpf['mapSetValueSize'],
    mapSetKeySize: f('int bpf_map__set_key_size(bpf_map *map, uint32_t n)') as Libbpf['mapSetKeySize'],
    mapSetFlags: f('int bpf_map__set_map_flags(bpf_map *map, uint32_t flags)') as Libbpf['mapSetFlags'],
    mapInnerMap: f('bpf_map *bpf_map__inner_map(bpf_map *map)') as Libbpf['mapInnerMap'],
    mapSetInnerMapFd: f('int bpf_map__set_inner_map_fd(bpf_map *map, int fd)') as Libbpf['mapSetInnerMapFd'],
    mapIsPinned: f('bool bpf_map__is_pinned(const bpf_map *map)') as Libbpf['mapIsPinned'],
    mapPinPath: f('const char *bpf_map__pin_path(const bpf_map *map)') as Libbpf['mapPinPath'],
    mapIsInternal: f('bool bpf_map__is_internal(const bpf_map *map)') as Libbpf['mapIsInternal'],
    progName: f('const char *bpf_program__name(const bpf_program *prog)') as Libbpf['progName'],
    progFd: f('int bpf_program__fd(const bpf_program *prog)') as Libbpf['progFd'],
    progType: f('int bpf_program__type(const bpf_program *prog)') as Libbpf['progType'],
    progSectionName: f('const char *bpf_program__section_name(const bpf_program *prog)') as Libbpf['progSectionName'],
    progSetAutoload: f('int bpf_program__set_autoload(bpf_program *prog, bool autoload)') as Libbpf['progSetAutoload'],
  };
  installPrint(lib);
  return bound;
}

const OPEN_OPTS_OFFSETS: Record<string, number> = {
  sz: 0,
  object_name: 8,
  relaxed_maps: 16,
  pin_root_path: 24,
  attach_prog_fd_stub: 32,
  kconfig: 40,
  btf_custom_path: 48,
  kernel_log_buf: 56,
  kernel_log_size: 64,
  kernel_log_level: 72,
};

/**
 * The bpf_object_open_opts layout as koffi lays it out (size and member offsets), for
 * checking against C's sizeof/offsetof. Binds libbpf.
 */
export function libbpfOpenOptsLayout(): { size: number; offsets: Record<string, number> } {
  const { OpenOpts } = libbpf();
  const offsets: Record<string, number> = {};
  for (const field of Object.keys(OPEN_OPTS_OFFSETS)) offsets[field] = koffi.offsetof(OpenOpts, field);
  return { size: koffi.sizeof(OpenOpts), offsets };
}

function assertLayout(OpenOpts: TypeObject): void {
  const expect = OPEN_OPTS_OFFSETS;
  const size = koffi.sizeof(OpenOpts);
  const wrong = Object.entries(expect).filter(([field, off]) => koffi.offsetof(OpenOpts, field) !== off);
  if (size !== OPEN_OPTS_SIZE || wrong.length > 0) {
    throw new Error(`bpf_object_open_opts layout mismatch (size ${size}, fields ${wrong.map(([f]) => f).join(', ')}): koffi struct does not match libbpf 1.1`);
  }
}

function installPrint(lib: LibraryHandle): void {
  const PrintFn = koffi.proto('int libbpf_print_fn(int level, void *fmt, void *ap)');
  const setPrint = lib.func('void *libbpf_set_print(libbpf_print_fn *fn)');
  const vsnprintf = libc().vsnprintf;
  printBuffer = Buffer.alloc(1 << 20);
  const out = printBuffer;
  // Registered once for the process lifetime: libbpf may call it from any later load.
  printCallback = koffi.register((level: number, fmt: unknown, ap: unknown): number => {
    const n = vsnprintf(out, out.length, fmt, ap);
    const text = out.toString('utf8', 0, Math.max(0, Math.min(n, out.length - 1)));
    deliver(level, text);
    return 0;
  }, koffi.pointer(PrintFn));
  setPrint(printCallback);
}

const LIBBPF_WARN = 0;
const LIBBPF_INFO = 1;

function deliver(level: number, text: string): void {
  const trimmed = text.replace(/\n$/, '');
  const logger = sink?.logger ?? defaultLogger;
  if (sink) sink.lines.push(trimmed);
  if (!logger) return;
  const msg = trimmed.startsWith('libbpf: ') ? trimmed : `libbpf: ${trimmed}`;
  if (level === LIBBPF_WARN) logger.warn(msg);
  else if (level === LIBBPF_INFO) logger.info(msg);
  else logger.debug(msg);
}

/** Where libbpf messages outside a load go (default: dropped). */
export function setLibbpfLogger(logger: KernelLogger | undefined): void {
  defaultLogger = logger;
}

/**
 * Runs fn (a synchronous libbpf call) while collecting everything libbpf prints; returns
 * fn's result and the collected text.
 */
export function collectLibbpfLog<T>(logger: KernelLogger | undefined, fn: () => T): { result: T; log: string } {
  const previous = sink;
  const mine: PrintSink = { lines: [], logger };
  sink = mine;
  try {
    const result = fn();
    return { result, log: mine.lines.join('\n') };
  } finally {
    sink = previous;
  }
}

/** bpf_object_open_opts with a pin root for LIBBPF_PIN_BY_NAME maps. */
export function openOptions(pinRoot: string, objectName: string | undefined): Record<string, unknown> {
  return {
    sz: OPEN_OPTS_SIZE,
    object_name: objectName ?? null,
    relaxed_maps: false,
    pin_root_path: pinRoot,
    attach_prog_fd_stub: 0,
    kconfig: null,
    btf_custom_path: null,
    kernel_log_buf: null,
    kernel_log_size: 0,
    kernel_log_level: 0,
  };
}
