// This node's addresses (what NodePort services answer on and what the
// policy datapath knows as "host"): from --node-addresses, otherwise the
// IPv4 addresses of the --devices, read from the kernel of the namespace
// the agent runs in (os.networkInterfaces, no shelling out; /sys would show
// the namespace that mounted it, not ours).
import { networkInterfaces } from 'node:os';
import { canonicalIP, ipFamily, type NodeAddress } from '../../tables/index.js';

/** Explicit addresses: the first of each family is primary; the device is unknown. */
export function explicitNodeAddresses(ips: readonly string[]): NodeAddress[] {
  const families = new Set<number>();
  return ips.map((ip) => {
    const family = ipFamily(ip);
    const primary = !families.has(family);
    families.add(family);
    return { ip: canonicalIP(ip), nodePort: true, primary, device: '' };
  });
}

/**
 * The IPv4 addresses of `devices`, in device order (the first is primary).
 * A device without an IPv4 address contributes nothing.
 */
export function deviceNodeAddresses(devices: readonly string[], interfaces = networkInterfaces()): NodeAddress[] {
  const out: NodeAddress[] = [];
  const seen = new Set<string>();
  for (const device of devices) {
    for (const info of interfaces[device] ?? []) {
      if (info.family !== 'IPv4' || info.internal || seen.has(info.address)) continue;
      seen.add(info.address);
      out.push({ ip: info.address, nodePort: true, primary: out.length === 0, device });
    }
  }
  return out;
}
