// The reconciler against a real kernel BPF hash map through batch operations:
// incremental batches, a full map recovering by retries once deletes make
// room, and prune removing keys nobody asked for.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { BpfMap } from '../../datapath/index.js';
import { Reconciler, Status, statusProperty, TestClock } from '../../reconcilers/index.js';
import type { MapRow } from './bpf-hash-target.js';
import { createHashMap, dumpMap, HashMapOps, mapRowTable } from './bpf-hash-target.js';

function start(map: BpfMap, opts: { pruneIntervalMs?: number } = {}) {
  const { db, table } = mapRowTable();
  const clock = new TestClock();
  const ops = new HashMapOps(map);
  const reconciler = new Reconciler<MapRow>({
    db,
    table,
    status: statusProperty<MapRow, 'status'>('status'),
    operations: ops,
    batchOperations: ops,
    clock,
    retry: { jitter: 0 },
    roundRate: { perSecond: Infinity },
    refreshIntervalMs: 0,
    pruneIntervalMs: opts.pruneIntervalMs ?? 0,
  });
  reconciler.start();
  const write = (fn: (txn: Parameters<Parameters<typeof db.write>[1]>[0]) => void) =>
    db.write([table], (txn) => {
      fn(txn);
      return table.revision(txn);
    });
  const row = (id: number, value: number): MapRow => ({ id, value, status: Status.pending(clock) });
  const desired = () => new Map([...table.all(db.readTxn())].map((e) => [e.object.id, e.object.value]));
  const kinds = () => new Set([...table.all(db.readTxn())].map((e) => e.object.status.kind));
  return { db, table, clock, reconciler, write, row, desired, kinds };
}

const kernel = suite('kernel BPF hash map');

kernel('batch updates and deletes keep the map equal to the table', async () => {
  using map = createHashMap(4096, `flg_rc_${process.pid % 100000}`);
  const h = start(map);
  try {
    await h.reconciler.waitUntilReconciled(h.write((txn) => {
      for (let id = 0; id < 1500; id++) h.table.insert(txn, h.row(id, id * 3));
    }));
    assert.equal(dumpMap(map), h.desired());
    const rev = h.write((txn) => {
      for (let id = 0; id < 300; id++) h.table.insert(txn, h.row(id, 7));
      for (let id = 1000; id < 1200; id++) h.table.delete(txn, h.row(id, 0));
    });
    await h.reconciler.waitUntilReconciled(rev);
    const inMap = dumpMap(map);
    assert.is(inMap.size, 1300);
    assert.equal(inMap, h.desired());
    assert.equal(h.kinds(), new Set(['done']));
  } finally {
    await h.reconciler.stop();
  }
});

kernel('a full map fails the overflow (E2BIG); once deletes make room the retries succeed', async () => {
  using map = createHashMap(64, `flg_rf_${process.pid % 100000}`);
  const h = start(map);
  try {
    await h.reconciler.waitUntilReconciled(h.write((txn) => {
      for (let id = 0; id < 100; id++) h.table.insert(txn, h.row(id, id));
    }));
    assert.is(dumpMap(map).size, 64);
    const errored = [...h.table.all(h.db.readTxn())].filter((e) => e.object.status.kind === 'error');
    assert.is(errored.length, 36);
    assert.match(errored[0]!.object.status.error!, /E2BIG/);
    assert.match(h.reconciler.health.message, /^Degraded: 36 error\(s\)/);
    // Make room: delete 40 rows that made it into the map.
    const inMap = [...dumpMap(map).keys()].slice(0, 40);
    await h.reconciler.waitUntilReconciled(h.write((txn) => inMap.forEach((id) => h.table.delete(txn, h.row(id, 0)))));
    for (let i = 0; i < 20 && h.reconciler.health.level !== 'ok'; i++) await h.clock.advance(1000);
    assert.equal(dumpMap(map), h.desired());
    assert.is(dumpMap(map).size, 60);
    assert.equal(h.kinds(), new Set(['done']));
  } finally {
    await h.reconciler.stop();
  }
});

kernel('prune removes keys that are not in the table and keeps the desired ones', async () => {
  using map = createHashMap(1024, `flg_rp_${process.pid % 100000}`);
  // Stale entries from "a previous agent run".
  const key = Buffer.alloc(4);
  const value = Buffer.alloc(8);
  for (let id = 500; id < 600; id++) {
    key.writeUInt32LE(id, 0);
    map.update(key, value);
  }
  const h = start(map, { pruneIntervalMs: 60_000 });
  try {
    await h.reconciler.waitUntilReconciled(h.write((txn) => {
      for (let id = 0; id < 200; id++) h.table.insert(txn, h.row(id, id + 1));
    }));
    assert.equal(dumpMap(map), h.desired(), 'the initial prune removed the stale entries');
    // Entries someone added behind the reconciler's back.
    for (let id = 700; id < 750; id++) {
      key.writeUInt32LE(id, 0);
      map.update(key, value);
    }
    assert.is(dumpMap(map).size, 250);
    h.reconciler.triggerPrune();
    for (let i = 0; i < 10 && dumpMap(map).size !== 200; i++) await h.clock.advance(10);
    assert.equal(dumpMap(map), h.desired());
    assert.is(h.reconciler.health.level, 'ok');
  } finally {
    await h.reconciler.stop();
  }
});

kernel.run();
