// Ethernet / IPv4 / TCP / UDP packets for datapath tests: a builder, a
// parser, and an independent full checksum computation (RFC 1071 sums over
// the whole header or pseudo-header + segment, never incremental), so every
// checksum a program rewrites can be verified from scratch.

export const ETH_HLEN = 14;
export const ETH_P_IP = 0x0800;
export const ETH_P_IPV6 = 0x86dd;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_ICMP = 1;

export const TcpFlag = { FIN: 0x01, SYN: 0x02, RST: 0x04, PSH: 0x08, ACK: 0x10 } as const;

export type L4Proto = 'tcp' | 'udp';

export interface PacketSpec {
  saddr: string;
  daddr: string;
  proto: L4Proto | number;
  sport?: number;
  dport?: number;
  /** TCP flags; default SYN. */
  tcpFlags?: number;
  payload?: Uint8Array | string;
  ttl?: number;
  id?: number;
  /** IPv4 options, padded by the caller to a multiple of 4 bytes. */
  ipOptions?: Uint8Array;
  /** Fragment offset in 8-byte units. */
  fragmentOffset?: number;
  moreFragments?: boolean;
  /** UDP only: send a zero (absent) checksum. */
  udpNoChecksum?: boolean;
  srcMac?: string;
  dstMac?: string;
}

/** Dotted quad to the 4 bytes of the address (network order). */
export function ipBytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new Error(`not an IPv4 address: ${ip}`);
  }
  return Buffer.from(parts);
}

export function ipString(bytes: Uint8Array, offset = 0): string {
  return `${bytes[offset]}.${bytes[offset + 1]}.${bytes[offset + 2]}.${bytes[offset + 3]}`;
}

function macBytes(mac: string): Buffer {
  return Buffer.from(mac.split(':').map((h) => parseInt(h, 16)));
}

function protoNumber(proto: L4Proto | number): number {
  if (proto === 'tcp') return IPPROTO_TCP;
  if (proto === 'udp') return IPPROTO_UDP;
  return proto;
}

/** RFC 1071 one's-complement sum of 16-bit big-endian words, not inverted. */
export function onesComplementSum(data: Uint8Array, initial = 0): number {
  let sum = initial;
  for (let i = 0; i + 1 < data.length; i += 2) sum += (data[i]! << 8) | data[i + 1]!;
  if (data.length % 2 === 1) sum += data[data.length - 1]! << 8;
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  return sum;
}

export function internetChecksum(data: Uint8Array, initial = 0): number {
  return ~onesComplementSum(data, initial) & 0xffff;
}

function pseudoHeaderSum(saddr: Uint8Array, daddr: Uint8Array, proto: number, l4Length: number): number {
  const ph = Buffer.alloc(12);
  Buffer.from(saddr).copy(ph, 0);
  Buffer.from(daddr).copy(ph, 4);
  ph[9] = proto;
  ph.writeUInt16BE(l4Length, 10);
  return onesComplementSum(ph);
}

/** Builds a full frame with correct lengths and checksums. */
export function buildPacket(spec: PacketSpec): Buffer {
  const proto = protoNumber(spec.proto);
  const payload = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : Buffer.from(spec.payload ?? []);
  const options = Buffer.from(spec.ipOptions ?? []);
  if (options.length % 4 !== 0 || options.length > 40) throw new Error('IPv4 options must be 0..40 bytes, a multiple of 4');
  const ipHeaderLen = 20 + options.length;
  let l4: Buffer;
  if (proto === IPPROTO_TCP) {
    l4 = Buffer.alloc(20 + payload.length);
    l4.writeUInt16BE(spec.sport ?? 40000, 0);
    l4.writeUInt16BE(spec.dport ?? 80, 2);
    l4.writeUInt32BE(0x01020304, 4); // seq
    l4.writeUInt32BE((spec.tcpFlags ?? TcpFlag.SYN) & TcpFlag.ACK ? 0x0a0b0c0d : 0, 8);
    l4[12] = 5 << 4;
    l4[13] = spec.tcpFlags ?? TcpFlag.SYN;
    l4.writeUInt16BE(64240, 14);
    payload.copy(l4, 20);
  } else if (proto === IPPROTO_UDP) {
    l4 = Buffer.alloc(8 + payload.length);
    l4.writeUInt16BE(spec.sport ?? 40000, 0);
    l4.writeUInt16BE(spec.dport ?? 53, 2);
    l4.writeUInt16BE(l4.length, 4);
    payload.copy(l4, 8);
  } else {
    l4 = payload;
  }
  const saddr = ipBytes(spec.saddr);
  const daddr = ipBytes(spec.daddr);
  const fragmented = (spec.fragmentOffset ?? 0) !== 0 || spec.moreFragments === true;
  if (!fragmented || (spec.fragmentOffset ?? 0) === 0) {
    if (proto === IPPROTO_TCP) {
      l4.writeUInt16BE(internetChecksum(l4, pseudoHeaderSum(saddr, daddr, proto, l4.length)), 16);
    } else if (proto === IPPROTO_UDP && !spec.udpNoChecksum) {
      const sum = internetChecksum(l4, pseudoHeaderSum(saddr, daddr, proto, l4.length));
      l4.writeUInt16BE(sum === 0 ? 0xffff : sum, 6);
    }
  }
  const ip = Buffer.alloc(ipHeaderLen);
  ip[0] = 0x40 | (ipHeaderLen / 4);
  ip.writeUInt16BE(ipHeaderLen + l4.length, 2);
  ip.writeUInt16BE(spec.id ?? 0x1234, 4);
  ip.writeUInt16BE(((spec.moreFragments ? 1 : 0) << 13) | (spec.fragmentOffset ?? 0), 6);
  ip[8] = spec.ttl ?? 64;
  ip[9] = proto;
  saddr.copy(ip, 12);
  daddr.copy(ip, 16);
  options.copy(ip, 20);
  ip.writeUInt16BE(internetChecksum(ip), 10);
  const eth = Buffer.alloc(ETH_HLEN);
  macBytes(spec.dstMac ?? '02:00:00:00:00:02').copy(eth, 0);
  macBytes(spec.srcMac ?? '02:00:00:00:00:01').copy(eth, 6);
  eth.writeUInt16BE(ETH_P_IP, 12);
  return Buffer.concat([eth, ip, l4]);
}

export interface ParsedPacket {
  ethType: number;
  ip: {
    ihl: number;
    totalLength: number;
    id: number;
    fragmentOffset: number;
    moreFragments: boolean;
    ttl: number;
    proto: number;
    check: number;
    saddr: string;
    daddr: string;
  };
  /** Present for unfragmented (or first-fragment) TCP and UDP. */
  l4?: { sport: number; dport: number; check: number; tcpFlags?: number };
  payload: Buffer;
}

/** Parses a frame built for IPv4; throws on anything shorter than its headers. */
export function parsePacket(frame: Uint8Array): ParsedPacket {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  if (buf.length < ETH_HLEN + 20) throw new Error(`frame too short for Ethernet + IPv4: ${buf.length} bytes`);
  const ethType = buf.readUInt16BE(12);
  const ipOff = ETH_HLEN;
  const ihl = (buf[ipOff]! & 0x0f) * 4;
  const fragWord = buf.readUInt16BE(ipOff + 6);
  const ip = {
    ihl,
    totalLength: buf.readUInt16BE(ipOff + 2),
    id: buf.readUInt16BE(ipOff + 4),
    fragmentOffset: fragWord & 0x1fff,
    moreFragments: (fragWord & 0x2000) !== 0,
    ttl: buf[ipOff + 8]!,
    proto: buf[ipOff + 9]!,
    check: buf.readUInt16BE(ipOff + 10),
    saddr: ipString(buf, ipOff + 12),
    daddr: ipString(buf, ipOff + 16),
  };
  const l4Off = ipOff + ihl;
  let l4: ParsedPacket['l4'];
  let payloadOff = l4Off;
  if (ip.fragmentOffset === 0 && ip.proto === IPPROTO_TCP && buf.length >= l4Off + 20) {
    l4 = {
      sport: buf.readUInt16BE(l4Off),
      dport: buf.readUInt16BE(l4Off + 2),
      check: buf.readUInt16BE(l4Off + 16),
      tcpFlags: buf[l4Off + 13]!,
    };
    payloadOff = l4Off + (buf[l4Off + 12]! >> 4) * 4;
  } else if (ip.fragmentOffset === 0 && ip.proto === IPPROTO_UDP && buf.length >= l4Off + 8) {
    l4 = { sport: buf.readUInt16BE(l4Off), dport: buf.readUInt16BE(l4Off + 2), check: buf.readUInt16BE(l4Off + 6) };
    payloadOff = l4Off + 8;
  }
  return { ethType, ip, l4, payload: buf.subarray(payloadOff, ETH_HLEN + ip.totalLength) };
}

export interface ChecksumVerdict {
  ip: boolean;
  /** 'absent' for a UDP datagram without checksum; undefined when not TCP/UDP or a fragment. */
  l4?: boolean | 'absent';
}

/** Recomputes every checksum of the frame from scratch and compares. */
export function verifyChecksums(frame: Uint8Array): ChecksumVerdict {
  const buf = Buffer.from(frame.buffer, frame.byteOffset, frame.byteLength);
  const p = parsePacket(buf);
  const ipHeader = buf.subarray(ETH_HLEN, ETH_HLEN + p.ip.ihl);
  const verdict: ChecksumVerdict = { ip: onesComplementSum(ipHeader) === 0xffff };
  if (!p.l4 || p.ip.moreFragments) return verdict;
  const segment = buf.subarray(ETH_HLEN + p.ip.ihl, ETH_HLEN + p.ip.totalLength);
  if (p.ip.proto === IPPROTO_UDP && p.l4.check === 0) return { ...verdict, l4: 'absent' };
  const sum = onesComplementSum(segment, pseudoHeaderSum(ipBytes(p.ip.saddr), ipBytes(p.ip.daddr), p.ip.proto, segment.length));
  return { ...verdict, l4: sum === 0xffff };
}
