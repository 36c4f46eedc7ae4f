// NodePort (and HostPort on an unspecified address) frontends are stored as
// one surrogate on 0.0.0.0 / :: and expanded to the node's addresses when
// reconciled, so a node address change touches no frontend row.
import { compareBytes, ipFamily } from '../net/ip-address.js';
import type { FrontendParams } from './frontend.js';
import { l3n4AddrKey, type L3n4Addr } from './l3n4-addr.js';
import type { NodeAddress } from './node-address.js';

/** True for the NodePort/HostPort surrogate address `0.0.0.0` or `::`. */
export function isSurrogateAddress(addr: L3n4Addr): boolean {
  return addr.ip === '0.0.0.0' || addr.ip === '::';
}

/**
 * The frontends a surrogate stands for: one clone per node address of the
 * same family flagged nodePort, with that address, sorted by address key.
 * Addresses for which `isOwned` returns true (a LoadBalancer or ExternalIPs
 * frontend already on that ip:port) are skipped. A frontend that is not a
 * NodePort/HostPort surrogate expands to nothing. Pure; never throws.
 */
export function expandNodePort(
  frontend: FrontendParams,
  nodeAddresses: Iterable<NodeAddress>,
  isOwned: (addr: L3n4Addr) => boolean = () => false,
): FrontendParams[] {
  if ((frontend.type !== 'NodePort' && frontend.type !== 'HostPort') || !isSurrogateAddress(frontend.address)) return [];
  const family = ipFamily(frontend.address.ip);
  const seen = new Set<string>();
  const out: { key: Uint8Array; fe: FrontendParams }[] = [];
  for (const node of nodeAddresses) {
    if (!node.nodePort || ipFamily(node.ip) !== family || seen.has(node.ip)) continue;
    seen.add(node.ip);
    const address: L3n4Addr = { ...frontend.address, ip: node.ip };
    if (isOwned(address)) continue;
    out.push({ key: l3n4AddrKey(address), fe: { ...frontend, address } });
  }
  return out.sort((a, b) => compareBytes(a.key, b.key)).map((e) => e.fe);
}
