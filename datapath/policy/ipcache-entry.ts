// ipcache rows as flg_ipcache entries (reference §7.10): an IP prefix keyed
// behind the 32 static bits (cluster id, pad, family), mapped to the
// prefix's security identity. Pure: no kernel access.
import { parsePrefix, parseIPBytes, type Prefix } from '../../tables/index.js';
import type { IpcacheKey, RemoteEndpointInfo } from '../maps/layouts.generated.js';

/** Mirrors of bpf/include/flagella/maps.h. */
export const IPCACHE_FAMILY_IPV4 = 1;
export const IPCACHE_FAMILY_IPV6 = 2;
export const IPCACHE_STATIC_PREFIX = 32;

/** The flg_ipcache key of a prefix (`10.0.0.0/8`, `10.1.2.3/32`, `fd00::/64`). Throws InvalidAddressError. */
export function ipcacheKey(prefix: string | Prefix): IpcacheKey {
  const p = typeof prefix === 'string' ? parsePrefix(prefix) : prefix;
  const bytes = Buffer.alloc(16);
  Buffer.from(parseIPBytes(p.ip)).copy(bytes, 0);
  const ip = [0, 4, 8, 12].map((o) => bytes.readUInt32BE(o));
  return { prefixlen: IPCACHE_STATIC_PREFIX + p.bits, clusterId: 0, family: p.family === 4 ? IPCACHE_FAMILY_IPV4 : IPCACHE_FAMILY_IPV6, ip };
}

/** The canonical prefix text of an flg_ipcache key (inverse of ipcacheKey). */
export function ipcacheKeyPrefix(key: IpcacheKey): string {
  const bytes = Buffer.alloc(16);
  key.ip.forEach((word, i) => bytes.writeUInt32BE(word >>> 0, i * 4));
  const bits = key.prefixlen - IPCACHE_STATIC_PREFIX;
  if (key.family === IPCACHE_FAMILY_IPV4) return `${bytes[0]}.${bytes[1]}.${bytes[2]}.${bytes[3]}/${bits}`;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push(bytes.readUInt16BE(i).toString(16));
  return `${parsePrefix(`${groups.join(':')}/${bits}`).ip}/${bits}`;
}

/** The flg_ipcache value for an identity (no tunnel, no encryption). */
export function ipcacheValue(identity: number): RemoteEndpointInfo {
  return { secIdentity: identity, tunnelEndpoint: [0, 0, 0, 0], key: 0, flags: 0 };
}
