// The engine around the acceptance checks: lifecycle, configuration errors,
// round sizes and rate, batch mode, and a table locked during write-back.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Registry } from 'prom-client';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { ReadTxn } from '../../statedb/index.js';
import { DB } from '../../statedb/index.js';
import type { BatchEntry, ReconcilerConfig } from '../../reconcilers/index.js';
import { Reconciler, ReconcilerConfigError, ReconcilerError, settle, statusProperty } from '../../reconcilers/index.js';
import type { Item } from './fixture.js';
import { itemTable, MemoryTarget, pending, startItems } from './fixture.js';

const lifecycle = suite('lifecycle');

lifecycle('start twice or after stop throws; stop is idempotent and works before start', async () => {
  const h = startItems();
  assert.throws(() => h.reconciler.start(), (e: unknown) => e instanceof ReconcilerError && /after start/.test(e.message));
  await h.reconciler.stop();
  await h.reconciler.stop();
  assert.throws(() => h.reconciler.start(), /after stop/);
  assert.is(h.reconciler.health.level, 'stopped');
  const { db, table } = itemTable();
  const never = new Reconciler<Item>({ db, table, status: statusProperty<Item, 'status'>('status'), operations: new MemoryTarget() });
  await never.stop();
});

lifecycle('stop waits for the round in flight and writes its statuses; no timer is left', async () => {
  const h = startItems({ pruneIntervalMs: 60_000, refreshIntervalMs: 60_000 });
  h.target.fail = (op, id) => op === 'update' && id === 2;
  await h.reconciler.waitUntilReconciled(h.insert(pending(2)));
  let release: (() => void) | undefined;
  const original = h.target.update.bind(h.target);
  h.target.update = (txn: ReadTxn, rev: number, obj: Item) =>
    new Promise<void>((resolve) => (release = resolve)).then(() => original(txn, rev, obj));
  h.insert(pending(1));
  for (let i = 0; i < 20 && release === undefined; i++) await settle(1);
  let stopped = false;
  const stopping = h.reconciler.stop().then(() => (stopped = true));
  await settle();
  assert.not.ok(stopped, 'stop waits for the update in flight');
  release!();
  await stopping;
  assert.is(h.get(1)!.status.kind, 'done', 'the in-flight result was written');
  assert.is(h.clock.pendingTimers, 0, 'retry, prune, refresh and rate timers are all cancelled');
  assert.is(h.table.deleteTrackers, 0, 'the change iterator is closed');
});

lifecycle('a process with a running reconciler on the system clock exits once it is stopped', () => {
  const dir = mkdtempSync(join(tmpdir(), `flagella-reconciler-${process.pid}-`));
  try {
    const script = join(dir, 'child.mts');
    const root = process.cwd();
    writeFileSync(
      script,
      `import { DB, Keys, uniqueIndex } from '${root}/statedb/index.js';
import { Reconciler, Status, statusProperty } from '${root}/reconcilers/index.js';
const db = new DB();
const table = db.newTable({ name: 'x', primary: uniqueIndex('id', Keys.u32, (o: { id: number; status: Status }) => o.id) });
const r = new Reconciler({ db, table, status: statusProperty('status'),
  operations: { update() { throw new Error('always'); }, delete() {}, prune() {} } });
r.start();
const rev = db.write([table], (txn) => { table.insert(txn, { id: 1, status: Status.pending() }); return table.revision(txn); });
await r.waitUntilReconciled(rev);
await r.stop();
console.log('stopped');
`,
    );
    const child = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', script], {
      cwd: root,
      encoding: 'utf8',
      timeout: 60_000,
      killSignal: 'SIGKILL',
    });
    assert.is(child.error, undefined, 'the child exited on its own (no timeout)');
    assert.is(child.status, 0, child.stderr);
    assert.match(child.stdout, /stopped/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const config = suite('configuration errors');

config('bad settings are rejected with the setting and value named', () => {
  const { db, table } = itemTable();
  const base: ReconcilerConfig<Item> = {
    db,
    table,
    status: statusProperty<Item, 'status'>('status'),
    operations: new MemoryTarget(),
  };
  const cases: [Partial<ReconcilerConfig<Item>>, RegExp][] = [
    [{ roundSize: 0 }, /roundSize must be a positive integer, got 0/],
    [{ roundSize: 1.5 }, /roundSize/],
    [{ retry: { minMs: 0 } }, /retry.minMs must be > 0, got 0/],
    [{ retry: { minMs: 100, maxMs: 50 } }, /retry.maxMs must be >= retry.minMs \(100\), got 50/],
    [{ retry: { jitter: 1.5 } }, /retry.jitter must be in \[0, 1\], got 1.5/],
    [{ pruneIntervalMs: -1 }, /pruneIntervalMs must be a finite number >= 0/],
    [{ refreshIntervalMs: NaN }, /refreshIntervalMs/],
    [{ roundRate: { perSecond: 0 } }, /roundRate.perSecond must be > 0/],
    [{ refreshRate: { perSecond: 1, burst: 0 } }, /refreshRate.burst must be a positive integer/],
    [{ name: '' }, /name must be 1-64 printable characters/],
    [{ operations: { update() {}, delete() {} } as never }, /operations must provide update, delete and prune/],
    [{ batchOperations: { updateBatch() {} } as never }, /batchOperations must provide/],
    [{ status: {} as never }, /status must provide get/],
    [{ table: itemTable(new DB()).table }, /not registered in the given db/],
  ];
  for (const [bad, message] of cases) {
    assert.throws(
      () => new Reconciler<Item>({ ...base, ...bad }),
      (e: unknown) => e instanceof ReconcilerConfigError && message.test(e.message) && /^reconciler "/.test(e.message),
      `config ${JSON.stringify(bad)}`,
    );
  }
});

const rounds = suite('rounds');

rounds('changes are taken in rounds of roundSize objects', async () => {
  const h = startItems({ roundSize: 10 }, { batch: true });
  try {
    const items = Array.from({ length: 25 }, (_, i) => pending(i + 1));
    await h.reconciler.waitUntilReconciled(h.insert(...items));
    assert.equal(
      h.target.take().filter((l) => l.startsWith('updateBatch')),
      ['updateBatch(10)', 'updateBatch(10)', 'updateBatch(5)'],
    );
    assert.is(h.target.state.size, 25);
  } finally {
    await h.reconciler.stop();
  }
});

rounds('rounds start at most at the round rate', async () => {
  const h = startItems({ roundRate: { perSecond: 10, burst: 1 } });
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    assert.equal(h.target.take(), ['update(1)']);
    h.insert(pending(2));
    h.insert(pending(3));
    await settle();
    await h.clock.advance(99);
    assert.equal(h.target.take(), [], 'the next round waits for a token');
    await h.clock.advance(1);
    assert.equal(h.target.take(), ['update(2)', 'update(3)'], 'and then takes both changes at once');
  } finally {
    await h.reconciler.stop();
  }
});

rounds('batch mode runs deletes before updates; failed entries are retried one by one', async () => {
  const h = startItems({}, { batch: true });
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1)));
    h.target.take();
    h.target.fail = (op, id) => op === 'update' && id === 3;
    const rev = h.write((txn) => {
      h.table.insert(txn, pending(2));
      h.table.insert(txn, pending(3));
      h.table.delete(txn, pending(1));
    });
    await h.reconciler.waitUntilReconciled(rev);
    assert.equal(h.target.take(), ['deleteBatch(1)', 'delete(1)', 'updateBatch(2)', 'update(2)', 'update(3) fail']);
    assert.is(h.get(3)!.status.kind, 'error');
    h.target.fail = () => false;
    await h.clock.advance(200);
    assert.equal(h.target.take(), ['update(3)'], 'the retry uses the single operation');
    assert.is(h.get(3)!.status.kind, 'done');
  } finally {
    await h.reconciler.stop();
  }
});

rounds('a batch call that throws fails every entry', async () => {
  const h = startItems({}, { batch: true });
  try {
    h.target.updateBatch = (_txn: ReadTxn, entries: readonly BatchEntry<{ id: number; value: string }>[]) => {
      throw new Error(`map batch update failed for ${entries.length}`);
    };
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2)));
    assert.is(h.get(1)!.status.error, 'map batch update failed for 2');
    assert.is(h.get(2)!.status.kind, 'error');
    await h.clock.advance(200);
    assert.is(h.get(1)!.status.kind, 'done');
    assert.is(h.get(2)!.status.kind, 'done');
  } finally {
    await h.reconciler.stop();
  }
});

rounds('asynchronous operations are awaited one at a time, in revision order', async () => {
  const h = startItems();
  try {
    h.target.async = true;
    let active = 0;
    let maxActive = 0;
    const original = h.target.update.bind(h.target);
    h.target.update = async (txn: ReadTxn, rev: number, obj: Item) => {
      maxActive = Math.max(maxActive, ++active);
      await original(txn, rev, obj);
      active--;
    };
    await h.reconciler.waitUntilReconciled(h.insert(pending(3), pending(1), pending(2)));
    assert.equal(h.target.take(), ['update(3)', 'update(1)', 'update(2)']);
    assert.is(maxActive, 1);
  } finally {
    await h.reconciler.stop();
  }
});

rounds('the engine’s own status write-backs cost no extra round (an idle engine stays idle)', async () => {
  const registry = new Registry();
  const h = startItems({ registry, name: 'idle' });
  try {
    for (let id = 1; id <= 5; id++) {
      await h.reconciler.waitUntilReconciled(h.insert(pending(id)));
      await settle();
    }
    const text = await registry.metrics();
    const rounds = text.split('\n').find((l) => l.startsWith('flagella_reconciler_rounds_total{'));
    // The first insert precedes the first round, so one round per change in all.
    assert.is(rounds, 'flagella_reconciler_rounds_total{reconciler="idle"} 5');
  } finally {
    await h.reconciler.stop();
  }
});

rounds('a status accessor that throws for one row loses nothing: the row shows as an error, the others are done', async () => {
  const h = startItems({
    status: {
      get: (o: Item) => {
        if (o.id === 2) throw new Error('corrupt status');
        return o.status;
      },
      set: (o: Item, status) => {
        if (o.id === 2) throw new Error('cannot set');
        return { ...o, status };
      },
    },
  });
  try {
    await h.reconciler.waitUntilReconciled(h.insert(pending(1), pending(2), pending(3)));
    assert.is(h.get(1)!.status.kind, 'done');
    assert.is(h.get(3)!.status.kind, 'done');
    assert.match(h.reconciler.health.message, /^Degraded: 1 error\(s\): update "2": writing the status failed: cannot set/);
  } finally {
    await h.reconciler.stop();
  }
});

rounds('a table held locked during write-back delays the statuses, losing none', async () => {
  const h = startItems();
  let release: (() => void) | undefined;
  try {
    const original = h.target.update.bind(h.target);
    h.target.update = (txn: ReadTxn, rev: number, obj: Item) =>
      new Promise<void>((resolve) => (release = resolve)).then(() => original(txn, rev, obj));
    const rev = h.insert(pending(1));
    for (let i = 0; i < 20 && release === undefined; i++) await settle(1);
    const held = h.db.writeTxn([h.table], { holder: 'a slow writer' });
    release!();
    await settle();
    await h.clock.advance(10);
    assert.is(h.get(1)!.status.kind, 'pending', 'not written while locked');
    held.abort();
    await h.clock.advance(100);
    await h.reconciler.waitUntilReconciled(rev);
    assert.is(h.get(1)!.status.kind, 'done');
  } finally {
    release?.();
    await h.reconciler.stop();
  }
});

lifecycle.run();
config.run();
rounds.run();
