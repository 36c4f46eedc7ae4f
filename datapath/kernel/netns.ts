// Running code inside another network namespace, on the main thread.
//
// setns(CLONE_NEWNET) switches only the calling thread's network namespace and keeps
// its mount namespace, so /sys/fs/bpf stays visible (unlike `ip netns exec`). The
// callback must be synchronous: libuv and koffi async work run on other threads that
// stay in the original namespace.
import { closeSync, openSync } from 'node:fs';
import { BpfError } from './bpf-error.js';
import { CLONE_NEWNET, lastErrno, libc } from './libc.js';

/** `/var/run/netns/<name>` for a bare name; a value containing '/' is used as a path. */
export function netnsPath(nameOrPath: string): string {
  return nameOrPath.includes('/') ? nameOrPath : `/var/run/netns/${nameOrPath}`;
}

/**
 * Calls fn with this thread in the network namespace `netns` (a name under
 * /var/run/netns or a path such as /proc/<pid>/ns/net) and switches back afterwards,
 * also when fn throws. Throws BpfError (`netns enter`) when the namespace cannot be
 * opened or entered, and an Error if fn returns a promise (it would run in the wrong
 * namespace). If switching back fails the process is in an unknown state: that error
 * is thrown and must be treated as fatal.
 */
export function withNetns<T>(netns: string | undefined, fn: () => T): T {
  if (netns === undefined) return fn();
  const path = netnsPath(netns);
  let target: number;
  try {
    target = openSync(path, 'r');
  } catch (err) {
    const errno = Math.abs((err as NodeJS.ErrnoException).errno ?? 2);
    throw new BpfError('netns open', path, errno);
  }
  let original: number;
  try {
    original = openSync('/proc/thread-self/ns/net', 'r');
  } catch (err) {
    closeSync(target);
    throw err;
  }
  try {
    if (libc().setns(target, CLONE_NEWNET) !== 0) throw new BpfError('netns enter', path, lastErrno());
    try {
      const result = fn();
      if (result instanceof Promise || (typeof result === 'object' && result !== null && 'then' in result)) {
        throw new Error(`withNetns(${netns}): the callback returned a promise; it must be synchronous`);
      }
      return result;
    } finally {
      if (libc().setns(original, CLONE_NEWNET) !== 0) {
        // eslint-disable-next-line no-unsafe-finally
        throw new Error(`withNetns(${netns}): could not return to the original network namespace (errno ${lastErrno()})`);
      }
    }
  } finally {
    closeSync(original);
    closeSync(target);
  }
}

/**
 * The ifindex of interface `name` in the current namespace, or in `netns`. Throws
 * BpfError (`ifindex lookup`, ENODEV) when there is no such interface.
 */
export function ifindexOf(name: string, netns?: string): number {
  return withNetns(netns, () => {
    const index = libc().ifNameToIndex(name);
    if (index === 0) throw new BpfError('ifindex lookup', netns ? `${name} (netns ${netns})` : name, lastErrno() || 19);
    return index;
  });
}
