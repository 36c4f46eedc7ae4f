// The worked example (examples/file-reconciler): memos reconciled into files.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB } from '../../statedb/index.js';
import { Reconciler, TestClock } from '../../reconcilers/index.js';
import { memo, MemoFiles, memoStatus, memoTable } from '../../examples/file-reconciler/memo-files.js';

function withDir(fn: (dir: string) => Promise<void> | void): () => Promise<void> {
  return async () => {
    const dir = mkdtempSync(join(tmpdir(), `flagella-memos-${process.pid}-`));
    try {
      await fn(dir);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
}

/** Polls cond every 5 ms for at most 5 s (file operations finish on the libuv thread pool). */
async function until(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 1000 && !cond(); i++) await new Promise((resolve) => setTimeout(resolve, 5));
}

function start(dir: string) {
  const db = new DB();
  const memos = memoTable(db);
  const clock = new TestClock();
  const reconciler = new Reconciler({
    db,
    table: memos,
    status: memoStatus,
    operations: new MemoFiles(dir),
    clock,
    roundRate: { perSecond: Infinity },
    retry: { jitter: 0 },
  });
  reconciler.start();
  const write = (fn: (txn: Parameters<Parameters<typeof db.write>[1]>[0]) => void) =>
    db.write([memos], (txn) => {
      fn(txn);
      return memos.revision(txn);
    });
  const files = () => Object.fromEntries(readdirSync(dir).sort().map((f) => [f, readFileSync(join(dir, f), 'utf8')]));
  return { db, memos, clock, reconciler, write, files };
}

const example = suite('file reconciler example');

example(
  'memos become files; updates rewrite them; deletes remove them',
  withDir(async (dir) => {
    const h = start(dir);
    try {
      await h.reconciler.waitUntilReconciled(h.write((txn) => ['a', 'b'].forEach((n) => h.memos.insert(txn, memo(n, `${n}1`)))));
      assert.equal(h.files(), { a: 'a1', b: 'b1' });
      await h.reconciler.waitUntilReconciled(h.write((txn) => h.memos.insert(txn, memo('a', 'a2'))));
      assert.equal(h.files(), { a: 'a2', b: 'b1' });
      await h.reconciler.waitUntilReconciled(h.write((txn) => h.memos.delete(txn, memo('b', ''))));
      assert.equal(h.files(), { a: 'a2' });
      assert.is(h.reconciler.health.message, 'OK, 1 object(s)');
      assert.equal(
        [...h.memos.all(h.db.readTxn())].map((e) => e.object.status.kind),
        ['done'],
      );
    } finally {
      await h.reconciler.stop();
    }
  }),
);

example(
  'deleting a memo whose file is already gone succeeds',
  withDir(async (dir) => {
    const h = start(dir);
    try {
      await h.reconciler.waitUntilReconciled(h.write((txn) => h.memos.insert(txn, memo('gone', 'x'))));
      rmSync(join(dir, 'gone'));
      await h.reconciler.waitUntilReconciled(h.write((txn) => h.memos.delete(txn, memo('gone', ''))));
      assert.is(h.reconciler.health.level, 'ok');
    } finally {
      await h.reconciler.stop();
    }
  }),
);

example(
  'prune removes stray and half-written files, keeping the desired ones',
  withDir(async (dir) => {
    writeFileSync(join(dir, 'stray'), 'not a memo');
    writeFileSync(join(dir, 'keep.123.tmp'), 'left by a crash');
    const h = start(dir);
    try {
      await h.reconciler.waitUntilReconciled(h.write((txn) => h.memos.insert(txn, memo('keep', 'k'))));
      await until(() => readdirSync(dir).length === 1);
      assert.equal(h.files(), { keep: 'k' });
      writeFileSync(join(dir, 'later'), 'added by hand');
      h.reconciler.triggerPrune();
      await until(() => !existsSync(join(dir, 'later')));
      assert.equal(h.files(), { keep: 'k' });
    } finally {
      await h.reconciler.stop();
    }
  }),
);

example(
  'a name that is not a plain file name ends in error status and writes nothing outside the directory',
  withDir(async (dir) => {
    const h = start(join(dir, 'memos'));
    try {
      await h.reconciler.waitUntilReconciled(h.write((txn) => h.memos.insert(txn, memo('../escape', 'x'))));
      const row = h.memos.get(h.db.readTxn(), h.memos.primary.query('../escape'))!;
      assert.is(row.status.kind, 'error');
      assert.match(row.status.error!, /not a plain file name/);
      assert.not.ok(existsSync(join(dir, 'escape')));
    } finally {
      await h.reconciler.stop();
    }
  }),
);

example(
  'main.ts runs end to end',
  withDir((dir) => {
    const out = spawnSync(
      process.execPath,
      ['--conditions=source', '--import', 'tsx', 'examples/file-reconciler/main.ts', join(dir, 'memos')],
      { encoding: 'utf8', timeout: 60_000, killSignal: 'SIGKILL' },
    );
    assert.is(out.status, 0, out.stderr);
    const lines = out.stdout.trim().split('\n');
    assert.is(lines[0], 'insert: groceries="groceries v1" ideas="ideas v1" todo="todo v1" | OK, 3 object(s)');
    assert.is(lines[1], 'update: groceries="groceries v1" ideas="ideas v1" todo="todo v2" | OK, 3 object(s)');
    assert.is(lines[2], 'delete: groceries="groceries v1" todo="todo v2" | OK, 2 object(s)');
    assert.match(lines[3]!, /^bad name: .*Degraded: 1 error\(s\): update "\.\.\/escape"/);
  }),
);

example.run();
