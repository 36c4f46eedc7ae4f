// Interface names of the devices the datapath is attached to, by ifindex,
// read from the link pins (<pin root>/links/<netns>:<ifname>:<hook>). The
// pins name the device in the agent's namespace, so this works where the
// reader's own namespace has other (or no) interfaces by those indexes.
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { BpfLink } from '../kernel/index.js';

/**
 * ifindex -> interface name for every pinned link under `pinRoot` (empty
 * when there are none). Links that cannot be read are skipped: names are
 * a convenience for output. Never throws.
 */
export function attachedDeviceNames(pinRoot: string): Map<number, string> {
  const names = new Map<number, string>();
  let pins: string[];
  try {
    pins = readdirSync(join(pinRoot, 'links'));
  } catch {
    return names;
  }
  for (const pin of pins) {
    const parts = pin.split(':');
    const ifname = parts.length >= 3 ? parts[parts.length - 2]! : undefined;
    if (ifname === undefined || ifname === '') continue;
    try {
      const link = BpfLink.openPinned(join(pinRoot, 'links', pin));
      try {
        const ifindex = link.info().ifindex;
        if (ifindex !== undefined && ifindex > 0) names.set(ifindex, ifname);
      } finally {
        link.close();
      }
    } catch {
      /* unreadable pin: no name */
    }
  }
  return names;
}
