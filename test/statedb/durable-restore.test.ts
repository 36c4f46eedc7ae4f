// Durable tables: what a restart restores, what the store refuses, and what
// a failed write does to the commit. Every store lives in a fresh temporary
// directory removed at the end.
import { mkdtempSync, rmSync, truncateSync, writeFileSync, copyFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createRequire } from 'node:module';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DB,
  Keys,
  nonUniqueIndex,
  openStore,
  StoreDecodeError,
  StoreIncompatibleError,
  StoreLockedError,
  StoreStateError,
  StoreUnreadableError,
  StoreWriteError,
  storeOf,
  uniqueIndex,
} from '../../statedb/index.js';
import type { DurableStoreError, RowCodec } from '../../statedb/index.js';
import type * as Lmdb from 'lmdb';
import { throwsA } from './fixtures.js';

interface Svc {
  readonly name: string;
  readonly ns: string;
  readonly port: number;
  readonly labels: ReadonlyMap<string, string>;
}

const dirs: string[] = [];
function storePath(): string {
  const dir = mkdtempSync(join(tmpdir(), `flagella-durable-${process.pid}-`));
  dirs.push(dir);
  return join(dir, 'state.mdb');
}

function svc(name: string, port = 80, ns = 'default'): Svc {
  return { name, ns, port, labels: new Map([['app', name]]) };
}

interface Opts {
  version?: number;
  primaryName?: string;
  codec?: RowCodec<Svc>;
  extraDurable?: boolean;
}

/** A DB with a durable "services" table (+ secondary) and a plain "scratch" table. */
function makeDB(o: Opts = {}) {
  const db = new DB({ validate: true });
  const services = db.newTable({
    name: 'services',
    durable: true,
    version: o.version ?? 1,
    ...(o.codec === undefined ? {} : { codec: o.codec }),
    primary: uniqueIndex(o.primaryName ?? 'name', Keys.string, (s: Svc) => s.name),
    secondary: { ns: nonUniqueIndex('ns', Keys.string, (s: Svc) => s.ns) },
  });
  const scratch = db.newTable({ name: 'scratch', primary: uniqueIndex('id', Keys.u32, (x: { id: number }) => x.id) });
  const counters = o.extraDurable
    ? db.newTable({ name: 'counters', durable: true, primary: uniqueIndex('id', Keys.u32, (x: { id: number; n: number }) => x.id) })
    : undefined;
  return { db, services, scratch, counters };
}

const names = (rows: Iterable<{ object: Svc }>) => [...rows].map((e) => e.object.name);

const restore = suite('durable: restart restores');

restore('rows, their revisions, the table revision and secondary indexes come back; deletes stay deleted', async () => {
  const path = storePath();
  const a = makeDB({ extraDurable: true });
  const s1 = openStore(a.db, path);
  assert.equal(
    s1.restored.map((r) => [r.table, r.rows, r.created]),
    [
      ['services', 0, true],
      ['counters', 0, true],
    ],
  );
  a.db.write([a.services, a.counters!, a.scratch], (w) => {
    a.services.insert(w, svc('a'));
    a.services.insert(w, svc('b', 81, 'kube-system'));
    a.services.insert(w, svc('c'));
    a.counters!.insert(w, { id: 1, n: 1 });
    a.scratch.insert(w, { id: 7 });
  });
  a.db.write(a.services, (w) => {
    a.services.delete(w, svc('c'));
    a.services.insert(w, svc('a', 8080));
  });
  const before = a.db.readTxn();
  const revs = [...a.services.all(before)].map((e) => [e.object.name, e.revision]);
  assert.equal(revs, [
    ['a', 5],
    ['b', 2],
  ]);
  assert.is(a.services.revision(before), 5);
  await s1.close();

  const b = makeDB({ extraDurable: true });
  const s2 = openStore(b.db, path);
  try {
    assert.equal(
      s2.restored.map((r) => [r.table, r.rows, r.revision, r.created]),
      [
        ['services', 2, 5, false],
        ['counters', 1, 1, false],
      ],
    );
    const txn = b.db.readTxn();
    assert.equal(
      [...b.services.all(txn)].map((e) => [e.object.name, e.revision]),
      revs,
    );
    assert.is(b.services.revision(txn), 5, 'the table revision includes the delete');
    assert.is(b.services.get(txn, b.services.primary.query('a'))!.port, 8080);
    assert.equal(names(b.services.list(txn, b.services.secondary.ns.query('kube-system'))), ['b']);
    assert.equal(b.services.get(txn, b.services.primary.query('b'))!.labels, new Map([['app', 'b']]), 'a Map round-trips');
    assert.ok(Object.isFrozen(b.services.get(txn, b.services.primary.query('b'))), 'restored rows are frozen');
    assert.is(b.scratch.numObjects(txn), 0, 'non-durable tables are not kept');
    assert.equal([...b.counters!.all(txn)].map((e) => e.object), [{ id: 1, n: 1 }]);
    // Writing continues from the restored revision.
    b.db.write(b.services, (w) => b.services.insert(w, svc('d')));
    assert.is(b.services.get(b.db.readTxn(), b.services.primary.query('d')) !== undefined, true);
    assert.is(b.services.revision(b.db.readTxn()), 6);
    const it = b.services.changes();
    assert.equal(
      [...it.next().changes].map((c) => c.object.name),
      ['b', 'a', 'd'],
      'a change iterator replays restored rows in revision order',
    );
    it.close();
  } finally {
    await s2.close();
  }
});

restore('a codec stores what rows cannot hold as they are', async () => {
  const path = storePath();
  // Sets do not survive msgpack (they come back as arrays): store them as arrays.
  interface Tagged {
    readonly id: number;
    readonly tags: ReadonlySet<string>;
  }
  const make = () => {
    const db = new DB({ validate: true });
    const t = db.newTable({
      name: 'tagged',
      durable: true,
      primary: uniqueIndex('id', Keys.u32, (x: Tagged) => x.id),
      codec: {
        encode: (x: Tagged) => ({ id: x.id, tags: [...x.tags] }),
        decode: (s: unknown) => {
          const r = s as { id: number; tags: string[] };
          return { id: r.id, tags: new Set(r.tags) };
        },
      },
    });
    return { db, t };
  };
  const a = make();
  const s1 = openStore(a.db, path);
  a.db.write(a.t, (w) => a.t.insert(w, { id: 1, tags: new Set(['x', 'y']) }));
  await s1.close();
  const b = make();
  const s2 = openStore(b.db, path);
  const row = b.t.get(b.db.readTxn(), b.t.primary.query(1))!;
  assert.ok(row.tags instanceof Set);
  assert.equal([...row.tags], ['x', 'y']);
  await s2.close();
});

restore('an empty store and a store with no durable tables open fine; tables new to the store start empty', async () => {
  const path = storePath();
  const plain = new DB();
  plain.newTable({ name: 'p', primary: uniqueIndex('id', Keys.u32, (x: { id: number }) => x.id) });
  const s0 = openStore(plain, path);
  assert.equal(s0.restored, []);
  await s0.close();
  const a = makeDB();
  const s1 = openStore(a.db, path);
  assert.equal(s1.restored, [{ table: 'services', rows: 0, revision: 0, created: true }]);
  await s1.close();
});

restore('one open store per file: a second open is refused, naming the holder, until the first closes', async () => {
  const path = storePath();
  const a = makeDB();
  const s1 = openStore(a.db, path);
  const b = makeDB();
  const e = throwsA(() => openStore(b.db, path), StoreLockedError) as StoreLockedError;
  assert.is(e.holderPid, process.pid);
  assert.match(e.message, new RegExp(`^store ${path}: in use by another open store \\(pid ${process.pid}\\)`));
  assert.is(storeOf(b.db), undefined, 'the refused DB has no store');
  await s1.close();
  const s2 = openStore(b.db, path);
  await s2.close();
});

restore.run();

const refuse = suite('durable: unreadable or incompatible stores are errors naming the file and table');

async function seed(path: string, o: Opts = {}): Promise<void> {
  const a = makeDB(o);
  const s = openStore(a.db, path);
  a.db.write(a.services, (w) => {
    a.services.insert(w, svc('a'));
    a.services.insert(w, svc('b'));
  });
  await s.close();
}

function refused<E extends DurableStoreError>(
  o: Opts,
  path: string,
  cls: abstract new (...args: never[]) => E,
  pattern: RegExp,
  table?: string,
): E {
  const b = makeDB(o);
  const e = throwsA(() => openStore(b.db, path), cls) as E;
  assert.ok(e.message.includes(path), `message names the file: ${e.message}`);
  assert.is(e.path, path);
  if (table !== undefined) {
    assert.is(e.table, table);
    assert.ok(e.message.includes(`"${table}"`), `message names the table: ${e.message}`);
  }
  assert.match(e.message, pattern);
  assert.is(b.services.numObjects(b.db.readTxn()), 0, 'nothing was restored');
  return e;
}

refuse('a file that is not an LMDB store (no crash, no overwrite)', () => {
  const path = storePath();
  const junk = 'this is not a database\n'.repeat(500);
  writeFileSync(path, junk);
  refused({}, path, StoreUnreadableError, /not an LMDB store file/);
  assert.is(readFileSync(path, 'utf8'), junk, 'the file is left untouched');
  writeFileSync(path, 'tiny');
  refused({}, path, StoreUnreadableError, /not an LMDB store file \(only 4 bytes\)/);
});

refuse('a directory, and a truncated copy of a store', async () => {
  const path = storePath();
  refused({}, join(path, '..'), StoreUnreadableError, /is a directory/);
  await seed(path);
  const cut = `${path}.cut`;
  copyFileSync(path, cut);
  truncateSync(cut, 6000);
  refused({}, cut, StoreUnreadableError, /truncated/);
});

refuse('a different row schema version, primary index or primary key type', async () => {
  const path = storePath();
  await seed(path);
  refused({ version: 2 }, path, StoreIncompatibleError, /row schema version changed: the store has 1, the table declares 2/, 'services');
  refused({ primaryName: 'id' }, path, StoreIncompatibleError, /primary index changed/, 'services');
  const db = new DB();
  db.newTable({ name: 'services', durable: true, primary: uniqueIndex('name', Keys.u32, (s: { name: number }) => s.name) });
  const e = throwsA(() => openStore(db, path), StoreIncompatibleError) as StoreIncompatibleError;
  assert.match(e.message, /primary key type changed/);
  // The store still opens with the right definition.
  const ok = makeDB();
  const s = openStore(ok.db, path);
  assert.is(ok.services.numObjects(ok.db.readTxn()), 2);
  await s.close();
});

refuse('a primary key function that changed', async () => {
  const path = storePath();
  await seed(path);
  const db = new DB();
  db.newTable({ name: 'services', durable: true, primary: uniqueIndex('name', Keys.string, (s: Svc) => `${s.ns}/${s.name}`) });
  const e = throwsA(() => openStore(db, path), StoreIncompatibleError) as StoreIncompatibleError;
  assert.match(e.message, /stored under key "a" now has key "default\/a"/);
});

refuse('rows that fail to decode: a throwing codec, and bytes msgpack cannot read', async () => {
  const path = storePath();
  await seed(path);
  refused(
    { codec: { encode: (s) => s, decode: () => { throw new Error('bad row'); } } },
    path,
    StoreDecodeError,
    /row "a": codec.decode failed: bad row/,
    'services',
  );
  // Overwrite one stored value with bytes that are not msgpack.
  const { open } = createRequire(import.meta.url)('lmdb') as typeof Lmdb;
  const raw = open({ path, noSubdir: true, maxDbs: 4 });
  const rows = raw.openDB({ name: 'rows', keyEncoding: 'binary', encoding: 'binary' });
  await rows.put(Buffer.from('services\0b', 'latin1'), Buffer.from([0xc1, 0xc1, 0xc1]));
  await raw.close();
  refused({}, path, StoreDecodeError, /row "b"/, 'services');
});

refuse('another store format version', async () => {
  const path = storePath();
  await seed(path);
  const { open } = createRequire(import.meta.url)('lmdb') as typeof Lmdb;
  const raw = open({ path, noSubdir: true, maxDbs: 4 });
  const meta = raw.openDB({ name: 'meta' });
  await meta.put('format', { format: 'flagella-statedb', version: 99 });
  await raw.close();
  refused({}, path, StoreIncompatibleError, /store format version 99, this build reads version 1/);
});

refuse('a durable table registered after opening, a second store, and a table written before opening', async () => {
  const path = storePath();
  const a = makeDB();
  const s = openStore(a.db, path);
  try {
    const e = throwsA(
      () => a.db.newTable({ name: 'late', durable: true, primary: uniqueIndex('id', Keys.u32, (x: { id: number }) => x.id) }),
      StoreStateError,
    ) as StoreStateError;
    assert.is(e.table, 'late');
    assert.is(a.db.table('late'), undefined);
    a.db.newTable({ name: 'late-plain', primary: uniqueIndex('id', Keys.u32, (x: { id: number }) => x.id) });
    throwsA(() => openStore(a.db, storePath()), StoreStateError);
  } finally {
    await s.close();
  }
  const b = makeDB();
  b.db.write(b.services, (w) => b.services.insert(w, svc('early')));
  const e = throwsA(() => openStore(b.db, storePath()), StoreStateError) as StoreStateError;
  assert.match(e.message, /written before the store was opened/);
});

refuse.run();

const writes = suite('durable: failed writes abort the commit');

writes('an LMDB write failure (key too large) aborts the commit in memory and on disk', async () => {
  const path = storePath();
  const a = makeDB({ extraDurable: true });
  const s = openStore(a.db, path);
  a.db.write(a.services, (w) => a.services.insert(w, svc('a')));
  const before = a.db.readTxn();
  const { watch } = a.services.getWatch(before, a.services.primary.query('b'));
  const e = throwsA(
    () =>
      a.db.write([a.services, a.counters!], (w) => {
        a.counters!.insert(w, { id: 1, n: 1 });
        a.services.insert(w, svc('b'));
        a.services.insert(w, svc('x'.repeat(3000)));
      }),
    StoreWriteError,
  ) as StoreWriteError;
  assert.ok(e.message.includes(path));
  assert.match(e.message, /aborted/);
  assert.is(a.db.readTxn(), before, 'nothing became visible');
  assert.not.ok(watch.closed);
  assert.is(a.services.revision(a.db.readTxn()), 1);
  // A codec that throws is a failed write too.
  const codecDB = new DB();
  const t = codecDB.newTable({
    name: 'coded',
    durable: true,
    primary: uniqueIndex('id', Keys.u32, (x: { id: number }) => x.id),
    codec: {
      encode: (x: { id: number }) => {
        if (x.id === 13) throw new Error('unlucky row');
        return x;
      },
      decode: (x) => x as { id: number },
    },
  });
  const cs = openStore(codecDB, storePath());
  throwsA(() => codecDB.write(t, (w) => t.insert(w, { id: 13 })), StoreWriteError);
  assert.is(t.numObjects(codecDB.readTxn()), 0);
  await cs.close();
  // Later commits work, and the store holds exactly the successful ones.
  a.db.write([a.services, a.counters!], (w) => {
    a.counters!.insert(w, { id: 2, n: 2 });
    a.services.insert(w, svc('c'));
  });
  await s.close();
  const b = makeDB({ extraDurable: true });
  const s2 = openStore(b.db, path);
  assert.equal(names(b.services.all(b.db.readTxn())), ['a', 'c']);
  assert.equal([...b.counters!.all(b.db.readTxn())].map((r) => r.object.id), [2]);
  assert.is(b.services.revision(b.db.readTxn()), 2);
  await s2.close();
});

writes('after close, commits to durable tables fail and other tables keep working', async () => {
  const path = storePath();
  const a = makeDB();
  const s = openStore(a.db, path);
  const closing = s.close();
  assert.is(s.close(), closing, 'close is idempotent');
  await closing;
  assert.ok(s.closed);
  throwsA(() => a.db.write(a.services, (w) => a.services.insert(w, svc('a'))), StoreStateError);
  assert.is(a.services.numObjects(a.db.readTxn()), 0);
  a.db.write(a.scratch, (w) => a.scratch.insert(w, { id: 1 }));
  assert.is(a.scratch.numObjects(a.db.readTxn()), 1);
});

writes.after(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

writes.run();
