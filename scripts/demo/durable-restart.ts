// Demo step: a durable table survives its process. Run with "write" (commits
// a few rows, then kills itself with SIGKILL, no clean shutdown) and then
// with "read" (a new process restores the rows with their revisions).
import { DB, Keys, openStore, uniqueIndex } from '../../statedb/index.js';

interface Identity {
  readonly id: number;
  readonly labels: string;
}

const [mode, path] = process.argv.slice(2);
if ((mode !== 'write' && mode !== 'read') || path === undefined) {
  process.stderr.write('usage: durable-restart.ts write|read <store file>\n');
  process.exit(2);
}
const say = (text: string) => process.stdout.write(`  ${text}\n`);

const db = new DB();
const identities = db.newTable({
  name: 'identities',
  durable: true,
  primary: uniqueIndex('id', Keys.u32, (i: Identity) => i.id),
});
const store = openStore(db, path);

if (mode === 'write') {
  db.write(identities, (txn) => {
    identities.insert(txn, { id: 256, labels: 'app=web' });
    identities.insert(txn, { id: 257, labels: 'app=dns' });
  });
  db.write(identities, (txn) => {
    identities.insert(txn, { id: 258, labels: 'app=checkout' });
    identities.delete(txn, { id: 257, labels: '' });
  });
  say(`process ${process.pid} committed 2 transactions (revision ${identities.revision(db.readTxn())}) and now kills itself with SIGKILL`);
  process.kill(process.pid, 'SIGKILL');
} else {
  const txn = db.readTxn();
  say(`process ${process.pid} restored ${identities.numObjects(txn)} rows, table revision ${identities.revision(txn)}:`);
  for (const { object, revision } of identities.all(txn)) say(`  identity ${object.id}  ${object.labels}  (revision ${revision})`);
  await store.close();
}
