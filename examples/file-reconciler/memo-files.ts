// The worked example: a table of memos reconciled into files, one file per
// row. Read it as the template for a custom reconciler: the row type carries
// a Status, the operations are idempotent, delete treats "already gone" as
// success, and prune removes what the table no longer wants.
import { mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import { join } from 'node:path';
import type { DB, ReadTxn } from 'flagella/statedb';
import { Keys, uniqueIndex } from 'flagella/statedb';
import type { Operations } from 'flagella/reconcilers';
import { Status, statusProperty } from 'flagella/reconcilers';

/** One row: a memo and its reconciliation status. Insert it with Status.pending(). */
export interface Memo {
  readonly name: string;
  readonly content: string;
  readonly status: Status;
}

/** A memo to reconcile (a new version of the row). */
export function memo(name: string, content: string): Memo {
  return { name, content, status: Status.pending() };
}

/** The memos table, keyed by name. */
export function memoTable(db: DB) {
  return db.newTable({
    name: 'memos',
    primary: uniqueIndex('name', Keys.string, (m: Memo) => m.name),
    header: ['Name', 'Status'],
    row: (m: Memo) => [m.name, m.status.format()],
  });
}

/** Where the status lives on the row. */
export const memoStatus = statusProperty<Memo, 'status'>('status');

const TEMP_SUFFIX = '.tmp';

/** Thrown for a memo name that cannot be a file name; the row ends in error status with this message. */
export class BadMemoNameError extends Error {
  constructor(name: string) {
    super(`memo name ${JSON.stringify(name)} is not a plain file name (letters, digits, "-", "_", "." not first)`);
    this.name = 'BadMemoNameError';
  }
}

function checkName(name: string): void {
  if (!/^[A-Za-z0-9_-][A-Za-z0-9_.-]{0,127}$/.test(name) || name.endsWith(TEMP_SUFFIX)) throw new BadMemoNameError(name);
}

/** Keeps `dir` holding exactly one file per memo, named after it, containing its content. */
export class MemoFiles implements Operations<Memo> {
  constructor(readonly dir: string) {}

  /**
   * Writes the file atomically: a temporary file, flushed, then renamed over
   * the old one, so a reader never sees a half-written memo and a crash
   * leaves either the old or the new content. Idempotent.
   */
  async update(_txn: ReadTxn, _revision: number, m: Memo): Promise<void> {
    checkName(m.name);
    await mkdir(this.dir, { recursive: true });
    const path = join(this.dir, m.name);
    const temp = `${path}.${process.pid}${TEMP_SUFFIX}`;
    const file = await open(temp, 'w');
    try {
      await file.writeFile(m.content);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  }

  /** Removes the file; a file that is already gone is success (the delete contract). */
  async delete(_txn: ReadTxn, _revision: number, m: Memo): Promise<void> {
    try {
      await unlink(join(this.dir, m.name));
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
    }
  }

  /**
   * Removes every file that is not a desired memo (and temporary files left
   * by a crash). Lists the directory first, then removes: never while walking.
   */
  async prune(_txn: ReadTxn, desired: Iterable<Memo>): Promise<void> {
    const keep = new Set<string>();
    for (const m of desired) keep.add(m.name);
    let names: string[];
    try {
      names = await readdir(this.dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return; // nothing written yet
      throw e;
    }
    const extra = names.filter((n) => !keep.has(n));
    const failures: string[] = [];
    for (const name of extra) {
      try {
        await rm(join(this.dir, name), { force: true });
      } catch (e) {
        failures.push(`${name}: ${(e as Error).message}`);
      }
    }
    if (failures.length > 0) throw new Error(`prune: could not remove ${failures.join('; ')}`);
  }
}
