// Initialization gating end to end: the Kubernetes source writes through a
// sink into a real statedb table whose initializer it registered; the real
// reconciler engine prunes the target only once the table is initialized.
// While one kind's initial list keeps failing, the objects already listed
// are reconciled but nothing is pruned (a stale target entry survives); once
// every kind has been listed and applied, one prune runs with everything.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  APPLIED,
  KubernetesSource,
  loadKubeConfig,
  objectKey,
  refOf,
  type KubeChange,
  type KubeKind,
  type ObjectSink,
} from '../../agent/index.js';
import { Reconciler, Status, statusProperty } from '../../reconcilers/index.js';
import { DB, Keys, uniqueIndex, type Table } from '../../statedb/index.js';
import { KubeApiServer } from '../support/kube-apiserver.js';
import { captureLogger, service, tempDir, waitFor } from './fixtures.js';

interface ObjectRow {
  readonly key: string;
  readonly kind: KubeKind;
  readonly version: string;
  readonly status: Status;
}

/** A minimal writer: one row per object, each batch in one write transaction. */
class TableSink implements ObjectSink {
  constructor(
    private readonly db: DB,
    private readonly table: Table<ObjectRow, string>,
  ) {}

  apply(changes: readonly KubeChange[]) {
    this.db.write([this.table], (txn) => {
      for (const c of changes) {
        const key = objectKey(refOf(c.kind, c.object));
        const row: ObjectRow = { key, kind: c.kind, version: c.object.metadata?.resourceVersion ?? '', status: Status.pending() };
        if (c.type === 'upsert') this.table.insert(txn, row);
        else if (this.table.get(txn, this.table.primary.query(key)) !== undefined) this.table.delete(txn, row);
      }
    });
    return APPLIED;
  }

  registerInitializer(name: string) {
    const done = this.db.write([this.table], (txn) => this.table.registerInitializer(txn, name));
    return { markDone: () => this.db.write([this.table], (txn) => done(txn)) };
  }
}

test('no prune before the initial list of every kind is applied; one prune with everything after', async () => {
  const server = await KubeApiServer.start();
  const tmp = tempDir('gating');
  const db = new DB();
  const table = db.newTable({ name: 'k8s-objects', primary: uniqueIndex('key', Keys.string, (r: ObjectRow) => r.key) });
  const target = new Map<string, string>([['Service/default/stale', 'left over from a previous run']]);
  const prunes: { desired: string[]; initialized: boolean }[] = [];
  const reconciler = new Reconciler<ObjectRow>({
    db,
    table,
    status: statusProperty<ObjectRow, 'status'>('status'),
    pruneIntervalMs: 60 * 60_000,
    operations: {
      update: (_txn, _rev, row) => void target.set(row.key, row.version),
      delete: (_txn, _rev, row) => void target.delete(row.key),
      prune: (txn, desired) => {
        const keys = new Set([...desired].map((r) => r.key));
        prunes.push({ desired: [...keys].sort(), initialized: table.initialized(txn).initialized });
        for (const key of [...target.keys()]) if (!keys.has(key)) target.delete(key);
      },
    },
  });
  server.create(service('web'));
  server.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p1', namespace: 'default' } });
  server.create({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'p2', namespace: 'default' } });
  server.failNext('/api/v1/pods', 3, { on: 'list' });
  const { config } = loadKubeConfig({ kubeconfigPath: server.writeKubeconfig(`${tmp.dir}/kc`), env: {} });
  const source = new KubernetesSource({
    sink: new TableSink(db, table),
    config,
    kinds: ['Service', 'Pod'],
    restartBackoff: { initialMs: 100, maxMs: 200 },
    logger: captureLogger().logger,
  });
  try {
    assert.equal(table.pendingInitializers(db.readTxn()), ['kubernetes'], 'registered before anything starts');
    reconciler.start();
    await source.start();
    await waitFor('the service reconciled while pods fail to list', () => target.has('Service/default/web'));
    await waitFor('a failed pod list', () => server.requestsFor('/api/v1/pods').some((r) => r.status === 500));
    assert.is(table.initialized(db.readTxn()).initialized, false);
    assert.equal(prunes, [], 'no prune on a partial view');
    assert.ok(target.has('Service/default/stale'), 'stale entry kept until the view is complete');

    assert.ok(await source.synced);
    await waitFor('the first prune', () => prunes.length > 0);
    assert.equal(prunes, [
      { desired: ['Pod/default/p1', 'Pod/default/p2', 'Service/default/web'], initialized: true },
    ]);
    assert.not.ok(target.has('Service/default/stale'), 'pruned after initialization');
    assert.is(server.requestsFor('/api/v1/pods').filter((r) => r.status === 500).length, 3);
  } finally {
    await source.stop();
    await reconciler.stop();
    await server.close();
    tmp.cleanup();
  }
});

test.run();
