// Unique enforcement, the LPM index, row immutability and transaction errors.
import { produce } from 'immer';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DB,
  Keys,
  lpmIndex,
  multiIndex,
  SameObjectError,
  TableLockedError,
  TableNotRegisteredError,
  TransactionClosedError,
  UniqueConstraintError,
  uniqueIndex,
  UnsupportedIndexOperationError,
} from '../../statedb/index.js';
import { ids, obj, objTable, throwsA } from './fixtures.js';

interface User {
  readonly id: number;
  readonly email: string;
  readonly aliases: readonly string[];
}

function users() {
  const db = new DB({ validate: true });
  const table = db.newTable({
    name: 'users',
    primary: uniqueIndex('id', Keys.u32, (u: User) => u.id),
    secondary: {
      email: uniqueIndex('email', Keys.string, (u: User) => u.email),
      aliases: multiIndex('aliases', Keys.string, (u: User) => u.aliases, { unique: true }),
    },
  });
  return { db, table };
}

const unique = suite('unique secondary indexes');

unique('a second object claiming a unique key throws and leaves the txn as it was', () => {
  const { db, table } = users();
  db.write(table, (w) => table.insert(w, { id: 1, email: 'a@x', aliases: ['a'] }));
  db.write(table, (w) => {
    table.insert(w, { id: 2, email: 'b@x', aliases: [] });
    const rev = table.revision(w);
    const err = throwsA(() => table.insert(w, { id: 3, email: 'a@x', aliases: [] }), UniqueConstraintError);
    assert.match(String(err), /unique index "email".*"a@x"/);
    assert.is((err as UniqueConstraintError<User>).existing.id, 1);
    // Replacing object 2 so that it would steal object 1's email: rejected, object 2 unchanged.
    throwsA(() => table.insert(w, { id: 2, email: 'a@x', aliases: [] }), UniqueConstraintError);
    throwsA(() => table.insert(w, { id: 4, email: 'd@x', aliases: ['z', 'a'] }), UniqueConstraintError);
    assert.is(table.revision(w), rev);
    assert.is(table.numObjects(w), 2);
    assert.is(table.get(w, table.primary.query(2))?.email, 'b@x');
    assert.is(table.get(w, table.secondary.email.query('b@x'))?.id, 2);
    assert.is(table.get(w, table.primary.query(3)), undefined);
    assert.is(table.get(w, table.secondary.aliases.query('z')), undefined);
  });
  assert.is(table.numObjects(db.readTxn()), 2);
});

unique('an object may keep or move its own unique key', () => {
  const { db, table } = users();
  db.write(table, (w) => table.insert(w, { id: 1, email: 'a@x', aliases: ['a', 'b'] }));
  db.write(table, (w) => table.insert(w, { id: 1, email: 'a@x', aliases: ['b', 'c'] }));
  db.write(table, (w) => {
    table.insert(w, { id: 1, email: 'new@x', aliases: ['c'] });
    table.insert(w, { id: 2, email: 'a@x', aliases: ['a', 'b'] }); // freed in the same txn
  });
  const r = db.readTxn();
  assert.is(table.get(r, table.secondary.email.query('a@x'))?.id, 2);
  assert.is(table.get(r, table.secondary.aliases.query('c'))?.id, 1);
  assert.is(table.get(r, table.secondary.aliases.query('b'))?.id, 2);
});

unique('a deleted object frees its unique keys', () => {
  const { db, table } = users();
  db.write(table, (w) => table.insert(w, { id: 1, email: 'a@x', aliases: [] }));
  db.write(table, (w) => {
    table.delete(w, { id: 1, email: '', aliases: [] });
    table.insert(w, { id: 2, email: 'a@x', aliases: [] });
  });
  assert.is(table.get(db.readTxn(), table.secondary.email.query('a@x'))?.id, 2);
});

unique('the empty string is a real key of a multi-key index', () => {
  const { db, table } = objTable();
  db.write(table, (w) => {
    table.insert(w, obj(1, ['']));
    table.insert(w, obj(2, []));
  });
  assert.equal(ids(table.list(db.readTxn(), table.secondary.tags.query(''))), [1]);
});

unique.run();

interface Route {
  readonly name: string;
  readonly cidrs: readonly string[];
}

function routes(names: [string, ...string[]][]) {
  const db = new DB({ validate: true });
  const table = db.newTable({
    name: 'routes',
    primary: uniqueIndex('name', Keys.string, (r: Route) => r.name),
    secondary: { cidr: lpmIndex('cidr', (r: Route) => r.cidrs) },
  });
  db.write(table, (w) => {
    for (const [name, ...cidrs] of names) table.insert(w, { name, cidrs });
  });
  const lookup = (q: string) => table.get(db.readTxn(), table.secondary.cidr.query(q))?.name;
  const names_ = (it: Iterable<{ object: Route }>) => [...it].map((e) => e.object.name);
  return { db, table, lookup, names: names_ };
}

const lpm = suite('LPM index');

lpm('longest prefix wins, IPv4 and IPv6 in one trie', () => {
  const { lookup } = routes([
    ['default4', '0.0.0.0/0'],
    ['ten', '10.0.0.0/8'],
    ['ten-one', '10.1.0.0/16'],
    ['host', '10.1.2.3/32'],
    ['v6', 'fd00::/8'],
    ['v6-64', 'fd00:1:2:3::/64'],
    ['v6-host', 'fd00:1:2:3::1'],
  ]);
  assert.is(lookup('10.1.2.3'), 'host');
  assert.is(lookup('10.1.2.4'), 'ten-one');
  assert.is(lookup('10.2.0.1'), 'ten');
  assert.is(lookup('192.168.1.1'), 'default4');
  assert.is(lookup('fd00:1:2:3::1'), 'v6-host');
  assert.is(lookup('fd00:1:2:3::2'), 'v6-64');
  assert.is(lookup('fd99::1'), 'v6');
  assert.is(lookup('2001:db8::1'), undefined, 'the IPv4 /0 is ::ffff:0:0/96, not ::/0');
  assert.is(lookup('10.1.0.0/16'), 'ten-one', 'a prefix query matches its own prefix');
  assert.is(lookup('10.1.0.0/12'), 'ten');
});

lpm('an IPv6 /0 matches everything not more specific', () => {
  const { lookup } = routes([
    ['all', '::/0'],
    ['ten', '10.0.0.0/8'],
  ]);
  assert.is(lookup('2001:db8::1'), 'all');
  assert.is(lookup('192.168.0.1'), 'all');
  assert.is(lookup('10.9.9.9'), 'ten');
});

lpm('an imaginary branching node at the query length does not hide a real ancestor', () => {
  // 10.0.0.0/8 is real; 10.0.0.0/24 and 10.0.1.0/24 branch at an imaginary 10.0.0.0/23.
  const { lookup, table, db, names } = routes([
    ['eight', '10.0.0.0/8'],
    ['a', '10.0.0.0/24'],
    ['b', '10.0.1.0/24'],
  ]);
  assert.is(lookup('10.0.0.0/23'), 'eight');
  assert.is(lookup('10.0.1.1'), 'b');
  assert.equal(names(table.list(db.readTxn(), table.secondary.cidr.query('10.0.0.0/23'))), ['eight']);
  assert.equal(names(table.list(db.readTxn(), table.secondary.cidr.query('10.0.0.0/8'))), ['eight']);
});

lpm('prefix returns what is inside, lowerBound walks in (address, length) order', () => {
  const { table, db, names } = routes([
    ['eight', '10.0.0.0/8'],
    ['sixteen', '10.1.0.0/16'],
    ['other', '11.0.0.0/8'],
    ['host', '10.1.0.1'],
  ]);
  const r = db.readTxn();
  const cidr = table.secondary.cidr;
  assert.equal(names(table.prefix(r, cidr.query('10.0.0.0/8'))), ['eight', 'sixteen', 'host']);
  assert.equal(names(table.prefix(r, cidr.query('10.1.0.0/16'))), ['sixteen', 'host']);
  assert.equal(names(table.lowerBound(r, cidr.query('10.1.0.0/16'))), ['sixteen', 'host', 'other']);
});

lpm('several objects per prefix, multi-prefix objects, deletes', () => {
  const { table, db, lookup, names } = routes([
    ['b', '10.0.0.0/8', 'fd00::/16'],
    ['a', '10.0.0.0/8'],
  ]);
  const cidr = table.secondary.cidr;
  assert.equal(names(table.list(db.readTxn(), cidr.query('10.1.1.1'))), ['a', 'b'], 'primary-key order');
  assert.is(lookup('10.1.1.1'), 'a');
  assert.is(lookup('fd00::1'), 'b');
  db.write(table, (w) => table.delete(w, { name: 'a', cidrs: [] }));
  assert.is(lookup('10.1.1.1'), 'b');
  db.write(table, (w) => table.insert(w, { name: 'b', cidrs: ['fd00::/16'] }));
  assert.is(lookup('10.1.1.1'), undefined);
  assert.is(lookup('fd00::1'), 'b');
});

lpm('a unique LPM index rejects a second object on one prefix', () => {
  const db = new DB({ validate: true });
  const t = db.newTable({
    name: 'ulpm',
    primary: uniqueIndex('name', Keys.string, (r: Route) => r.name),
    secondary: { cidr: lpmIndex('cidr', (r: Route) => r.cidrs, { unique: true }) },
  });
  db.write(t, (w) => t.insert(w, { name: 'a', cidrs: ['10.0.0.0/8'] }));
  db.write(t, (w) => throwsA(() => t.insert(w, { name: 'b', cidrs: ['10.0.0.0/8'] }), UniqueConstraintError));
});

lpm.run();

const immutable = suite('immutability');

immutable('rows are frozen on insert (deeply in test mode)', () => {
  const { db, table } = objTable();
  const o = { id: 1, tags: ['a'], name: 'n' };
  db.write(table, (w) => table.insert(w, o));
  assert.ok(Object.isFrozen(o));
  assert.ok(Object.isFrozen(o.tags), 'deep freeze in NODE_ENV=test');
  assert.throws(() => (o.tags).push('b'));
});

immutable('re-inserting the stored reference throws; a copy is fine', () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(1)));
  const stored = table.get(db.readTxn(), table.primary.query(1))!;
  db.write(table, (w) => {
    throwsA(() => table.insert(w, stored), SameObjectError);
    throwsA(() => table.modify(w, obj(1), () => stored), SameObjectError);
    table.insert(w, { ...stored });
  });
});

immutable('update applies an immer recipe per row', () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(1, ['a'])));
  const rev = table.revision(db.readTxn());
  const updated = db.write(table, (w) =>
    table.update(w, 1, (d) => {
      d.tags.push('b');
    }),
  );
  assert.equal(updated?.tags, ['a', 'b']);
  assert.ok(Object.isFrozen(updated?.tags));
  assert.equal(ids(table.list(db.readTxn(), table.secondary.tags.query('b'))), [1]);
  const same = db.write(table, (w) => table.update(w, table.primary.query(1), () => {}));
  assert.is(same, table.get(db.readTxn(), table.primary.query(1)), 'a no-op recipe writes nothing');
  assert.is(table.revision(db.readTxn()), rev + 1);
  assert.is(
    db.write(table, (w) => table.update(w, 7, () => {})),
    undefined,
  );
  db.write(table, (w) =>
    throwsA(() => table.update(w, table.secondary.name.query('x'), () => {}), UnsupportedIndexOperationError),
  );
  // A produce() result is a new object, so it may be inserted directly.
  db.write(table, (w) => table.insert(w, produce(updated!, (d) => void (d.name = 'renamed'))));
});

immutable.run();

const txns = suite('transaction errors');

txns('a second write txn on a locked table names the table and the holder', () => {
  const { db, table } = objTable();
  const w = db.writeTxn(table, { holder: 'loader' });
  const err = throwsA(() => db.writeTxn(table), TableLockedError);
  assert.match(String(err), /table "objs" is already locked for writing by loader/);
  w.commit();
  db.writeTxn(table).abort();
  const w2 = db.writeTxn(table);
  assert.match(String(throwsA(() => db.writeTxn([table]), TableLockedError)), /write transaction #\d+/);
  w2.abort();
});

txns('using disposes (aborts) and db.write aborts on throw', () => {
  const { db, table } = objTable();
  {
    using w = db.writeTxn(table);
    table.insert(w, obj(1));
  }
  assert.is(table.numObjects(db.readTxn()), 0);
  assert.throws(() =>
    db.write(table, (w) => {
      table.insert(w, obj(2));
      throw new Error('boom');
    }),
  );
  assert.is(table.numObjects(db.readTxn()), 0);
  db.write(table, (w) => table.insert(w, obj(3)));
  assert.is(table.numObjects(db.readTxn()), 1);
});

txns('transactions and queries of another DB or table are rejected', () => {
  const a = objTable();
  const b = objTable();
  throwsA(() => a.table.get(b.db.readTxn(), a.table.primary.query(1)), TableNotRegisteredError);
  throwsA(() => a.table.get(a.db.readTxn(), b.table.secondary.tags.query('x')), TableNotRegisteredError);
  throwsA(() => a.db.writeTxn(b.table), Error);
});

txns('db.write refuses an async callback and aborts', () => {
  const { db, table } = objTable();
  assert.throws(
    () =>
      db.write(table, async (w) => {
        table.insert(w, obj(1));
        await Promise.resolve();
      }),
    /synchronous/,
  );
  assert.is(table.numObjects(db.readTxn()), 0);
  db.write(table, () => {});
});

txns('commit after abort throws; reads after commit still work', () => {
  const { db, table } = objTable();
  const w = db.writeTxn(table);
  w.abort();
  throwsA(() => w.commit(), TransactionClosedError);
  const w2 = db.writeTxn(table);
  table.insert(w2, obj(1));
  w2.commit();
  assert.is(w2.status, 'committed');
});

txns.run();
