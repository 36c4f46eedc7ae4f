// Start-up checks: is there a bpf filesystem under the pin root, do we hold the
// capabilities, and does the kernel have what the datapath uses? Features are probed by
// doing the thing (creating maps, loading a program, asking for a tcx link), because
// version numbers and `bpftool feature probe` are unreliable.
import { mkdirSync, readFileSync } from 'node:fs';
import { release } from 'node:os';
import { dirname, resolve } from 'node:path';
import { AttachType, BpfCmd, MapFlag, MapType } from './bpf-constants.js';
import { BpfError } from './bpf-error.js';
import { BpfMap } from './bpf-map.js';
import { DEFAULT_PIN_ROOT } from './bpf-object.js';
import { BpfProgram } from './bpf-program.js';
import { bpfSyscall, putU32, zeroAttr } from './attr-arena.js';
import { returnProgram } from './insn.js';
import { closeFd } from './pins.js';
import { lastErrno, libc } from './libc.js';

const CAP_NET_ADMIN = 12;
const CAP_SYS_ADMIN = 21;
const CAP_BPF = 39;
const ENODEV = 19;

export interface EnvironmentOptions {
  /** Default /sys/fs/bpf/flagella. */
  pinRoot?: string;
  /** Mount bpffs when the pin root is not on one (default true). */
  mount?: boolean;
  /** Throw EnvironmentError when something is missing (default true). */
  throwOnProblem?: boolean;
}

export interface FeatureProbe {
  ok: boolean;
  /** Why it failed (the error message). */
  detail?: string;
}

export type FeatureName =
  | 'hashMap'
  | 'lruHash'
  | 'lpmTrie'
  | 'hashOfMaps'
  | 'perCpuArray'
  | 'ringBuffer'
  | 'batchOps'
  | 'schedClsProgram'
  | 'xdpProgram'
  | 'tcxLinks';

export interface EnvironmentReport {
  ok: boolean;
  kernelRelease: string;
  bpffs: { pinRoot: string; mountPoint: string | undefined; ok: boolean; mountedNow: boolean };
  privileges: { uid: number; capBpf: boolean; capNetAdmin: boolean; capSysAdmin: boolean; ok: boolean };
  features: Record<FeatureName, FeatureProbe>;
  /** One line per problem, each saying how to fix it. */
  problems: string[];
}

/** Thrown by checkEnvironment: the message lists what is missing and how to fix it. */
export class EnvironmentError extends Error {
  override readonly name = 'EnvironmentError';
  constructor(readonly report: EnvironmentReport) {
    super(`flagella cannot drive the kernel datapath here:\n${report.problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}

/**
 * Checks (and where possible fixes) the environment: mounts bpffs when the pin root is
 * not on one and creates the pin root, reads the effective capabilities, and probes
 * each kernel feature the datapath needs. Returns the report; throws EnvironmentError
 * when anything is missing (unless throwOnProblem is false). Idempotent.
 */
export function checkEnvironment(opts: EnvironmentOptions = {}): EnvironmentReport {
  const pinRoot = resolve(opts.pinRoot ?? DEFAULT_PIN_ROOT);
  const problems: string[] = [];
  const privileges = checkPrivileges(problems);
  const bpffs = checkBpffs(pinRoot, opts.mount ?? true, problems);
  const features = probeFeatures();
  for (const [name, probe] of Object.entries(features)) {
    if (!probe.ok) problems.push(`kernel feature ${name} unavailable: ${probe.detail ?? 'probe failed'}${featureHint(name as FeatureName, privileges.ok)}`);
  }
  const report: EnvironmentReport = { ok: problems.length === 0, kernelRelease: release(), bpffs, privileges, features, problems };
  if (!report.ok && (opts.throwOnProblem ?? true)) throw new EnvironmentError(report);
  return report;
}

function checkPrivileges(problems: string[]): EnvironmentReport['privileges'] {
  return privilegesOf(readFileSync('/proc/self/status', 'utf8'), process.getuid?.() ?? -1, problems);
}

/** The privileges described by a /proc/<pid>/status text for uid; what is missing goes to problems. */
export function privilegesOf(status: string, uid: number, problems: string[]): EnvironmentReport['privileges'] {
  const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
  const has = (cap: number): boolean => (capEff & (1n << BigInt(cap))) !== 0n;
  const capSysAdmin = has(CAP_SYS_ADMIN);
  const capBpf = has(CAP_BPF);
  const capNetAdmin = has(CAP_NET_ADMIN);
  const ok = (capBpf || capSysAdmin) && capNetAdmin;
  if (!ok) {
    const missing = [!(capBpf || capSysAdmin) ? 'CAP_BPF' : '', !capNetAdmin ? 'CAP_NET_ADMIN' : ''].filter(Boolean).join(' and ');
    // Root without them is a restricted capability set (a container, setpriv): "run as root" would not help.
    const advice = uid === 0 ? 'root here lacks them; grant' : 'run as root, or grant';
    problems.push(
      `missing ${missing} (uid ${uid}): ${advice} CAP_BPF and CAP_NET_ADMIN ` +
        `(plus CAP_SYS_ADMIN to mount bpffs and enter network namespaces), e.g. a container's securityContext.capabilities.add: [BPF, NET_ADMIN, SYS_ADMIN]`,
    );
  }
  return { uid, capBpf, capNetAdmin, capSysAdmin, ok };
}

interface Mount {
  point: string;
  type: string;
}

function readMounts(): Mount[] {
  const unescape = (s: string): string => s.replace(/\\([0-7]{3})/g, (_m, oct: string) => String.fromCharCode(parseInt(oct, 8)));
  return readFileSync('/proc/mounts', 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [, point = '', type = ''] = line.split(' ');
      return { point: unescape(point), type };
    });
}

/** The mount that holds path: the longest mount point that is path or one of its parents (the last mounted wins). */
export function mountOf(path: string, mounts: Mount[]): Mount | undefined {
  let best: Mount | undefined;
  for (const m of mounts) {
    const inside = path === m.point || path.startsWith(m.point.endsWith('/') ? m.point : `${m.point}/`);
    if (inside && (!best || m.point.length >= best.point.length)) best = m;
  }
  return best;
}

function checkBpffs(pinRoot: string, mount: boolean, problems: string[]): EnvironmentReport['bpffs'] {
  let found = mountOf(pinRoot, readMounts());
  let mountedNow = false;
  let mountFailed = false;
  if (found?.type !== 'bpf' && mount) {
    const target = pinRoot === '/sys/fs/bpf' || pinRoot.startsWith('/sys/fs/bpf/') ? '/sys/fs/bpf' : pinRoot;
    try {
      mkdirSync(target, { recursive: true, mode: 0o700 });
      if (libc().mount('bpf', target, 'bpf', 0, null) !== 0) throw new BpfError('bpffs mount', target, lastErrno());
      mountedNow = true;
    } catch (err) {
      mountFailed = true;
      problems.push(`could not mount bpffs at ${target} (${(err as Error).message}): run 'mount -t bpf bpf ${target}' as root`);
    }
    found = mountOf(pinRoot, readMounts());
  }
  const ok = found?.type === 'bpf';
  if (!ok && !mountFailed) {
    problems.push(`${pinRoot} is not on a bpf filesystem (it is on ${found?.type ?? 'nothing'} at ${found?.point ?? '?'}): run 'mount -t bpf bpf /sys/fs/bpf'`);
  } else if (ok) {
    try {
      mkdirSync(pinRoot, { recursive: true, mode: 0o700 });
    } catch (err) {
      problems.push(`cannot create the pin root ${pinRoot}: ${(err as Error).message}; create it as root or choose another pinRoot under ${dirname(pinRoot)}`);
    }
  }
  return { pinRoot, mountPoint: found?.point, ok, mountedNow };
}

function probe(fn: () => void): FeatureProbe {
  try {
    fn();
    return { ok: true };
  } catch (err) {
    return { ok: false, detail: err instanceof Error ? err.message.split('\n')[0]! : String(err) };
  }
}

function probeMap(type: number, keySize: number, valueSize: number, flags = 0, inner?: BpfMap): () => void {
  return () => BpfMap.create({ type, keySize, valueSize, maxEntries: type === MapType.RINGBUF ? 4096 : 4, flags, name: 'flg_probe', ...(inner ? { innerMap: inner } : {}) }).close();
}

function probeFeatures(): Record<FeatureName, FeatureProbe> {
  return {
    hashMap: probe(probeMap(MapType.HASH, 8, 16)),
    lruHash: probe(probeMap(MapType.LRU_HASH, 8, 16)),
    lpmTrie: probe(probeMap(MapType.LPM_TRIE, 8, 1, MapFlag.NO_PREALLOC)),
    hashOfMaps: probe(() => {
      const inner = BpfMap.create({ type: MapType.ARRAY, keySize: 4, valueSize: 4, maxEntries: 1, name: 'flg_probe_in' });
      try {
        probeMap(MapType.HASH_OF_MAPS, 4, 4, 0, inner)();
      } finally {
        inner.close();
      }
    }),
    perCpuArray: probe(probeMap(MapType.PERCPU_ARRAY, 4, 8)),
    ringBuffer: probe(probeMap(MapType.RINGBUF, 0, 0)),
    batchOps: probe(() => {
      const map = BpfMap.create({ type: MapType.HASH, keySize: 4, valueSize: 4, maxEntries: 4, name: 'flg_probe_b' });
      try {
        map.updateBatch(Buffer.from([1, 0, 0, 0, 2, 0, 0, 0]), Buffer.alloc(8));
        if (map.lookupBatch().count !== 2) throw new Error('batch lookup returned the wrong count');
      } finally {
        map.close();
      }
    }),
    schedClsProgram: probe(() => BpfProgram.load({ type: 'SCHED_CLS', insns: returnProgram(0), name: 'flg_probe' }).close()),
    xdpProgram: probe(() => BpfProgram.load({ type: 'XDP', insns: returnProgram(2), name: 'flg_probe' }).close()),
    tcxLinks: probe(probeTcx),
  };
}

/**
 * A tcx LINK_CREATE on an ifindex that does not exist: a kernel with tcx looks the device
 * up and answers ENODEV; one without rejects the attach type first (EINVAL).
 */
function probeTcx(): void {
  const prog = BpfProgram.load({ type: 'SCHED_CLS', insns: returnProgram(0), name: 'flg_probe' });
  try {
    zeroAttr(32);
    putU32(0, prog.fd);
    putU32(4, 0x7ffffff0);
    putU32(8, AttachType.TCX_INGRESS);
    const ret = bpfSyscall(BpfCmd.LINK_CREATE, 32);
    if (ret >= 0) {
      closeFd(ret);
      return;
    }
    if (-ret !== ENODEV) throw new BpfError('link create', 'tcx probe', -ret);
  } finally {
    prog.close();
  }
}

function featureHint(name: FeatureName, privileged: boolean): string {
  if (!privileged) return ' (probably the missing capabilities above)';
  if (name === 'tcxLinks') return ' (tcx needs Linux 6.6+ with CONFIG_NET_XGRESS)';
  if (name === 'batchOps') return ' (batch map operations need Linux 5.6+)';
  if (name === 'ringBuffer') return ' (ring buffers need Linux 5.8+)';
  return ' (needs a newer kernel with CONFIG_BPF_SYSCALL)';
}
