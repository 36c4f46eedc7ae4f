// The custom agent's own BPF map: a hash map from an IPv4 address (network
// order, as a datapath program would look up a packet's source) to
// struct rate_limit { __u32 packets_per_second; __u32 burst; }. Made with
// the kernel layer (no BPF object needed to create a map) and pinned, so it
// outlives the agent and a restart adopts it.
import { mkdirSync, statfsSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, MapType, TypedMap } from 'flagella/datapath';
import type { Codec, MapSpec } from 'flagella/datapath';
import { isIPv4 } from './rate-limits.js';

export interface RateLimitValue {
  readonly packetsPerSecond: number;
  readonly burst: number;
}

/** An IPv4 address as the 4 bytes of the key, network order. Throws RangeError for anything else. */
const ipv4KeyCodec: Codec<string> = {
  name: '__be32',
  size: 4,
  encode(ip, buf, o = 0) {
    if (!isIPv4(ip)) throw new RangeError(`"${ip}" is not an IPv4 address`);
    ip.split('.').forEach((p, i) => buf.writeUInt8(Number(p), o + i));
  },
  decode: (buf, o = 0) => `${buf[o]}.${buf[o + 1]}.${buf[o + 2]}.${buf[o + 3]}`,
};

/** struct rate_limit, little-endian as the CPU reads it. Throws RangeError for a value that is not a u32. */
const rateLimitCodec: Codec<RateLimitValue> = {
  name: 'struct rate_limit',
  size: 8,
  encode(v, buf, o = 0) {
    for (const [field, n] of [['packetsPerSecond', v.packetsPerSecond], ['burst', v.burst]] as const) {
      if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`${field} ${n} is not a u32`);
    }
    buf.writeUInt32LE(v.packetsPerSecond, o);
    buf.writeUInt32LE(v.burst, o + 4);
  },
  decode: (buf, o = 0) => ({ packetsPerSecond: buf.readUInt32LE(o), burst: buf.readUInt32LE(o + 4) }),
};

export const RATE_LIMIT_MAP: MapSpec<string, RateLimitValue> = {
  name: 'rate_limits',
  type: MapType.HASH,
  keySize: 4,
  valueSize: 8,
  maxEntries: 4096,
  flags: 0,
  pinning: 'by-name',
  keyType: '__be32',
  valueType: 'struct rate_limit',
  key: ipv4KeyCodec,
  value: rateLimitCodec,
};

const BPF_FS_MAGIC = 0xcafe4a11;

/** The pin root is not on a bpf filesystem: pins there would fail (or vanish). */
export class NotBpffsError extends Error {
  override readonly name = 'NotBpffsError';
}

/**
 * The map pinned at `<pinRoot>/rate_limits`: the existing one when it is
 * there (a restart adopts it, entries and all), else a new one, pinned.
 * Creates pinRoot (0700). Throws NotBpffsError when pinRoot is not on bpffs,
 * TypeError when the pinned map has another shape, BpfError otherwise.
 */
export function openRateLimitMap(pinRoot: string): TypedMap<string, RateLimitValue> {
  mkdirSync(pinRoot, { recursive: true, mode: 0o700 });
  if (statfsSync(pinRoot).type !== BPF_FS_MAGIC) {
    throw new NotBpffsError(`${pinRoot} is not on a bpf filesystem: mount one ("mount -t bpf bpf /sys/fs/bpf") and use a directory under it`);
  }
  const path = join(pinRoot, RATE_LIMIT_MAP.name);
  try {
    const map = TypedMap.openPinned(RATE_LIMIT_MAP, path);
    if (map.map.keySize !== RATE_LIMIT_MAP.keySize || map.map.valueSize !== RATE_LIMIT_MAP.valueSize) {
      map.close();
      throw new TypeError(`${path}: pinned map has key/value sizes ${map.map.keySize}/${map.map.valueSize}, expected 4/8: remove the pin`);
    }
    return map;
  } catch (e) {
    if (!(e instanceof BpfError) || e.errno !== 2) throw e; // anything but "no pin yet"
  }
  const map = TypedMap.create(RATE_LIMIT_MAP);
  try {
    map.map.pin(path);
  } catch (e) {
    map.close();
    throw e;
  }
  return map;
}
