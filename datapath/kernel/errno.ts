// errno numbers to names and to what they mean for each bpf operation, so an
// error can say `map update flg_lb4_services: E2BIG (map full)`.
import { constants } from 'node:os';

const names = new Map<number, string>();
for (const [name, value] of Object.entries(constants.errno)) {
  // EWOULDBLOCK/EAGAIN and EDEADLOCK/EDEADLK share numbers: keep the common name.
  if (!names.has(value) || name === 'EAGAIN' || name === 'EDEADLK' || name === 'EOPNOTSUPP') names.set(value, name);
}
// Kernel-internal codes that bpf(2) can leak to user space.
for (const [value, name] of [
  [77, 'EBADFD'],
  [524, 'ENOTSUPP'],
] as const) {
  if (!names.has(value)) names.set(value, name);
}
names.set(512, 'ERESTARTSYS');

export const errnoValue = constants.errno;

/** `E2BIG` for 7; `errno 600` for numbers Node does not know. */
export function errnoName(errno: number): string {
  return names.get(errno) ?? `errno ${errno}`;
}

const generic: Record<string, string> = {
  EPERM: 'operation not permitted: missing privilege, run as root or with CAP_BPF and CAP_NET_ADMIN',
  EACCES: 'permission denied: missing privilege or refused by the verifier',
  ENOENT: 'no such entry',
  EBADF: 'bad file descriptor (object closed or never opened)',
  EBADFD: 'bad file descriptor (object closed or never opened)',
  EINVAL: 'invalid argument',
  ENOMEM: 'out of memory (check the memory cgroup limit)',
  E2BIG: 'too big',
  EEXIST: 'already exists',
  EBUSY: 'busy',
  EFAULT: 'bad address',
  ENOSPC: 'no space',
  ENODEV: 'no such device',
  ENOTSUPP: 'not supported by this kernel',
  EOPNOTSUPP: 'not supported by this kernel',
  ENOSYS: 'not implemented by this kernel',
  EINTR: 'interrupted',
  EAGAIN: 'try again',
};

// What an errno means for one operation, where it differs from the generic text.
const perOp: Record<string, Record<string, string>> = {
  'map update': { E2BIG: 'map full', EEXIST: 'key exists, NOEXIST given', ENOENT: 'no such key, EXIST given', EINVAL: 'invalid argument: bad flags or sizes' },
  'map batch update': { E2BIG: 'map full', EEXIST: 'key exists, NOEXIST given', ENOENT: 'no such key, EXIST given' },
  'map lookup': { ENOENT: 'no such key' },
  'map delete': { ENOENT: 'no such key', EINVAL: 'invalid argument: maps of this type cannot delete' },
  'map batch delete': { ENOENT: 'no such key' },
  'map lookup and delete': { ENOENT: 'no such key' },
  'map get next key': { ENOENT: 'no more keys' },
  'map batch lookup': { ENOSPC: 'a bucket holds more entries than the batch' },
  'map create': { EINVAL: 'invalid map definition (type, sizes or flags)', ENOMEM: 'out of memory creating the map (check the memory cgroup limit)' },
  'obj get': { ENOENT: 'no such pin', EPERM: 'not a bpf filesystem or missing privilege', EACCES: 'pin not readable by this user' },
  'obj pin': { EEXIST: 'a pin with this path already exists', ENOENT: 'the pin directory does not exist', EPERM: 'path is not on a bpf filesystem or missing privilege' },
  'prog load': { EACCES: 'rejected by the verifier', EINVAL: 'rejected by the verifier or invalid attributes' },
  'object load': { EACCES: 'rejected by the verifier', EINVAL: 'invalid object or rejected by the verifier' },
  'link create': { ENODEV: 'no such interface', EEXIST: 'a program is already attached in this mode', EBUSY: 'a program is already attached in another mode', EINVAL: 'attach type unsupported for this program or interface' },
  'link update': { EPERM: 'old program mismatch or missing privilege', EINVAL: 'program type does not match the link' },
  'link detach': { ENOLINK: 'link already detached' },
};

/** Op-specific meaning of an errno, falling back to a generic description. */
export function errnoMeaning(op: string, code: string): string {
  const family = /^(map|prog|link) pin$/.test(op) ? 'obj pin' : op;
  return perOp[op]?.[code] ?? perOp[family]?.[code] ?? generic[code] ?? code.toLowerCase();
}
