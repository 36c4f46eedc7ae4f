// bpffs pins (OBJ_PIN / OBJ_GET) and fd ownership, shared by maps, programs and links.
import { bpfSyscall, putPath, putU32, putU64, zeroAttr } from './attr-arena.js';
import { BpfCmd } from './bpf-constants.js';
import { BpfError } from './bpf-error.js';
import { lastErrno, libc } from './libc.js';

const OBJ_ATTR_SIZE = 16;

/** Open flags for OBJ_GET and *_GET_FD_BY_ID. */
export const OpenFlag = { RDONLY: 1 << 3, WRONLY: 1 << 4 } as const;

/**
 * Pins fd at path (on a bpf filesystem). Throws BpfError: EEXIST when the path is taken,
 * ENOENT when the directory is missing, EPERM when the path is not on bpffs.
 */
export function objPin(fd: number, path: string, kind: string, object: string): void {
  zeroAttr(OBJ_ATTR_SIZE);
  putU64(0, putPath(path));
  putU32(8, fd);
  const ret = bpfSyscall(BpfCmd.OBJ_PIN, OBJ_ATTR_SIZE);
  if (ret < 0) throw new BpfError(`${kind} pin`, object, -ret, { detail: path });
}

/** Opens a pinned object and returns a new fd. Throws BpfError (ENOENT: no such pin). */
export function objGet(path: string, kind: string, flags = 0): number {
  zeroAttr(OBJ_ATTR_SIZE);
  putU64(0, putPath(path));
  putU32(12, flags);
  const ret = bpfSyscall(BpfCmd.OBJ_GET, OBJ_ATTR_SIZE);
  if (ret < 0) throw new BpfError('obj get', `${kind} ${path}`, -ret);
  return ret;
}

/** Opens an object by kernel id (MAP/PROG/LINK_GET_FD_BY_ID). Throws BpfError (ENOENT: no such id). */
export function fdById(cmd: number, id: number, kind: string, flags = 0): number {
  zeroAttr(12);
  putU32(0, id);
  putU32(8, flags);
  const ret = bpfSyscall(cmd, 12);
  if (ret < 0) throw new BpfError(`${kind} get fd by id`, String(id), -ret);
  return ret;
}

/** Closes an fd we own; errors are ignored (close is not retried on Linux). */
export function closeFd(fd: number): void {
  if (fd >= 0) libc().close(fd);
}

/** Duplicates an fd (close-on-exec) so its owner can close the original independently. */
export function dupFd(fd: number, kind: string, object: string): number {
  const dup = libc().dupCloexec(fd);
  if (dup < 0) throw new BpfError(`${kind} dup`, object, lastErrno());
  return dup;
}
