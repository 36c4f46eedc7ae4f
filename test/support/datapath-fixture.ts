// Loading the real datapath object under a unique temporary pin root, writing
// services into its maps the way the control plane will (backends, slots,
// rev-NAT, then the master last), and running packets through the real
// programs with BPF_PROG_TEST_RUN.
import { rmSync } from 'node:fs';
import { loadDatapath, type Datapath, type DatapathConfigInput, type LoadOptions } from '../../datapath/index.js';
import { IPPROTO_TCP, IPPROTO_UDP, type L4Proto } from './packet.js';

let pinRootCounter = 0;

/** A fresh pin root under /sys/fs/bpf, unique to this process. */
export function tempPinRoot(tag = 'test'): string {
  pinRootCounter += 1;
  return `/sys/fs/bpf/flg-${tag}-${process.pid}-${pinRootCounter}`;
}

/** Loads the datapath under a temporary pin root; `dispose` detaches, closes and removes every pin. */
export function openTestDatapath(config: DatapathConfigInput = {}, opts: Omit<LoadOptions, 'pinRoot' | 'config'> = {}): Datapath & { dispose(): void } {
  const pinRoot = tempPinRoot();
  let dp: Datapath;
  try {
    dp = loadDatapath({ ...opts, pinRoot, config });
  } catch (err) {
    rmSync(pinRoot, { recursive: true, force: true });
    throw err;
  }
  return Object.assign(dp, {
    dispose(): void {
      try {
        dp.detachAll();
      } finally {
        dp.close();
        rmSync(pinRoot, { recursive: true, force: true });
      }
    },
  });
}

/** Runs fn with a fresh datapath and removes everything afterwards, also on failure. */
export async function withDatapath<T>(fn: (dp: Datapath) => T | Promise<T>, config: DatapathConfigInput = {}, opts: Omit<LoadOptions, 'pinRoot' | 'config'> = {}): Promise<T> {
  const dp = openTestDatapath(config, opts);
  try {
    return await fn(dp);
  } finally {
    dp.dispose();
  }
}

/** An IPv4 address as the generated codecs take __be32 fields: the address's numeric value. */
export function ipNum(ip: string): number {
  const p = ip.split('.').map(Number);
  return ((p[0]! << 24) | (p[1]! << 16) | (p[2]! << 8) | p[3]!) >>> 0;
}

export function protoNum(proto: L4Proto): number {
  return proto === 'tcp' ? IPPROTO_TCP : IPPROTO_UDP;
}

// Mirrors of the C constants the fixture writes (bpf/include/flagella/maps.h).
export const SvcFlag = { AFFINITY: 1 << 4, ROUTABLE: 1 << 6, SOURCE_RANGE: 1 << 7 } as const;
export const SvcFlag2 = { SOURCE_RANGE_DENY: 1 << 6 } as const;
export const BackendState = { active: 0, terminating: 1, quarantined: 2, maintenance: 3 } as const;
export const LbAlg = { default: 0, random: 1, maglev: 2 } as const;

export interface BackendSpec {
  id: number;
  addr: string;
  port: number;
  state?: keyof typeof BackendState;
}

export interface ServiceSpec {
  vip: string;
  port: number;
  proto: L4Proto;
  /** Service id (rev-NAT index), host order. */
  id: number;
  /** Backends in slot order; all are written to the backends map. */
  backends: readonly BackendSpec[];
  /** How many leading backends are selectable (count); default all. */
  activeCount?: number;
  algorithm?: keyof typeof LbAlg;
  affinityTimeoutSeconds?: number;
  /** CIDRs like "10.0.0.0/8"; sets the source-range flag. */
  sourceRanges?: readonly string[];
  sourceRangeDeny?: boolean;
}

/** Writes a service the way the control plane must: backends, slots, rev-NAT,
 * source ranges, affinity matches, then the master entry last. */
export function putService(dp: Datapath, spec: ServiceSpec): void {
  const { maps } = dp;
  const proto = protoNum(spec.proto);
  for (const be of spec.backends) {
    maps.lb4Backends.put(be.id, { address: ipNum(be.addr), port: be.port, proto, flags: BackendState[be.state ?? 'active'], clusterId: 0, zone: 0, pad: 0 });
  }
  const key = { address: ipNum(spec.vip), dport: spec.port, backendSlot: 0, proto, scope: 0 };
  spec.backends.forEach((be, i) => {
    maps.lb4Services.put({ ...key, backendSlot: i + 1 }, { backendId: be.id, count: 0, revNatIndex: spec.id, flags: SvcFlag.ROUTABLE, flags2: 0, qcount: 0 });
  });
  maps.lb4ReverseNat.put(spec.id, { address: ipNum(spec.vip), port: spec.port });
  let flags = SvcFlag.ROUTABLE;
  let flags2 = 0;
  if (spec.sourceRanges) {
    flags |= SvcFlag.SOURCE_RANGE;
    if (spec.sourceRangeDeny) flags2 |= SvcFlag2.SOURCE_RANGE_DENY;
    for (const cidr of spec.sourceRanges) {
      const [addr = '', bits = '32'] = cidr.split('/');
      maps.lb4SourceRange.put({ prefixlen: 32 + Number(bits), revNatId: spec.id, pad: 0, addr: ipNum(addr) }, 1);
    }
  }
  if (spec.affinityTimeoutSeconds !== undefined) {
    flags |= SvcFlag.AFFINITY;
    for (const be of spec.backends) {
      if ((be.state ?? 'active') === 'active') maps.lbAffinityMatch.put({ backendId: be.id, revNatId: spec.id, pad: 0 }, 1);
    }
  }
  const active = spec.activeCount ?? spec.backends.length;
  const algorithmWord = (LbAlg[spec.algorithm ?? 'default'] << 24) | ((spec.affinityTimeoutSeconds ?? 0) & 0xffffff);
  maps.lb4Services.put(key, { backendId: algorithmWord >>> 0, count: active, revNatIndex: spec.id, flags, flags2, qcount: spec.backends.length - active });
}

/** The wildcard entry {vip, port 0, proto ANY}: drops traffic to the VIP's unknown ports. */
export function putWildcard(dp: Datapath, vip: string): void {
  dp.maps.lb4Services.put({ address: ipNum(vip), dport: 0, backendSlot: 0, proto: 0, scope: 0 }, { backendId: 0, count: 0, revNatIndex: 0, flags: 0, flags2: 0, qcount: 0 });
}

export const TC_ACT_OK = 0;
export const TC_ACT_SHOT = 2;
export const XDP_DROP = 1;
export const XDP_PASS = 2;

export interface RunResult {
  verdict: 'pass' | 'drop';
  retval: number;
  /** The packet as the program left it. */
  out: Buffer;
}

/** Runs a frame through flg_tc_ingress (or egress) once. */
export function runTc(dp: Datapath, frame: Uint8Array, hook: 'ingress' | 'egress' = 'ingress'): RunResult {
  const prog = hook === 'ingress' ? dp.programs.tcIngress : dp.programs.tcEgress;
  const res = prog.testRun({ data: frame, repeat: 1 });
  if (res.retval !== TC_ACT_OK && res.retval !== TC_ACT_SHOT) throw new Error(`unexpected tc verdict ${res.retval}`);
  return { verdict: res.retval === TC_ACT_OK ? 'pass' : 'drop', retval: res.retval, out: res.data };
}

/** Runs a frame through flg_xdp once. */
export function runXdp(dp: Datapath, frame: Uint8Array): RunResult {
  const res = dp.programs.xdp.testRun({ data: frame, repeat: 1 });
  if (res.retval !== XDP_PASS && res.retval !== XDP_DROP) throw new Error(`unexpected XDP verdict ${res.retval}`);
  return { verdict: res.retval === XDP_PASS ? 'pass' : 'drop', retval: res.retval, out: res.data };
}
