// bpf links: XDP and tcx attachments that survive the agent when pinned, can have
// their program replaced in place (LINK_UPDATE) and are detached explicitly.
import { ARENA_ADDR, arena, bpfSyscall, getU32, getU64, IDS_MAX_COUNT, IDS_OFFSET, putU32, putU64, zeroAttr } from './attr-arena.js';
import { AttachType, BpfCmd, XdpFlag } from './bpf-constants.js';
import { BpfError } from './bpf-error.js';
import type { BpfProgram } from './bpf-program.js';
import { ifindexOf, withNetns } from './netns.js';
import { linkInfoByFd, type LinkInfo } from './obj-info.js';
import { closeFd, fdById, objGet, objPin } from './pins.js';

const LINK_CREATE_ATTR_SIZE = 32;
const LINK_UPDATE_ATTR_SIZE = 16;
const LINK_DETACH_ATTR_SIZE = 4;
const PROG_QUERY_ATTR_SIZE = 64;
const BPF_F_REPLACE = 1 << 2;

/** Where to attach: an ifindex, or an interface name resolved in `netns` (or the current namespace). */
export interface LinkTarget {
  ifindex?: number;
  ifname?: string;
  /** Network namespace name (under /var/run/netns) or path; LINK_CREATE runs inside it. */
  netns?: string;
}

/** `native` (driver), `generic` (skb mode, any device) or `auto` (native when the driver supports it). */
export type XdpMode = 'native' | 'generic' | 'auto';
export type TcxDirection = 'ingress' | 'egress';

export class BpfLink implements Disposable {
  private fdValue: number;
  readonly id: number;
  readonly type: number;

  private constructor(fd: number, info: LinkInfo, readonly name: string) {
    this.fdValue = fd;
    this.id = info.id;
    this.type = info.type;
  }

  get fd(): number {
    return this.fdValue;
  }

  /**
   * Attaches an XDP program to an interface. Throws BpfError (`link create`): ENODEV no
   * such interface, EEXIST/EBUSY another XDP program is attached, EINVAL wrong program type.
   */
  static attachXdp(prog: BpfProgram, target: LinkTarget, mode: XdpMode = 'auto'): BpfLink {
    const flags = mode === 'native' ? XdpFlag.DRV_MODE : mode === 'generic' ? XdpFlag.SKB_MODE : 0;
    return BpfLink.create(prog, target, AttachType.XDP, flags, `xdp/${mode}`);
  }

  /**
   * Attaches a SCHED_CLS program as a tcx link on ingress or egress; several links can
   * share a hook (appended last). Throws BpfError (`link create`).
   */
  static attachTcx(prog: BpfProgram, target: LinkTarget, direction: TcxDirection): BpfLink {
    const attachType = direction === 'ingress' ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS;
    return BpfLink.create(prog, target, attachType, 0, `tcx/${direction}`);
  }

  private static create(prog: BpfProgram, target: LinkTarget, attachType: number, flags: number, kind: string): BpfLink {
    const where = describeTarget(target);
    const name = `${kind} ${where} ${prog.name}`;
    const fd = withNetns(target.netns, () => {
      const ifindex = target.ifindex ?? ifindexOf(requireName(target));
      zeroAttr(LINK_CREATE_ATTR_SIZE);
      putU32(0, prog.fd);
      putU32(4, ifindex);
      putU32(8, attachType);
      putU32(12, flags);
      const ret = bpfSyscall(BpfCmd.LINK_CREATE, LINK_CREATE_ATTR_SIZE);
      if (ret < 0) throw new BpfError('link create', name, -ret);
      return ret;
    });
    return BpfLink.adopt(fd, name);
  }

  /** Opens a pinned link (e.g. after an agent restart). Throws BpfError (`obj get`, ENOENT). */
  static openPinned(path: string, name?: string): BpfLink {
    return BpfLink.adopt(objGet(path, 'link'), name ?? path);
  }

  static fromId(id: number, name?: string): BpfLink {
    return BpfLink.adopt(fdById(BpfCmd.LINK_GET_FD_BY_ID, id, 'link'), name);
  }

  /** Wraps an fd this object will own; throws BpfError when fd is not a link. */
  static adopt(fd: number, name?: string): BpfLink {
    let info: LinkInfo;
    try {
      info = linkInfoByFd(fd, name ?? '');
    } catch (err) {
      closeFd(fd);
      throw err;
    }
    return new BpfLink(fd, info, name ?? `link ${info.id}`);
  }

  /** Pins the link so the attachment outlives this process. Throws BpfError (`link pin`). */
  pin(path: string): void {
    objPin(this.fdValue, path, 'link', this.name);
  }

  /**
   * Atomically replaces the link's program (no detach window), e.g. when an upgraded agent
   * loads a new datapath. With `expected`, fails (EPERM) unless that program is the one
   * attached. Throws BpfError (`link update`): EINVAL when the program type does not match.
   */
  update(prog: BpfProgram, expected?: BpfProgram): void {
    zeroAttr(LINK_UPDATE_ATTR_SIZE);
    putU32(0, this.fdValue);
    putU32(4, prog.fd);
    if (expected) {
      putU32(8, BPF_F_REPLACE);
      putU32(12, expected.fd);
    }
    const ret = bpfSyscall(BpfCmd.LINK_UPDATE, LINK_UPDATE_ATTR_SIZE);
    if (ret < 0) throw new BpfError('link update', this.name, -ret);
  }

  /**
   * Detaches the program from its hook; the link object (and its pin) stay but are
   * defunct. Detaching a detached link is harmless. Throws BpfError (`link detach`).
   */
  detach(): void {
    zeroAttr(LINK_DETACH_ATTR_SIZE);
    putU32(0, this.fdValue);
    const ret = bpfSyscall(BpfCmd.LINK_DETACH, LINK_DETACH_ATTR_SIZE);
    if (ret < 0) throw new BpfError('link detach', this.name, -ret);
  }

  info(): LinkInfo {
    return linkInfoByFd(this.fdValue, this.name);
  }

  /** Closes the fd (idempotent). An unpinned link detaches when its last fd closes. */
  close(): void {
    closeFd(this.fdValue);
    this.fdValue = -1;
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

export interface TcxQueryResult {
  /** Bumped by the kernel on every change of the hook's program list. */
  revision: bigint;
  /** Attached programs, in execution order. */
  programIds: number[];
  /** The link of each program (0 for non-link attachments). */
  linkIds: number[];
}

/** Lists the programs on an interface's tcx hook (PROG_QUERY). Throws BpfError (`prog query`). */
export function queryTcx(target: LinkTarget, direction: TcxDirection): TcxQueryResult {
  const attachType = direction === 'ingress' ? AttachType.TCX_INGRESS : AttachType.TCX_EGRESS;
  return withNetns(target.netns, () => {
    const ifindex = target.ifindex ?? ifindexOf(requireName(target));
    const progIds = IDS_OFFSET;
    const linkIds = IDS_OFFSET + IDS_MAX_COUNT * 4;
    zeroAttr(PROG_QUERY_ATTR_SIZE);
    putU32(0, ifindex);
    putU32(4, attachType);
    putU64(16, ARENA_ADDR + progIds);
    putU32(24, IDS_MAX_COUNT);
    putU64(40, ARENA_ADDR + linkIds);
    const ret = bpfSyscall(BpfCmd.PROG_QUERY, PROG_QUERY_ATTR_SIZE);
    if (ret < 0) throw new BpfError('prog query', `tcx/${direction} ${describeTarget(target)}`, -ret);
    const count = getU32(24);
    const programIds: number[] = [];
    const links: number[] = [];
    for (let i = 0; i < count; i++) {
      programIds.push(arena.readUInt32LE(progIds + i * 4));
      links.push(arena.readUInt32LE(linkIds + i * 4));
    }
    return { revision: getU64(56), programIds, linkIds: links };
  });
}

function requireName(target: LinkTarget): string {
  if (!target.ifname) throw new TypeError('link target needs an ifindex or an ifname');
  return target.ifname;
}

function describeTarget(target: LinkTarget): string {
  const dev = target.ifname ?? `ifindex ${target.ifindex}`;
  return target.netns ? `${dev}@${target.netns}` : dev;
}
