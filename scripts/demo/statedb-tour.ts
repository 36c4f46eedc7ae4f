// Demo step: statedb in a few lines. Tables with a secondary index, an
// atomic commit, queries, a watch that fires on change, and a change
// iterator that sees a delete.
import { DB, Keys, nonUniqueIndex, uniqueIndex, formatRows } from '../../statedb/index.js';

interface Frontend {
  readonly address: string;
  readonly service: string;
  readonly backends: number;
}

const say = (text: string) => process.stdout.write(`  ${text}\n`);
const show = (text: string) => process.stdout.write(text.replace(/^/gm, '    ').replace(/ +$/, ''));

const db = new DB();
const frontends = db.newTable({
  name: 'frontends',
  primary: uniqueIndex('address', Keys.string, (f: Frontend) => f.address),
  secondary: { service: nonUniqueIndex('service', Keys.string, (f: Frontend) => f.service) },
  header: ['Address', 'Service', 'Backends'],
  row: (f: Frontend) => [f.address, f.service, String(f.backends)],
});

say('insert three frontends in one write transaction (readers see all of it or none):');
db.write(frontends, (txn) => {
  frontends.insert(txn, { address: '10.96.0.10:53/UDP', service: 'kube-system/kube-dns', backends: 2 });
  frontends.insert(txn, { address: '10.96.0.20:80/TCP', service: 'default/web', backends: 3 });
  frontends.insert(txn, { address: '10.96.0.20:443/TCP', service: 'default/web', backends: 3 });
});
show(formatRows(frontends, [...frontends.all(db.readTxn())].map((e) => e.object)));

say('query the secondary index "service" for default/web, and keep a watch on the answer:');
const { result, watch } = frontends.listWatch(db.readTxn(), frontends.secondary.service.query('default/web'));
show(formatRows(frontends, [...result].map((e) => e.object)));

const changes = frontends.changes();
for (const _ of changes.next().changes); // the iterator has seen the current rows

say('change an unrelated frontend: the watch stays open');
db.write(frontends, (txn) => frontends.insert(txn, { address: '10.96.0.10:53/UDP', service: 'kube-system/kube-dns', backends: 4 }));
say(`  watch closed: ${watch.closed}`);
say('scale default/web and delete its TLS frontend: the watch closes');
db.write(frontends, (txn) => {
  frontends.insert(txn, { address: '10.96.0.20:80/TCP', service: 'default/web', backends: 5 });
  frontends.delete(txn, { address: '10.96.0.20:443/TCP', service: 'default/web', backends: 3 });
});
await watch.promise;
say(`  watch closed: ${watch.closed}`);

say('the change iterator returns exactly what changed since it last looked, deletes included:');
for (const c of changes.next().changes) {
  say(`  rev ${c.revision}  ${c.deleted ? 'delete' : 'upsert'}  ${c.object.address} (${c.object.backends} backends)`);
}
changes.close();
