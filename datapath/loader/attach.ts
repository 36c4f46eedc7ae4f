// Attaching the datapath programs to devices through pinned links under
// <pinRoot>/links/, so attachments survive the agent. A restarted agent
// adopts the pinned links it finds (and swaps in its program with
// LINK_UPDATE when the object changed) instead of detaching: traffic never
// sees a gap.
import { existsSync, mkdirSync, readdirSync, unlinkSync } from 'node:fs';
import { basename, join } from 'node:path';
import { BpfError, BpfLink, type BpfProgram, type KernelLogger, type XdpMode } from '../kernel/index.js';
import { deviceDriver } from './device-driver.js';
import { DatapathConfigError, XdpOnVethError } from './errors.js';

/** A network device, by name, in a network namespace (name under /var/run/netns, or a path). */
export interface DeviceRef {
  ifname: string;
  /** Default: the agent's own namespace. */
  netns?: string;
}

export type AttachMode = 'tcx' | 'xdp';
export type Hook = 'tcx-ingress' | 'tcx-egress' | 'xdp';

export interface AttachOptions {
  /** tcx (default): ingress and egress programs. xdp: the XDP forward path plus tcx egress for replies. */
  mode?: AttachMode;
  /** With mode xdp: native (default), generic or auto. */
  xdpMode?: XdpMode;
  /** Attach XDP to a veth anyway (it costs the peer its TSO; see XdpOnVethError). */
  forceXdpOnVeth?: boolean;
  /** With mode tcx: which directions (default both). */
  tcxDirections?: readonly ('ingress' | 'egress')[];
}

export interface AttachedLink {
  device: DeviceRef;
  hook: Hook;
  /** The link's pin. */
  pinPath: string;
  linkId: number;
  progId: number;
  /** What attach() did: created it, found it running our program, or updated its program. */
  outcome: 'created' | 'adopted' | 'updated';
}

export interface DatapathPrograms {
  tcIngress: BpfProgram;
  tcEgress: BpfProgram;
  xdp: BpfProgram;
}

const ENOLINK = 67;

function nsTag(netns: string | undefined): string {
  return netns === undefined ? 'host' : basename(netns);
}

/**
 * The pin name of a device's hook: "<netns>:<ifname>:<hook>". bpffs refuses
 * dots in names; ':' cannot occur in an interface name, and the namespace
 * tag is reduced to [A-Za-z0-9_-], so the name parses back unambiguously.
 */
export function linkPinName(device: DeviceRef, hook: Hook): string {
  return `${nsTag(device.netns).replace(/[^A-Za-z0-9_-]/g, '_')}:${device.ifname}:${hook}`;
}

function describe(device: DeviceRef): string {
  return device.netns === undefined ? device.ifname : `${device.ifname} (netns ${device.netns})`;
}

export class LinkManager {
  readonly linkDir: string;

  constructor(
    pinRoot: string,
    private programs: DatapathPrograms,
    private readonly logger?: KernelLogger,
  ) {
    this.linkDir = join(pinRoot, 'links');
  }

  /** Points later attach() calls at newly loaded programs. */
  setPrograms(programs: DatapathPrograms): void {
    this.programs = programs;
  }

  /**
   * Attaches to every device (idempotent: existing pinned links are adopted
   * and, if they run another program, updated in place). Throws
   * XdpOnVethError, DatapathConfigError for a bad device name, or BpfError
   * (`link create`, e.g. ENODEV for a missing device); links made before the
   * failure stay attached and pinned (call detach() to undo).
   */
  attach(devices: readonly DeviceRef[], opts: AttachOptions = {}): AttachedLink[] {
    const mode = opts.mode ?? 'tcx';
    mkdirSync(this.linkDir, { recursive: true, mode: 0o700 });
    for (const device of devices) {
      if (!/^[^\s/:]{1,15}$/.test(device.ifname)) throw new DatapathConfigError(`not a device name: '${device.ifname}'`);
      if (mode === 'xdp' && !opts.forceXdpOnVeth && deviceDriver(device.ifname, device.netns) === 'veth') {
        throw new XdpOnVethError(describe(device));
      }
    }
    const hooks: Hook[] =
      mode === 'xdp' ? ['xdp', 'tcx-egress'] : (opts.tcxDirections ?? ['ingress', 'egress']).map((d) => `tcx-${d}` as const);
    const out: AttachedLink[] = [];
    for (const device of devices) {
      for (const hook of hooks) out.push(this.attachOne(device, hook, opts.xdpMode ?? 'native'));
    }
    return out;
  }

  private programFor(hook: Hook): BpfProgram {
    return hook === 'xdp' ? this.programs.xdp : hook === 'tcx-ingress' ? this.programs.tcIngress : this.programs.tcEgress;
  }

  private attachOne(device: DeviceRef, hook: Hook, xdpMode: XdpMode): AttachedLink {
    const pinPath = join(this.linkDir, linkPinName(device, hook));
    const prog = this.programFor(hook);
    if (existsSync(pinPath)) {
      const adopted = this.adopt(pinPath, prog);
      if (adopted) return { device, hook, pinPath, ...adopted };
    }
    const target = { ifname: device.ifname, ...(device.netns !== undefined ? { netns: device.netns } : {}) };
    const link =
      hook === 'xdp'
        ? BpfLink.attachXdp(prog, target, xdpMode)
        : BpfLink.attachTcx(prog, target, hook === 'tcx-ingress' ? 'ingress' : 'egress');
    try {
      link.pin(pinPath);
      this.logger?.info(`attached ${prog.name} to ${describe(device)} (${hook}), link ${link.id} pinned at ${pinPath}`);
      return { device, hook, pinPath, linkId: link.id, progId: prog.id, outcome: 'created' };
    } catch (err) {
      link.detach();
      throw err;
    } finally {
      link.close();
    }
  }

  /** Takes over a pinned link. Returns undefined (and removes the pin) when
   * the link is defunct, e.g. its device was deleted. */
  private adopt(pinPath: string, prog: BpfProgram): Omit<AttachedLink, 'device' | 'hook' | 'pinPath'> | undefined {
    const link = BpfLink.openPinned(pinPath);
    try {
      const info = link.info();
      if (!info.ifindex) {
        this.logger?.info(`pinned link ${pinPath} is defunct (its device is gone); replacing it`);
        unlinkSync(pinPath);
        return undefined;
      }
      if (info.progId === prog.id) return { linkId: info.id, progId: prog.id, outcome: 'adopted' };
      link.update(prog);
      this.logger?.info(`pinned link ${pinPath}: program ${info.progId} replaced by ${prog.id} (${prog.name})`);
      return { linkId: info.id, progId: prog.id, outcome: 'updated' };
    } finally {
      link.close();
    }
  }

  /** Names of every pinned link. */
  pinnedLinks(): string[] {
    return existsSync(this.linkDir) ? readdirSync(this.linkDir).sort() : [];
  }

  /**
   * Detaches every hook of a device and removes the pins. Idempotent: a
   * device with no links is a no-op. Returns how many links were removed.
   */
  detach(device: DeviceRef): number {
    const prefix = linkPinName(device, 'xdp').slice(0, -'xdp'.length);
    return this.removeWhere((name) => name.startsWith(prefix));
  }

  /** Detaches every pinned link of this pin root. Returns how many. */
  detachAll(): number {
    return this.removeWhere(() => true);
  }

  private removeWhere(match: (name: string) => boolean): number {
    let removed = 0;
    for (const name of this.pinnedLinks().filter(match)) {
      const path = join(this.linkDir, name);
      const link = BpfLink.openPinned(path);
      try {
        link.detach();
      } catch (err) {
        // ENOLINK: already defunct (device gone); the pin is all that is left.
        if (!(err instanceof BpfError && err.errno === ENOLINK)) throw err;
      } finally {
        link.close();
      }
      unlinkSync(path);
      removed += 1;
    }
    return removed;
  }
}
