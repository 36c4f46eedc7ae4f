// The prom-client metrics sink, checked by scraping the registry's text.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { Registry } from 'prom-client';
import { DB, Keys, prometheusMetrics, uniqueIndex } from '../../statedb/index.js';
import { obj, objTable } from './fixtures.js';

const metrics = suite('prometheus metrics');

/** The value of one sample line, e.g. sample(text, 'flagella_statedb_table_objects{table="objs"}'). */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

metrics('table gauges and the write transaction histogram follow commits', async () => {
  const registry = new Registry();
  const { db, table } = objTable(new DB({ validate: true, metrics: prometheusMetrics(registry) }));
  const other = db.newTable({ name: 'other', primary: uniqueIndex('id', Keys.u32, (o: { id: number }) => o.id) });
  db.write(table, (w) => [1, 2, 3].forEach((i) => table.insert(w, obj(i))));
  const it = table.changes();
  for (const _ of it.next().changes); // the iterator has seen every row
  db.write([table, other], (w) => {
    table.delete(w, obj(3));
    other.insert(w, { id: 1 });
  });
  let text = await registry.metrics();
  const g = (name: string, t = 'objs') => sample(text, `flagella_statedb_${name}{table="${t}"}`);
  assert.is(g('table_objects'), 2);
  assert.is(g('table_revision'), 4);
  assert.is(g('table_graveyard_objects'), 1, 'the delete is retained for the open iterator');
  assert.is(g('table_delete_trackers'), 1);
  assert.is(g('table_objects', 'other'), 1);
  assert.is(sample(text, 'flagella_statedb_write_txn_duration_seconds_count{tables="objs"}'), 1);
  assert.is(sample(text, 'flagella_statedb_write_txn_duration_seconds_count{tables="objs,other"}'), 1);
  assert.ok(sample(text, 'flagella_statedb_write_txn_duration_seconds_sum{tables="objs,other"}')! >= 0);
  assert.match(text, /# TYPE flagella_statedb_write_txn_duration_seconds histogram/);
  assert.match(text, /# HELP flagella_statedb_table_revision The table revision/);

  it.close();
  db.write(table, (w) => table.insert(w, obj(4)));
  text = await registry.metrics();
  assert.is(g('table_graveyard_objects'), 0);
  assert.is(g('table_delete_trackers'), 0);
  assert.is(g('table_objects'), 3);
  assert.is(sample(text, 'flagella_statedb_write_txn_duration_seconds_count{tables="objs"}'), 2);
});

metrics('a custom prefix; a second sink on the same registry is refused', async () => {
  const registry = new Registry();
  const { db, table } = objTable(new DB({ metrics: prometheusMetrics(registry, { prefix: 'x_' }) }));
  db.write(table, (w) => table.insert(w, obj(1)));
  assert.is(sample(await registry.metrics(), 'x_table_objects{table="objs"}'), 1);
  assert.throws(() => prometheusMetrics(registry, { prefix: 'x_' }), /already been registered/);
});

metrics.run();
