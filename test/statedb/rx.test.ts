// rxjs adapters: observeQuery re-emits after relevant commits only and
// coalesces bursts; observeChanges streams a change iterator and closes it
// on unsubscribe (no delete tracker, no retained graveyard afterwards).
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { firstValueFrom, take, toArray } from 'rxjs';
import type { Subscription } from 'rxjs';
import { observeChanges, observeQuery } from '../../statedb/index.js';
import type { Change, QueryResult } from '../../statedb/index.js';
import { obj, objTable } from './fixtures.js';
import type { Obj } from './fixtures.js';

/** Lets watch promises and the adapters' loops run. */
const settle = () => new Promise<void>((r) => setTimeout(r, 0));

/** Waits (bounded) until cond holds. */
async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await settle();
  assert.ok(cond(), `timed out waiting for ${what}`);
}

const query = suite('observeQuery');

query('emits now, after each relevant commit, not after unrelated ones; bursts coalesce', async () => {
  const { db, table } = objTable();
  db.write(table, (w) => table.insert(w, obj(1, ['a'])));
  const seen: QueryResult<number[]>[] = [];
  const sub = observeQuery(db, table, (txn) => {
    const { result, watch } = table.listWatch(txn, table.secondary.tags.query('a'));
    return { result: [...result].map((e) => e.object.id), watch };
  }).subscribe((r) => seen.push(r));
  try {
    assert.equal(seen, [{ revision: 1, result: [1] }], 'the first result is synchronous');
    db.write(table, (w) => table.insert(w, obj(2, ['b']))); // not tagged "a": the watch stays open
    await settle();
    assert.is(seen.length, 1, 'an unrelated commit does not re-run the query');
    for (let i = 3; i < 13; i++) db.write(table, (w) => table.insert(w, obj(i, ['a'])));
    await until(() => seen.length === 2, 'the burst result');
    await settle();
    assert.is(seen.length, 2, 'ten synchronous commits give one result');
    assert.equal(seen[1], { revision: 12, result: [1, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12] });
  } finally {
    sub.unsubscribe();
  }
  db.write(table, (w) => table.delete(w, obj(1)));
  await settle();
  assert.is(seen.length, 2, 'nothing after unsubscribe');
});

query('coalesceMs merges commits spread over time; distinct revisions only; errors reach the subscriber', async () => {
  const { db, table } = objTable();
  const seen: number[] = [];
  const sub = observeQuery(db, [table], (txn) => table.allWatch(txn), { coalesceMs: 30 }).subscribe((r) => seen.push(r.revision));
  for (let i = 1; i <= 3; i++) {
    db.write(table, (w) => table.insert(w, obj(i)));
    await settle();
  }
  await until(() => seen.length === 2, 'the coalesced result');
  sub.unsubscribe();
  assert.equal(seen, [0, 3]);

  let calls = 0;
  const failing = observeQuery(db, table, (txn) => {
    if (++calls === 2) throw new Error('query failed');
    return table.allWatch(txn);
  });
  let error: unknown;
  const sub2 = failing.subscribe({ error: (e: unknown) => (error = e) });
  db.write(table, (w) => table.insert(w, obj(9)));
  await until(() => error !== undefined, 'the error');
  assert.match(String(error), /query failed/);
  assert.ok(sub2.closed);
});

query('works with rxjs operators and firstValueFrom', async () => {
  const { db, table } = objTable();
  const first = await firstValueFrom(observeQuery(db, table, (txn) => ({ result: table.numObjects(txn), watch: table.allWatch(txn).watch })));
  assert.equal(first, { revision: 0, result: 0 });
  const two = firstValueFrom(
    observeQuery(db, table, (txn) => ({ result: table.numObjects(txn), watch: table.allWatch(txn).watch })).pipe(take(2), toArray()),
  );
  db.write(table, (w) => table.insert(w, obj(1)));
  assert.equal(
    (await two).map((r) => r.result),
    [0, 1],
  );
});

query.run();

const changes = suite('observeChanges');

changes('replays current rows, then streams inserts, updates and deletes in revision order', async () => {
  const { db, table } = objTable();
  db.write(table, (w) => {
    table.insert(w, obj(1));
    table.insert(w, obj(2));
  });
  const seen: [number, number, boolean][] = [];
  const sub = observeChanges(table).subscribe((c: Change<Obj>) => seen.push([c.object.id, c.revision, c.deleted]));
  try {
    assert.equal(seen, [
      [1, 1, false],
      [2, 2, false],
    ]);
    db.write(table, (w) => {
      table.insert(w, obj(3));
      table.insert(w, obj(1, ['x']));
    });
    db.write(table, (w) => table.delete(w, obj(2)));
    await until(() => seen.length === 5, 'three more changes');
    assert.equal(seen.slice(2), [
      [3, 3, false],
      [1, 4, false],
      [2, 5, true],
    ]);
  } finally {
    sub.unsubscribe();
  }
});

changes('unsubscribing closes the iterator: no tracker, no graveyard retained afterwards', async () => {
  const { db, table } = objTable();
  db.write(table, (w) => [1, 2, 3].forEach((i) => table.insert(w, obj(i))));
  assert.is(table.deleteTrackers, 0);
  const seen: Change<Obj>[] = [];
  let sub: Subscription = observeChanges(table).subscribe((c) => seen.push(c));
  assert.is(table.deleteTrackers, 1);
  // While subscribed, deletes are retained until the subscriber's loop sees them.
  sub.unsubscribe();
  assert.is(table.deleteTrackers, 0, 'the tracker is gone at once');
  db.write(table, (w) => table.delete(w, obj(1)));
  assert.is(table.graveyardSize, 0, 'no delete is kept for a closed subscription');

  // take(n) unsubscribes from inside the synchronous replay: the iterator closes too.
  const firstTwo = await firstValueFrom(observeChanges(table).pipe(take(2), toArray()));
  assert.equal(
    firstTwo.map((c) => c.object.id),
    [2, 3],
  );
  assert.is(table.deleteTrackers, 0);

  // A subscriber that is slow to run keeps deletes only until it sees them.
  sub = observeChanges(table).subscribe((c) => seen.push(c));
  db.write(table, (w) => table.delete(w, obj(2)));
  assert.is(table.graveyardSize, 1, 'retained for the live subscriber');
  await until(() => table.graveyardSize === 0, 'the subscriber to consume the delete');
  sub.unsubscribe();
  assert.is(table.deleteTrackers, 0);
});

changes.run();
