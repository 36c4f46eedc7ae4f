// The API's unix socket file: its directory (created 0700 when missing),
// a stale socket left by a dead agent (replaced), a live one (refused:
// another agent answers there), and the socket's mode (0600: the API
// changes the datapath, so only its owner may talk to it).
import { chmodSync, lstatSync, mkdirSync, unlinkSync } from 'node:fs';
import { connect, type Server } from 'node:net';
import { dirname } from 'node:path';

/** The socket path cannot be used. */
export class ApiSocketError extends Error {
  override readonly name = 'ApiSocketError';
}

/** Resolves true when something accepts connections on the unix socket `path`. */
function answers(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ path });
    const timer = setTimeout(() => {
      s.destroy();
      resolve(true); // accepted but slow: assume alive rather than steal it
    }, 1000);
    s.once('connect', () => {
      clearTimeout(timer);
      s.destroy();
      resolve(true);
    });
    s.once('error', () => {
      clearTimeout(timer);
      resolve(false);
    });
  });
}

/**
 * Makes `path` ready to listen on: creates the directory (0700) if missing,
 * removes a stale socket. Throws ApiSocketError when another process
 * answers on it or something other than a socket is there.
 */
export async function prepareSocketPath(path: string): Promise<void> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  let st;
  try {
    st = lstatSync(path);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new ApiSocketError(`API socket ${path}: ${(err as Error).message}`);
  }
  if (!st.isSocket()) throw new ApiSocketError(`API socket ${path}: something other than a socket is there; remove it or choose another --api-socket`);
  if (await answers(path)) throw new ApiSocketError(`API socket ${path}: another agent is answering there; stop it or choose another --api-socket`);
  unlinkSync(path);
}

/**
 * Listens on `path` with mode 0600 from the start (the umask is narrowed
 * while binding, so there is no moment when others could connect).
 */
export function listenPrivate(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new ApiSocketError(`API socket ${path}: ${err.message}`)));
    // Node binds a pipe synchronously inside listen(), so the narrowed umask
    // covers exactly the socket's creation.
    const previous = process.umask(0o177);
    try {
      server.listen(path, () => {
        try {
          chmodSync(path, 0o600);
          resolve();
        } catch (err) {
          reject(new ApiSocketError(`API socket ${path}: ${(err as Error).message}`));
        }
      });
    } finally {
      process.umask(previous);
    }
  });
}

/** Removes the socket file if it is still ours (a socket); never throws. */
export function removeSocket(path: string): void {
  try {
    if (lstatSync(path).isSocket()) unlinkSync(path);
  } catch {
    /* already gone */
  }
}
