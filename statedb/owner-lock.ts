// One writer per store file. Two processes (an agent and its replacement
// during a rollout, two embedding programs) writing one store would each
// restore, diverge and overwrite the other's commits; LMDB itself allows
// several writers, so the store takes an exclusive flock(2) on
// `<store>.owner` for as long as it is open. flock, not a pid file: the
// kernel drops it when the holder dies (SIGKILL included), it works across
// PID namespaces (containers sharing a hostPath), and a second open in the
// same process conflicts too (locks belong to open file descriptions). The
// holder's pid is written into the file for the error message only.
import { closeSync, ftruncateSync, openSync, readFileSync, writeSync } from 'node:fs';
import koffi from 'koffi';
import { StoreLockedError, StoreUnreadableError } from './durable-errors.js';

const LOCK_EX = 2;
const LOCK_NB = 4;
const EWOULDBLOCK = 11;

let flock: ((fd: number, operation: number) => number) | undefined;

/** flock(2) bound through koffi on first use (statedb without durable tables never loads it). */
function flockFn(): (fd: number, operation: number) => number {
  return (flock ??= koffi.load('libc.so.6').func('int flock(int fd, int operation)') as (fd: number, operation: number) => number);
}

/** The lock file of the store at `path`. */
export function ownerFileOf(path: string): string {
  return `${path}.owner`;
}

/** An exclusive hold on a store; release() gives it up (closing the file drops the lock). */
export class OwnerLock {
  private fd: number | undefined;

  private constructor(fd: number) {
    this.fd = fd;
  }

  /**
   * Takes the lock of the store at `path` without waiting. Throws
   * StoreLockedError (naming the holder's pid when known) when another
   * open store holds it, StoreUnreadableError when the lock file cannot be
   * opened.
   */
  static acquire(path: string): OwnerLock {
    const file = ownerFileOf(path);
    let fd: number;
    try {
      fd = openSync(file, 'a+', 0o600);
    } catch (e) {
      throw new StoreUnreadableError(path, undefined, `cannot open the lock file ${file}: ${(e as Error).message}`, { cause: e });
    }
    if (flockFn()(fd, LOCK_EX | LOCK_NB) !== 0) {
      const errno = koffi.errno();
      closeSync(fd);
      if (errno === EWOULDBLOCK) throw new StoreLockedError(path, holderOf(file));
      throw new StoreUnreadableError(path, undefined, `cannot lock ${file}: errno ${errno}`);
    }
    ftruncateSync(fd, 0);
    writeSync(fd, `${process.pid}\n`);
    return new OwnerLock(fd);
  }

  /** Gives the lock up. Idempotent. The file stays (removing it would race with a waiting opener). */
  release(): void {
    if (this.fd === undefined) return;
    closeSync(this.fd);
    this.fd = undefined;
  }
}

function holderOf(file: string): number | undefined {
  try {
    const pid = Number.parseInt(readFileSync(file, 'utf8'), 10);
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
  } catch {
    return undefined;
  }
}
