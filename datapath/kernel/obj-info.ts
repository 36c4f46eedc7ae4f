// OBJ_GET_INFO_BY_FD for maps, programs and links, decoded into plain objects.
import { arena, ARENA_ADDR, bpfSyscall, INFO_MAX, INFO_OFFSET, putU32, putU64, zeroAttr } from './attr-arena.js';
import { BpfCmd, linkTypeName, mapTypeName, progTypeName } from './bpf-constants.js';
import { BpfError } from './bpf-error.js';

export interface MapInfo {
  type: number;
  typeName: string;
  id: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  /** Kernel name: at most 15 characters. */
  name: string;
  ifindex: number;
  btfId: number;
  mapExtra: bigint;
}

export interface ProgInfo {
  type: number;
  typeName: string;
  id: number;
  /** Hex of the 8-byte program tag (hash of the instructions). */
  tag: string;
  name: string;
  loadTime: bigint;
  createdByUid: number;
  mapCount: number;
  btfId: number;
  runTimeNs: bigint;
  runCount: bigint;
  verifiedInsns: number;
}

export interface LinkInfo {
  type: number;
  typeName: string;
  id: number;
  progId: number;
  /** XDP and tcx links: the interface. */
  ifindex?: number;
  /** tcx links: 46 ingress or 47 egress. */
  attachType?: number;
}

const INFO_CMD_SIZE = 16;
const MAP_INFO_SIZE = 104;
const PROG_INFO_SIZE = 232;
const LINK_INFO_SIZE = 64;

function fetchInfo(fd: number, size: number, what: string, object: string): void {
  arena.fill(0, INFO_OFFSET, INFO_OFFSET + INFO_MAX);
  zeroAttr(INFO_CMD_SIZE);
  putU32(0, fd);
  putU32(4, size);
  putU64(8, ARENA_ADDR + INFO_OFFSET);
  const ret = bpfSyscall(BpfCmd.OBJ_GET_INFO_BY_FD, INFO_CMD_SIZE);
  if (ret < 0) throw new BpfError(`${what} info`, object, -ret);
}

function cString(offset: number, max: number): string {
  const end = arena.indexOf(0, offset);
  return arena.toString('utf8', offset, end < 0 || end > offset + max ? offset + max : end);
}

const at = (o: number): number => arena.readUInt32LE(INFO_OFFSET + o);

/** Kernel's view of a map fd. Throws BpfError (EBADF, EINVAL for a non-map fd). */
export function mapInfoByFd(fd: number, object = ''): MapInfo {
  fetchInfo(fd, MAP_INFO_SIZE, 'map', object);
  const type = at(0);
  return {
    type,
    typeName: mapTypeName(type),
    id: at(4),
    keySize: at(8),
    valueSize: at(12),
    maxEntries: at(16),
    flags: at(20),
    name: cString(INFO_OFFSET + 24, 16),
    ifindex: at(40),
    btfId: at(64),
    mapExtra: arena.readBigUInt64LE(INFO_OFFSET + 80),
  };
}

/** Kernel's view of a program fd. Throws BpfError. */
export function progInfoByFd(fd: number, object = ''): ProgInfo {
  fetchInfo(fd, PROG_INFO_SIZE, 'prog', object);
  const type = at(0);
  return {
    type,
    typeName: progTypeName(type),
    id: at(4),
    tag: arena.toString('hex', INFO_OFFSET + 8, INFO_OFFSET + 16),
    name: cString(INFO_OFFSET + 64, 16),
    loadTime: arena.readBigUInt64LE(INFO_OFFSET + 40),
    createdByUid: at(48),
    mapCount: at(52),
    btfId: at(128),
    runTimeNs: arena.readBigUInt64LE(INFO_OFFSET + 192),
    runCount: arena.readBigUInt64LE(INFO_OFFSET + 200),
    verifiedInsns: at(216),
  };
}

/** Kernel's view of a link fd. Throws BpfError. */
export function linkInfoByFd(fd: number, object = ''): LinkInfo {
  fetchInfo(fd, LINK_INFO_SIZE, 'link', object);
  const type = at(0);
  const info: LinkInfo = { type, typeName: linkTypeName(type), id: at(4), progId: at(8) };
  if (info.typeName === 'XDP') info.ifindex = at(16);
  if (info.typeName === 'TCX') {
    info.ifindex = at(16);
    info.attachType = at(20);
  }
  return info;
}
