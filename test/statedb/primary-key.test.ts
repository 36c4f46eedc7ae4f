// Table.primaryKeyOf: the row identity the layers above key their bookkeeping by.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { DB, Keys, uniqueIndex } from '../../statedb/index.js';
import { obj, objTable } from './fixtures.js';

test('versions of one row share a primary key; different rows do not', () => {
  const { table } = objTable();
  assert.is(table.primaryKeyOf(obj(1, ['a'])), table.primaryKeyOf(obj(1, ['b'], 'other')));
  assert.is.not(table.primaryKeyOf(obj(1)), table.primaryKeyOf(obj(2)));
});

test('the key is the primary index encoding (a query on it finds the row)', () => {
  const db = new DB({ validate: true });
  const table = db.newTable({ name: 'strs', primary: uniqueIndex('k', Keys.string, (o: { k: string }) => o.k) });
  db.write([table], (txn) => table.insert(txn, { k: 'x' }));
  assert.is(table.primaryKeyOf({ k: 'x' }), table.primary.query('x').key);
});

test.run();
