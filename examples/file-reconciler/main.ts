// Runs the file reconciler: `node --conditions=source --import tsx examples/file-reconciler/main.ts DIR`.
// Inserts three memos, changes one, deletes one, and prints each step's files and health.
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DB } from 'flagella/statedb';
import { Reconciler } from 'flagella/reconcilers';
import { memo, MemoFiles, memoStatus, memoTable } from './memo-files.js';

function usage(): never {
  console.error('usage: main.ts DIR   (the directory the memos are written to)');
  process.exit(2);
}
const dir: string = process.argv[2] ?? usage();

const db = new DB();
const memos = memoTable(db);
const reconciler = new Reconciler({ db, table: memos, status: memoStatus, operations: new MemoFiles(dir) });
reconciler.start();

async function show(step: string, revision: number): Promise<void> {
  await reconciler.waitUntilReconciled(revision);
  const files = (await readdir(dir).catch(() => [])).sort();
  const contents = await Promise.all(files.map(async (f) => `${f}=${JSON.stringify(await readFile(join(dir, f), 'utf8'))}`));
  console.log(`${step}: ${contents.join(' ') || '(no files)'} | ${reconciler.health.message}`);
}

const write = (fn: (txn: Parameters<Parameters<typeof db.write>[1]>[0]) => void) =>
  db.write([memos], (txn) => {
    fn(txn);
    return memos.revision(txn);
  });

await show('insert', write((txn) => ['groceries', 'todo', 'ideas'].forEach((n) => memos.insert(txn, memo(n, `${n} v1`)))));
await show('update', write((txn) => memos.insert(txn, memo('todo', 'todo v2'))));
await show('delete', write((txn) => memos.delete(txn, memo('ideas', ''))));
await show('bad name', write((txn) => memos.insert(txn, memo('../escape', 'no'))));
await reconciler.stop();
