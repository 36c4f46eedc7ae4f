// A loaded program: raw PROG_LOAD for small programs, pins, info and BPF_PROG_TEST_RUN.
// Programs from ELF objects come from BpfObject (libbpf); this class wraps their fds too.
import { bpfSyscall, getU32, ioRegion, putU32, putU64, zeroAttr } from './attr-arena.js';
import { BpfCmd, progTypeName, resolveProgType, type ProgTypeName } from './bpf-constants.js';
import { writeObjName } from './bpf-map.js';
import { BpfError } from './bpf-error.js';
import { progInfoByFd, type ProgInfo } from './obj-info.js';
import { closeFd, fdById, objGet, objPin } from './pins.js';

const PROG_LOAD_ATTR_SIZE = 128;
const TEST_RUN_ATTR_SIZE = 76;
const ENOSPC = 28;
const LOG_SIZE_START = 1 << 20;
const LOG_SIZE_MAX = 1 << 26;

export interface ProgLoadOptions {
  type: ProgTypeName | number;
  /** Instructions, 8 bytes each. */
  insns: Uint8Array;
  license?: string;
  /** Full name used in errors; the kernel keeps 15 characters. */
  name?: string;
  expectedAttachType?: number;
  /** prog_flags (e.g. BPF_F_XDP_HAS_FRAGS). */
  flags?: number;
}

export interface TestRunOptions {
  /** Packet (or input) bytes. */
  data?: Uint8Array;
  /** Room for the output packet (default: input length + 512). */
  dataSizeOut?: number;
  /** Context in (e.g. struct __sk_buff or xdp_md). */
  ctx?: Uint8Array;
  /** Room for the output context (default: ctx length, 0 without ctx). */
  ctxSizeOut?: number;
  /** Runs the program this many times; duration is the mean per run. */
  repeat?: number;
  flags?: number;
  cpu?: number;
}

export interface TestRunResult {
  /** Program return value (XDP_PASS = 2, TC_ACT_OK = 0, ...). */
  retval: number;
  /** Output packet (a copy). */
  data: Buffer;
  /** Output context (a copy), when ctxSizeOut > 0. */
  ctx: Buffer | undefined;
  /** Kernel-measured mean nanoseconds per run. */
  duration: number;
}

export class BpfProgram implements Disposable {
  private fdValue: number;
  readonly type: number;
  readonly id: number;
  readonly tag: string;

  private constructor(fd: number, info: ProgInfo, readonly name: string) {
    this.fdValue = fd;
    this.type = info.type;
    this.id = info.id;
    this.tag = info.tag;
  }

  get fd(): number {
    return this.fdValue;
  }

  /**
   * Loads raw instructions. On rejection the load is retried with the verifier log on,
   * and the BpfError (`prog load`, EACCES/EINVAL) carries the log in `log` and its tail
   * in the message.
   */
  static load(opts: ProgLoadOptions): BpfProgram {
    const name = opts.name ?? '';
    let ret = loadOnce(opts, 0, 0);
    if (ret >= 0) return BpfProgram.adopt(ret, name);
    let log = '';
    for (let logSize = LOG_SIZE_START; logSize <= LOG_SIZE_MAX; logSize *= 4) {
      ret = loadOnce(opts, 1, logSize);
      if (ret >= 0) return BpfProgram.adopt(ret, name); // flaky first failure: accept
      log = readLog(opts, logSize);
      if (-ret !== ENOSPC) break;
    }
    throw new BpfError('prog load', name || progTypeName(resolveProgType(opts.type)), -ret, { log });
  }

  /** Opens a pinned program. Throws BpfError (`obj get`, ENOENT when there is no pin). */
  static openPinned(path: string, name?: string): BpfProgram {
    return BpfProgram.adopt(objGet(path, 'prog'), name);
  }

  static fromId(id: number, name?: string): BpfProgram {
    return BpfProgram.adopt(fdById(BpfCmd.PROG_GET_FD_BY_ID, id, 'prog'), name);
  }

  /** Wraps an fd this object will own; throws BpfError when fd is not a program. */
  static adopt(fd: number, name?: string): BpfProgram {
    let info: ProgInfo;
    try {
      info = progInfoByFd(fd, name ?? '');
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    return new BpfProgram(fd, info, name || info.name);
  }

  /** Pins the program. Throws BpfError (`prog pin`): EEXIST, ENOENT, EPERM. */
  pin(path: string): void {
    objPin(this.fdValue, path, 'prog', this.name);
  }

  info(): ProgInfo {
    return progInfoByFd(this.fdValue, this.name);
  }

  /**
   * Runs the program once (or `repeat` times) on data with BPF_PROG_TEST_RUN. Throws
   * BpfError (`prog test run`): EINVAL for unsupported program types or bad sizes,
   * ENOSPC when dataSizeOut is too small.
   */
  testRun(opts: TestRunOptions = {}): TestRunResult {
    const data = opts.data ?? new Uint8Array(0);
    const dataOut = opts.dataSizeOut ?? data.length + 512;
    const ctx = opts.ctx;
    const ctxOut = opts.ctxSizeOut ?? ctx?.length ?? 0;
    const offsets = layout([data.length, dataOut, ctx?.length ?? 0, ctxOut]);
    const region = ioRegion(offsets.end);
    const [inOff, outOff, ctxInOff, ctxOutOff] = offsets.starts as [number, number, number, number];
    region.buf.set(data, inOff);
    if (ctx) region.buf.set(ctx, ctxInOff);
    zeroAttr(TEST_RUN_ATTR_SIZE);
    putU32(0, this.fdValue);
    putU32(8, data.length);
    putU32(12, dataOut);
    putU64(16, data.length ? region.addr + inOff : 0);
    putU64(24, dataOut ? region.addr + outOff : 0);
    putU32(32, opts.repeat ?? 1);
    putU32(40, ctx?.length ?? 0);
    putU32(44, ctxOut);
    putU64(48, ctx ? region.addr + ctxInOff : 0);
    putU64(56, ctxOut ? region.addr + ctxOutOff : 0);
    putU32(64, opts.flags ?? 0);
    putU32(68, opts.cpu ?? 0);
    const ret = bpfSyscall(BpfCmd.PROG_TEST_RUN, TEST_RUN_ATTR_SIZE);
    if (ret < 0) throw new BpfError('prog test run', this.name, -ret);
    const outLen = Math.min(getU32(12), dataOut);
    const ctxLen = Math.min(getU32(44), ctxOut);
    return {
      retval: getU32(4) | 0,
      data: Buffer.from(region.buf.subarray(outOff, outOff + outLen)),
      ctx: ctxOut ? Buffer.from(region.buf.subarray(ctxOutOff, ctxOutOff + ctxLen)) : undefined,
      duration: getU32(36),
    };
  }

  /** Closes the fd (idempotent). The program lives on while pinned or attached. */
  close(): void {
    closeFd(this.fdValue);
    this.fdValue = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function loadOnce(opts: ProgLoadOptions, logLevel: number, logSize: number): number {
  if (opts.insns.length === 0 || opts.insns.length % 8 !== 0) {
    throw new RangeError(`program ${opts.name ?? ''}: instructions are ${opts.insns.length} bytes, not a non-zero multiple of 8`);
  }
  const license = Buffer.from(`${opts.license ?? 'GPL'}\0`);
  const offsets = layout([opts.insns.length, license.length, logSize]);
  const region = ioRegion(offsets.end);
  const [insnOff, licenseOff, logOff] = offsets.starts as [number, number, number];
  region.buf.set(opts.insns, insnOff);
  region.buf.set(license, licenseOff);
  if (logSize) region.buf[logOff] = 0;
  zeroAttr(PROG_LOAD_ATTR_SIZE);
  putU32(0, resolveProgType(opts.type));
  putU32(4, opts.insns.length / 8);
  putU64(8, region.addr + insnOff);
  putU64(16, region.addr + licenseOff);
  putU32(24, logLevel);
  putU32(28, logSize);
  putU64(32, logSize ? region.addr + logOff : 0);
  putU32(44, opts.flags ?? 0);
  writeObjName(48, opts.name ?? '');
  putU32(68, opts.expectedAttachType ?? 0);
  return bpfSyscall(BpfCmd.PROG_LOAD, PROG_LOAD_ATTR_SIZE);
}

function readLog(opts: ProgLoadOptions, logSize: number): string {
  const license = Buffer.byteLength(`${opts.license ?? 'GPL'}\0`);
  const { starts } = layout([opts.insns.length, license, logSize]);
  const region = ioRegion(0);
  const logOff = starts[2]!;
  const end = region.buf.indexOf(0, logOff);
  return region.buf.toString('utf8', logOff, end < 0 ? logOff + logSize : end);
}

/** Packs byte ranges at 8-aligned offsets. */
function layout(sizes: number[]): { starts: number[]; end: number } {
  const starts: number[] = [];
  let end = 0;
  for (const size of sizes) {
    starts.push(end);
    end += (size + 7) & ~7;
  }
  return { starts, end };
}
