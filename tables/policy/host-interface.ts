// Finding the host-side interface of a local pod: the interface of the host
// route (/32) to its IP, read from /proc/net/route, and the interface's
// ifindex. The parsing is pure; systemInterfaceResolver does the reading.
import { readFileSync } from 'node:fs';
import { parseIPBytes } from '../net/ip-address.js';

/** One IPv4 route of /proc/net/route. */
export interface KernelRoute {
  readonly iface: string;
  /** Destination and mask as u32 values of the address in network order (10.0.0.1 = 0x0a000001). */
  readonly destination: number;
  readonly mask: number;
  /** 0 for a directly attached route. */
  readonly gateway: number;
  readonly flags: number;
}

const RTF_UP = 0x1;

/** /proc/net/route prints each address as the hex of its in-memory u32, i.e. little-endian bytes. */
function routeWord(hex: string): number {
  const v = Number.parseInt(hex, 16);
  return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
}

/** Parses the text of /proc/net/route; malformed lines are skipped. Never throws. */
export function parseProcNetRoute(text: string): KernelRoute[] {
  const out: KernelRoute[] = [];
  for (const line of text.split('\n').slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8 || !/^[0-9A-Fa-f]{8}$/.test(f[1]!) || !/^[0-9A-Fa-f]{8}$/.test(f[7]!)) continue;
    out.push({ iface: f[0]!, destination: routeWord(f[1]!), gateway: routeWord(f[2] ?? '0'), flags: Number.parseInt(f[3] ?? '0', 16), mask: routeWord(f[7]!) });
  }
  return out;
}

/**
 * The interface of the up, directly attached host route (/32) to an IPv4
 * address, or undefined. Only a /32 counts: a broader route (a default
 * route, a node subnet) says nothing about which veth a pod sits behind.
 */
export function hostRouteInterface(ip: string, routes: readonly KernelRoute[]): string | undefined {
  let bytes: Uint8Array;
  try {
    bytes = parseIPBytes(ip);
  } catch {
    return undefined;
  }
  if (bytes.length !== 4) return undefined;
  const addr = ((bytes[0]! << 24) | (bytes[1]! << 16) | (bytes[2]! << 8) | bytes[3]!) >>> 0;
  for (const r of routes) {
    if (r.mask === 0xffffffff && r.destination === addr && r.gateway === 0 && (r.flags & RTF_UP) !== 0) return r.iface;
  }
  return undefined;
}

/** Looks a local pod's host-side interface up on this machine. */
export interface InterfaceResolver {
  /** The ifindex of an interface, or undefined when there is none by that name. */
  ifindex(name: string): number | undefined;
  /** The interface of the host route to an IP, or undefined. */
  routeInterface(ip: string): string | undefined;
}

/**
 * The resolver of this machine: /sys/class/net/<name>/ifindex and
 * /proc/net/route of the namespace the agent runs in, read on every call
 * (pods come and go). Never throws: unreadable means unknown.
 */
export const systemInterfaceResolver: InterfaceResolver = {
  ifindex(name) {
    if (!/^[^/\s]{1,15}$/.test(name) || name === '.' || name === '..') return undefined;
    try {
      const index = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
      return Number.isInteger(index) && index > 0 ? index : undefined;
    } catch {
      return undefined;
    }
  },
  routeInterface(ip) {
    try {
      return hostRouteInterface(ip, parseProcNetRoute(readFileSync('/proc/net/route', 'utf8')));
    } catch {
      return undefined;
    }
  },
};
