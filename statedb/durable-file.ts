// A guard in front of LMDB: the native library trusts the file it maps, and
// on a file that is not an LMDB environment (or one cut short) it can crash
// the process with SIGSEGV/SIGBUS instead of returning an error. This reads
// the two meta pages with plain file reads first and refuses what LMDB would
// choke on. It cannot prove every page sound; it catches the common cases:
// a wrong file, an empty-but-not-new file, a truncated copy.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { StoreUnreadableError } from './durable-errors.js';

const MDB_MAGIC = 0xbeefc0de;
/** The LMDB data format lmdb-js writes (its LMDB 1.0-based fork). */
const MDB_DATA_VERSION = 2;
const P_META = 0x08;
// Offsets inside a meta page (lmdb-js's page header is 24 bytes).
const PAGE_FLAGS = 18;
const META = 24;
const META_MAGIC = META;
const META_VERSION = META + 4;
const META_DBS = META + 24; // two MDB_db records of 48 bytes: free pages, main
const MDB_DB_SIZE = 48;
const DB_ROOT = 40; // md_root inside an MDB_db
const META_TXNID = META_DBS + 2 * MDB_DB_SIZE + 8;
const P_INVALID = 0xffffffffffffffffn;

/**
 * Throws StoreUnreadableError unless `path` is absent (a new store), empty
 * (LMDB initialises it), or starts with valid LMDB meta pages whose root
 * pages lie inside the file. A directory is refused too.
 */
export function checkStoreFile(path: string): void {
  let size: number;
  try {
    const st = statSync(path);
    if (st.isDirectory()) throw new StoreUnreadableError(path, undefined, 'is a directory, expected a store file');
    size = st.size;
  } catch (e) {
    if (e instanceof StoreUnreadableError) throw e;
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw new StoreUnreadableError(path, undefined, `cannot stat: ${(e as Error).message}`, { cause: e });
  }
  if (size === 0) return;
  const head = readHead(path, Math.min(size, 2 * 65536));
  const meta0 = parseMeta(path, head, 0, size);
  const pageSize = meta0.pageSize;
  if (size < 2 * pageSize) {
    throw new StoreUnreadableError(path, undefined, `truncated: ${size} bytes, less than two ${pageSize}-byte meta pages`);
  }
  const meta1 = parseMeta(path, head, pageSize, size);
  const latest = meta1.txnid > meta0.txnid ? meta1 : meta0;
  const pages = BigInt(Math.floor(size / pageSize));
  for (const root of latest.roots) {
    if (root !== P_INVALID && root >= pages) {
      throw new StoreUnreadableError(
        path,
        undefined,
        `truncated or damaged: root page ${root} lies beyond the end of the file (${pages} pages)`,
      );
    }
  }
}

function readHead(path: string, length: number): Buffer {
  const buf = Buffer.alloc(length);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    let got = 0;
    while (got < length) {
      const n = readSync(fd, buf, got, length - got, got);
      if (n === 0) break;
      got += n;
    }
    return buf.subarray(0, got);
  } catch (e) {
    throw new StoreUnreadableError(path, undefined, `cannot read: ${(e as Error).message}`, { cause: e });
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

interface MetaPage {
  readonly pageSize: number;
  readonly txnid: bigint;
  readonly roots: readonly bigint[];
}

function parseMeta(path: string, head: Buffer, offset: number, fileSize: number): MetaPage {
  const notLmdb = (why: string) => new StoreUnreadableError(path, undefined, `not an LMDB store file (${why})`);
  if (head.length < offset + META_TXNID + 8) {
    throw fileSize < offset + META_TXNID + 8 ? notLmdb(`only ${fileSize} bytes`) : notLmdb('short read');
  }
  const which = offset === 0 ? 'first' : 'second';
  if ((head.readUInt16LE(offset + PAGE_FLAGS) & P_META) === 0) throw notLmdb(`${which} page is not a meta page`);
  if (head.readUInt32LE(offset + META_MAGIC) !== MDB_MAGIC) throw notLmdb(`bad magic in the ${which} meta page`);
  const version = head.readUInt32LE(offset + META_VERSION) & 0xffff;
  if (version !== MDB_DATA_VERSION) {
    throw new StoreUnreadableError(
      path,
      undefined,
      `LMDB data version ${version}, this build reads version ${MDB_DATA_VERSION}`,
    );
  }
  const pageSize = head.readUInt32LE(offset + META_DBS); // md_pad of the free-page DB holds the page size
  if (pageSize < 512 || pageSize > 65536 || (pageSize & (pageSize - 1)) !== 0) {
    throw notLmdb(`implausible page size ${pageSize}`);
  }
  return {
    pageSize,
    txnid: head.readBigUInt64LE(offset + META_TXNID),
    roots: [0, 1].map((i) => head.readBigUInt64LE(offset + META_DBS + i * MDB_DB_SIZE + DB_ROOT)),
  };
}
