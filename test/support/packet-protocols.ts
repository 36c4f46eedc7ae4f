// Frames beyond IPv4 TCP/UDP for datapath tests: ICMP (echo, errors quoting
// another packet), SCTP with its CRC32c, any other IPv4 protocol, IPv4
// fragments of a datagram, IPv6 (ICMPv6 with its checksum) and ARP; and
// checks that recompute every checksum from scratch.
import { ETH_HLEN, ETH_P_IP, ETH_P_IPV6, IPPROTO_ICMP, buildPacket, internetChecksum, ipBytes, onesComplementSum, parsePacket, type PacketSpec } from './packet.js';

export const IPPROTO_SCTP = 132;
export const IPPROTO_GRE = 47;
export const IPPROTO_ICMPV6 = 58;
export const ETH_P_ARP = 0x0806;

export const IcmpType = { ECHO_REPLY: 0, DEST_UNREACH: 3, ECHO: 8, TIME_EXCEEDED: 11, PARAMETER_PROBLEM: 12, TIMESTAMP: 13 } as const;
/** Destination-unreachable codes. */
export const IcmpCode = { PORT_UNREACH: 3, FRAG_NEEDED: 4 } as const;

type Ipv4Spec = Pick<PacketSpec, 'saddr' | 'daddr' | 'id' | 'ttl' | 'fragmentOffset' | 'moreFragments'>;

/** An ICMP message (8-byte header + body) with its checksum. */
export function icmpMessage(type: number, code: number, rest: number, body: Uint8Array = Buffer.alloc(0)): Buffer {
  const msg = Buffer.alloc(8 + body.length);
  msg[0] = type;
  msg[1] = code;
  msg.writeUInt32BE(rest >>> 0, 4);
  Buffer.from(body).copy(msg, 8);
  msg.writeUInt16BE(internetChecksum(msg), 2);
  return msg;
}

/** An echo request (type 8) or reply (type 0) with identifier and sequence. */
export function buildIcmpEcho(spec: Ipv4Spec & { reply?: boolean; ident: number; seq?: number; payload?: Uint8Array | string }): Buffer {
  const body = typeof spec.payload === 'string' ? Buffer.from(spec.payload) : Buffer.from(spec.payload ?? 'ping');
  const type = spec.reply ? IcmpType.ECHO_REPLY : IcmpType.ECHO;
  return buildPacket({ ...spec, proto: IPPROTO_ICMP, payload: icmpMessage(type, 0, (spec.ident << 16) | (spec.seq ?? 1), body) });
}

/** The part of a frame an ICMP error quotes: its IPv4 header and the first 8 bytes after it. */
export function quoteOf(frame: Uint8Array): Buffer {
  const p = parsePacket(frame);
  return Buffer.from(frame).subarray(ETH_HLEN, ETH_HLEN + p.ip.ihl + 8);
}

/** An ICMP error (destination unreachable, time exceeded, ...) quoting `quoted` (see quoteOf). */
export function buildIcmpError(spec: Ipv4Spec & { type: number; code?: number; quoted: Uint8Array; mtu?: number }): Buffer {
  return buildPacket({ ...spec, proto: IPPROTO_ICMP, payload: icmpMessage(spec.type, spec.code ?? 0, spec.mtu ?? 0, spec.quoted) });
}

/** Any other ICMP type, with a zero rest-of-header. */
export function buildIcmp(spec: Ipv4Spec & { type: number; code?: number; body?: Uint8Array }): Buffer {
  return buildPacket({ ...spec, proto: IPPROTO_ICMP, payload: icmpMessage(spec.type, spec.code ?? 0, 0, spec.body) });
}

// CRC32c (Castagnoli, reflected 0x82f63b78), as SCTP uses it (RFC 9260 appendix B).
const CRC32C_TABLE = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0x82f63b78 : c >>> 1;
  return c >>> 0;
});

export function crc32c(data: Uint8Array): number {
  let crc = 0xffffffff;
  for (const byte of data) crc = (CRC32C_TABLE[(crc ^ byte) & 0xff]! ^ (crc >>> 8)) >>> 0;
  return (crc ^ 0xffffffff) >>> 0;
}

/** An SCTP packet: common header with its CRC32c and one DATA chunk carrying `payload`. */
export function buildSctp(spec: Ipv4Spec & { sport: number; dport: number; vtag?: number; payload?: string }): Buffer {
  const data = Buffer.from(spec.payload ?? 'sctp');
  const chunkLen = 16 + data.length;
  const sctp = Buffer.alloc(12 + chunkLen + ((4 - (chunkLen % 4)) % 4));
  sctp.writeUInt16BE(spec.sport, 0);
  sctp.writeUInt16BE(spec.dport, 2);
  sctp.writeUInt32BE(spec.vtag ?? 0x01020304, 4);
  sctp[12] = 0; // DATA
  sctp[13] = 0x03; // B and E: one whole message
  sctp.writeUInt16BE(chunkLen, 14);
  sctp.writeUInt32BE(1, 16); // TSN
  data.copy(sctp, 28);
  // The CRC is stored little-endian (RFC 9260 appendix B).
  sctp.writeUInt32LE(crc32c(sctp), 8);
  return buildPacket({ ...spec, proto: IPPROTO_SCTP, payload: sctp });
}

/** The SCTP CRC32c of a frame is what its bytes say it should be. */
export function sctpChecksumValid(frame: Uint8Array): boolean {
  const p = parsePacket(frame);
  const sctp = Buffer.from(Buffer.from(frame).subarray(ETH_HLEN + p.ip.ihl, ETH_HLEN + p.ip.totalLength));
  const stored = sctp.readUInt32LE(8);
  sctp.writeUInt32LE(0, 8);
  return crc32c(sctp) === stored;
}

/** A packet of any IPv4 protocol with an opaque payload (e.g. GRE). */
export function buildRawIpv4(spec: Ipv4Spec & { proto: number; payload?: Uint8Array }): Buffer {
  return buildPacket({ ...spec, payload: spec.payload ?? Buffer.from([0, 0, 0x08, 0x00, 1, 2, 3, 4]) });
}

/**
 * Splits an unfragmented IPv4 frame into fragments whose payloads hold at
 * most `chunk` bytes (a multiple of 8), as a router would: each with its own
 * header and checksum, the same id, offsets in 8-byte units, MF on all but
 * the last.
 */
export function fragment(frame: Uint8Array, chunk: number): Buffer[] {
  if (chunk % 8 !== 0 || chunk <= 0) throw new Error('fragment payloads must be a positive multiple of 8 bytes');
  const buf = Buffer.from(frame);
  const ihl = (buf[ETH_HLEN]! & 0x0f) * 4;
  const totalLength = buf.readUInt16BE(ETH_HLEN + 2);
  const payload = buf.subarray(ETH_HLEN + ihl, ETH_HLEN + totalLength);
  const out: Buffer[] = [];
  for (let off = 0; off < payload.length; off += chunk) {
    const part = payload.subarray(off, off + chunk);
    const head = Buffer.from(buf.subarray(0, ETH_HLEN + ihl));
    const more = off + chunk < payload.length;
    head.writeUInt16BE(ihl + part.length, ETH_HLEN + 2);
    head.writeUInt16BE(((more ? 1 : 0) << 13) | (off / 8), ETH_HLEN + 6);
    head.writeUInt16BE(0, ETH_HLEN + 10);
    head.writeUInt16BE(internetChecksum(head.subarray(ETH_HLEN, ETH_HLEN + ihl)), ETH_HLEN + 10);
    out.push(Buffer.concat([head, part]));
  }
  return out;
}

/** An IPv6 address (full or with ::) to its 16 bytes. */
export function ipv6Bytes(addr: string): Buffer {
  const [head = '', tail] = addr.split('::');
  const words = (s: string) => (s === '' ? [] : s.split(':').map((w) => parseInt(w, 16)));
  const h = words(head);
  const t = tail === undefined ? [] : words(tail);
  const all = tail === undefined ? h : [...h, ...Array<number>(8 - h.length - t.length).fill(0), ...t];
  if (all.length !== 8 || all.some((w) => !Number.isInteger(w) || w < 0 || w > 0xffff)) throw new Error(`not an IPv6 address: ${addr}`);
  const out = Buffer.alloc(16);
  all.forEach((w, i) => out.writeUInt16BE(w, i * 2));
  return out;
}

function ethernet(type: number): Buffer {
  const eth = Buffer.from([0x02, 0, 0, 0, 0, 0x02, 0x02, 0, 0, 0, 0, 0x01, 0, 0]);
  eth.writeUInt16BE(type, 12);
  return eth;
}

export interface Ipv6Spec {
  saddr: string;
  daddr: string;
  nextHeader: number;
  payload: Uint8Array;
  hopLimit?: number;
}

export function buildIpv6(spec: Ipv6Spec): Buffer {
  const ip = Buffer.alloc(40);
  ip.writeUInt32BE(0x60000000, 0);
  ip.writeUInt16BE(spec.payload.length, 4);
  ip[6] = spec.nextHeader;
  ip[7] = spec.hopLimit ?? 64;
  ipv6Bytes(spec.saddr).copy(ip, 8);
  ipv6Bytes(spec.daddr).copy(ip, 24);
  return Buffer.concat([ethernet(ETH_P_IPV6), ip, Buffer.from(spec.payload)]);
}

function icmpv6PseudoSum(saddr: string, daddr: string, length: number): number {
  const ph = Buffer.alloc(40);
  ipv6Bytes(saddr).copy(ph, 0);
  ipv6Bytes(daddr).copy(ph, 16);
  ph.writeUInt32BE(length, 32);
  ph[39] = IPPROTO_ICMPV6;
  return onesComplementSum(ph);
}

/** An ICMPv6 message (type, code, 4 bytes of rest, body) with its checksum over the IPv6 pseudo-header. */
export function buildIcmpv6(spec: { saddr: string; daddr: string; type: number; code?: number; body?: Uint8Array; hopLimit?: number }): Buffer {
  const body = Buffer.from(spec.body ?? Buffer.alloc(20));
  const msg = Buffer.alloc(8 + body.length);
  msg[0] = spec.type;
  msg[1] = spec.code ?? 0;
  body.copy(msg, 8);
  msg.writeUInt16BE(internetChecksum(msg, icmpv6PseudoSum(spec.saddr, spec.daddr, msg.length)), 2);
  return buildIpv6({ saddr: spec.saddr, daddr: spec.daddr, nextHeader: IPPROTO_ICMPV6, payload: msg, hopLimit: spec.hopLimit ?? 255 });
}

/** The ICMPv6 checksum of an IPv6 frame (ICMPv6 right after the fixed header) is valid. */
export function icmpv6ChecksumValid(frame: Uint8Array): boolean {
  const buf = Buffer.from(frame);
  const saddr = buf.subarray(ETH_HLEN + 8, ETH_HLEN + 24);
  const daddr = buf.subarray(ETH_HLEN + 24, ETH_HLEN + 40);
  const msg = buf.subarray(ETH_HLEN + 40, ETH_HLEN + 40 + buf.readUInt16BE(ETH_HLEN + 4));
  const ph = Buffer.alloc(40);
  saddr.copy(ph, 0);
  daddr.copy(ph, 16);
  ph.writeUInt32BE(msg.length, 32);
  ph[39] = IPPROTO_ICMPV6;
  return onesComplementSum(msg, onesComplementSum(ph)) === 0xffff;
}

/** An ARP request: who has `target`? tell `sender`. */
export function buildArpRequest(sender: string, target: string): Buffer {
  const arp = Buffer.alloc(28);
  arp.writeUInt16BE(1, 0); // Ethernet
  arp.writeUInt16BE(ETH_P_IP, 2);
  arp[4] = 6;
  arp[5] = 4;
  arp.writeUInt16BE(1, 6); // request
  Buffer.from([0x02, 0, 0, 0, 0, 0x01]).copy(arp, 8);
  ipBytes(sender).copy(arp, 14);
  ipBytes(target).copy(arp, 24);
  const eth = ethernet(ETH_P_ARP);
  eth.fill(0xff, 0, 6);
  return Buffer.concat([eth, arp]);
}

/** The ICMP checksum of an unfragmented IPv4 frame is valid. */
export function icmpChecksumValid(frame: Uint8Array): boolean {
  const p = parsePacket(frame);
  const msg = Buffer.from(frame).subarray(ETH_HLEN + p.ip.ihl, ETH_HLEN + p.ip.totalLength);
  return onesComplementSum(msg) === 0xffff;
}
