// Crash safety: a child process commits a stream of cross-table commits to
// durable tables and is SIGKILLed at a random point; the restarted DB must
// hold a consistent prefix of the commits. Each commit i sets the counter
// row to i, inserts item i and deletes item i-5, across two tables, so the
// rows themselves say which commits are present. The child is this file
// run again with FLAGELLA_DURABLE_CRASH_CHILD set to the store path. While
// the child holds the store, this process cannot open it (StoreLockedError);
// once the child is killed, it can.
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB, Keys, openStore, StoreLockedError, uniqueIndex } from '../../statedb/index.js';

interface Counter {
  readonly id: 0;
  readonly n: number;
}
interface Item {
  readonly id: number;
  readonly n: number;
  readonly payload: string;
}

const KEEP = 5; // items alive after commit n: n-4..n

function crashDB() {
  const db = new DB();
  const counter = db.newTable({ name: 'counter', durable: true, primary: uniqueIndex('id', Keys.u32, (c: Counter) => c.id) });
  const items = db.newTable({ name: 'items', durable: true, primary: uniqueIndex('id', Keys.u32, (i: Item) => i.id) });
  return { db, counter, items };
}

function payloadOf(i: number): string {
  return 'p'.repeat((i * 37) % 300); // commits of varying size
}

async function child(path: string, sync: boolean): Promise<void> {
  const { db, counter, items } = crashDB();
  const store = openStore(db, path, { sync });
  let n = counter.get(db.readTxn(), counter.primary.query(0))?.n ?? 0;
  process.stdout.write(`start ${n}\n`);
  // Commit until killed. The bound only stops a child whose parent died; it is
  // generous because on a loaded machine tsx start-up alone can take seconds.
  const deadline = Date.now() + 100_000;
  for (let k = 0; k < 1_000_000 && Date.now() < deadline; k++) {
    const i = n + 1;
    db.write([counter, items], (w) => {
      items.insert(w, { id: i, n: i, payload: payloadOf(i) });
      if (i > KEEP) items.delete(w, { id: i - KEEP, n: i - KEEP, payload: '' });
      counter.insert(w, { id: 0, n: i });
    });
    n = i;
    process.stdout.write(`c ${n}\n`); // synchronous on a pipe: printed means committed
  }
  await store.close();
}

/** Opens the store in this process and checks the invariants; returns the last commit present. */
async function verify(path: string): Promise<number> {
  const { db, counter, items } = crashDB();
  const store = openStore(db, path);
  try {
    const txn = db.readTxn();
    const n = counter.get(txn, counter.primary.query(0))?.n ?? 0;
    const got = [...items.all(txn)].map((e) => e.object);
    const lo = Math.max(1, n - KEEP + 1);
    const want = [];
    for (let i = lo; i <= n; i++) want.push({ id: i, n: i, payload: payloadOf(i) });
    assert.equal(got, want, `items after commit ${n}`);
    assert.is(counter.revision(txn), n, 'counter revision = commits');
    assert.is(items.revision(txn), n + Math.max(0, n - KEEP), 'items revision = inserts + deletes');
    for (const e of items.all(txn)) {
      const i = e.object.id;
      assert.is(e.revision, i + Math.max(0, i - KEEP - 1), `revision of item ${i}`); // inserted before commit i's delete
    }
    return n;
  } finally {
    await store.close();
  }
}

interface Run {
  acked: number;
  started: number;
  /** What opening the store here said while the child held it: the holder's pid, or what else happened. */
  whileHeld: number | string | undefined;
  pid: number | undefined;
}

function openWhileHeld(path: string): number | string | undefined {
  try {
    void openStore(crashDB().db, path).close();
    return 'opened';
  } catch (e) {
    return e instanceof StoreLockedError ? e.holderPid : String(e);
  }
}

/** Runs the child until it has acknowledged `minCommits` commits plus a random delay, then SIGKILLs it. */
function runAndKill(path: string, minCommits: number, sync: boolean): Promise<Run> {
  const self = fileURLToPath(import.meta.url);
  const proc = spawn(process.execPath, ['--conditions=source', '--import', 'tsx', self], {
    env: { ...process.env, FLAGELLA_DURABLE_CRASH_CHILD: path, FLAGELLA_DURABLE_CRASH_SYNC: sync ? '1' : '0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const run: Run = { acked: -1, started: -1, whileHeld: undefined, pid: proc.pid };
  let buf = '';
  let err = '';
  let killTimer: NodeJS.Timeout | undefined;
  return new Promise<Run>((resolve, reject) => {
    const guard = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`child made no progress in 90 s (acked ${run.acked}): ${err}`));
    }, 90_000);
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    proc.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const line of lines) {
        const [tag, num] = line.split(' ');
        if (tag === 'start') {
          run.started = Number(num);
          run.whileHeld = openWhileHeld(path);
        }
        if (tag === 'c') run.acked = Number(num);
      }
      if (killTimer === undefined && run.started >= 0 && run.acked - run.started >= minCommits) {
        killTimer = setTimeout(() => proc.kill('SIGKILL'), Math.floor(Math.random() * 60));
      }
    });
    proc.on('exit', (code, signal) => {
      clearTimeout(guard);
      if (killTimer !== undefined) clearTimeout(killTimer);
      if (signal !== 'SIGKILL') reject(new Error(`child ended with ${code ?? signal} before the kill: ${err}`));
      else resolve(run);
    });
  });
}

const childPath = process.env.FLAGELLA_DURABLE_CRASH_CHILD;
if (childPath !== undefined) {
  await child(childPath, process.env.FLAGELLA_DURABLE_CRASH_SYNC !== '0');
} else {
  const crash = suite('durable: SIGKILL mid-stream leaves a consistent prefix');
  const dir = mkdtempSync(join(tmpdir(), `flagella-crash-${process.pid}-`));

  for (const { sync, rounds } of [
    { sync: true, rounds: 5 },
    { sync: false, rounds: 4 },
  ]) {
    crash(`every restart holds a prefix including every acknowledged commit, and continues from it (sync: ${sync})`, async () => {
      const path = join(dir, `state-${sync}.mdb`);
      let last = 0;
      for (let round = 0; round < rounds; round++) {
        const run = await runAndKill(path, 20 + Math.floor(Math.random() * 200), sync);
        assert.is(run.started, last, `round ${round}: the child restarted from the verified state`);
        assert.is(run.whileHeld, run.pid, `round ${round}: refused here while the child held the store`);
        const n = await verify(path);
        assert.ok(n >= run.acked, `round ${round}: commit ${run.acked} was acknowledged, store holds ${n}`);
        assert.ok(n <= run.acked + 1, `round ${round}: store holds ${n}, at most one commit past ${run.acked}`);
        last = n;
      }
      assert.ok(last > 80);
    });
  }

  crash.after(() => rmSync(dir, { recursive: true, force: true }));
  crash.run();
}
