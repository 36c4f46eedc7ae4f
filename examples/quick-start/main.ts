// The README's quick start, kept runnable: a table, a query with a watch, and
// a reconciler that keeps a target (here a Map) in step with the table.
import { DB, Keys, nonUniqueIndex, uniqueIndex } from 'flagella/statedb';
import { Reconciler, Status, statusProperty } from 'flagella/reconcilers';
import type { Operations } from 'flagella/reconcilers';

interface Route {
  readonly prefix: string;
  readonly via: string;
  readonly status: Status;
}

const db = new DB();
const routes = db.newTable({
  name: 'routes',
  primary: uniqueIndex('prefix', Keys.string, (r: Route) => r.prefix),
  secondary: { via: nonUniqueIndex('via', Keys.string, (r: Route) => r.via) },
});

// The target: anything with idempotent update/delete and a prune.
const target = new Map<string, string>();
const operations: Operations<Route> = {
  update: (_txn, _rev, r) => void target.set(r.prefix, r.via),
  delete: (_txn, _rev, r) => void target.delete(r.prefix),
  prune: (_txn, desired) => {
    const keep = new Set([...desired].map((r) => r.prefix));
    for (const prefix of [...target.keys()]) if (!keep.has(prefix)) target.delete(prefix);
  },
};
const reconciler = new Reconciler<Route>({ db, table: routes, status: statusProperty<Route, 'status'>('status'), operations });
reconciler.start();

// Writers insert rows as pending; the reconciler marks them done.
const { watch } = routes.listWatch(db.readTxn(), routes.secondary.via.query('eth0'));
db.write([routes], (txn) => {
  routes.insert(txn, { prefix: '10.0.0.0/8', via: 'eth0', status: Status.pending() });
  routes.insert(txn, { prefix: '192.168.0.0/16', via: 'eth1', status: Status.pending() });
});
await watch.promise; // closed by the commit: something under via=eth0 changed

await reconciler.waitUntilReconciled(routes.revision(db.readTxn()));
for (const { object } of routes.all(db.readTxn())) console.log(object.prefix, object.via, object.status.kind);
console.log('target:', Object.fromEntries(target));
await reconciler.stop();
