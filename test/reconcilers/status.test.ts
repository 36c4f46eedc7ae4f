// Status and StatusSet: constructors, string and JSON forms, accessors.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  formatDuration,
  ReconcilerError,
  Status,
  StatusSet,
  statusProperty,
  statusSetProperty,
  TestClock,
} from '../../reconcilers/index.js';

const status = suite('Status');

status('constructors set kind, timestamp from the clock, error message and a fresh id', () => {
  const clock = new TestClock();
  const p = Status.pending(clock);
  const d = Status.done(clock);
  const e = Status.error(new Error('boom'), clock);
  assert.is(p.kind, 'pending');
  assert.is(d.kind, 'done');
  assert.is(e.kind, 'error');
  assert.is(e.error, 'boom');
  assert.is(Status.error('plain string', clock).error, 'plain string');
  assert.is(Status.refreshing(clock).kind, 'refreshing');
  assert.is(p.updatedAt, clock.now());
  assert.ok(p.id > 0 && d.id > p.id, 'ids are fresh and never 0');
  assert.ok(p.wantsReconcile && Status.refreshing(clock).wantsReconcile);
  assert.not.ok(d.wantsReconcile || e.wantsReconcile);
  assert.ok(Object.isFrozen(p));
});

status('string forms say what happened and how long ago', async () => {
  const clock = new TestClock();
  const d = Status.done(clock);
  const e = Status.error(new Error('map full'), clock);
  await clock.advance(1200);
  assert.is(d.format(clock.now()), 'Done (1.2s ago)');
  assert.is(e.format(clock.now()), 'Error: map full (1.2s ago)');
  assert.is(Status.pending(clock).format(clock.now()), 'Pending (0ms ago)');
  assert.equal(
    [850, 42_000, 185_000, 7_800_000, 3 * 86_400_000].map(formatDuration),
    ['850ms', '42s', '3m5s', '2h10m', '3d0h'],
  );
});

status('JSON form round-trips; malformed JSON is rejected with a clear error', () => {
  const clock = new TestClock();
  const e = Status.error(new Error('boom'), clock);
  const json = JSON.parse(JSON.stringify(e)) as unknown;
  assert.equal(json, { kind: 'error', updatedAt: '2025-01-01T00:00:00.000Z', error: 'boom', id: e.id });
  const back = Status.fromJSON(json);
  assert.equal([back.kind, back.updatedAt, back.error, back.id], [e.kind, e.updatedAt, e.error, e.id]);
  assert.throws(() => Status.fromJSON({ kind: 'finished', updatedAt: '2025-01-01T00:00:00Z' }), /kind must be one of/);
  assert.throws(() => Status.fromJSON({ kind: 'done', updatedAt: 'yesterday' }), /updatedAt is not a date/);
  assert.throws(() => Status.fromJSON(null), (err: unknown) => err instanceof ReconcilerError);
});

const sets = suite('StatusSet');

sets('unknown names read as pending with the set id; set() returns a new set', () => {
  const clock = new TestClock();
  const s0 = StatusSet.pending(clock);
  assert.is(s0.get('lb').kind, 'pending');
  assert.is(s0.get('lb').id, s0.id);
  const s1 = s0.set('lb', Status.done(clock));
  assert.is(s0.get('lb').kind, 'pending', 'the original is unchanged');
  assert.is(s1.get('lb').kind, 'done');
  assert.is(s1.get('policy').kind, 'pending');
  assert.equal(s1.names(), ['lb']);
});

sets('markPending marks every reconciler pending with one fresh shared id', () => {
  const clock = new TestClock();
  const s = StatusSet.pending(clock).set('a', Status.done(clock)).set('b', Status.error('x', clock));
  const p = s.markPending(clock);
  assert.ok(p.id !== s.id);
  assert.equal([p.get('a').kind, p.get('b').kind], ['pending', 'pending']);
  assert.equal([p.get('a').id, p.get('b').id, p.get('c').id], [p.id, p.id, p.id]);
});

sets('string form groups by kind; JSON is a map by name and round-trips', async () => {
  const clock = new TestClock();
  const s = StatusSet.pending(clock)
    .set('foo', Status.done(clock))
    .set('bar', Status.error(new Error('fail'), clock))
    .set('baz', Status.pending(clock));
  await clock.advance(3000);
  assert.is(s.format(clock.now()), 'Errored: bar (fail), Pending: baz, Done: foo (3.0s ago)');
  const json = JSON.parse(JSON.stringify(s)) as Record<string, { kind: string }>;
  assert.equal(Object.keys(json).sort(), ['bar', 'baz', 'foo']);
  assert.is(json.bar!.kind, 'error');
  const back = StatusSet.fromJSON(json, clock);
  assert.is(back.get('bar').error, 'fail');
  assert.is(back.get('foo').kind, 'done');
  assert.throws(() => StatusSet.fromJSON([]), /expected an object/);
});

const accessors = suite('status accessors');

accessors('statusProperty and statusSetProperty return new rows and never mutate', () => {
  interface Row {
    readonly id: number;
    readonly status: Status;
    readonly statuses: StatusSet;
  }
  const row: Row = Object.freeze({ id: 1, status: Status.pending(), statuses: StatusSet.pending() });
  const single = statusProperty<Row, 'status'>('status');
  const named = statusSetProperty<Row, 'statuses'>('statuses', 'lb');
  const a = single.set(row, Status.done());
  const b = named.set(row, Status.done());
  assert.is(single.get(row).kind, 'pending');
  assert.is(single.get(a).kind, 'done');
  assert.is(named.get(row).kind, 'pending');
  assert.is(named.get(b).kind, 'done');
  assert.is(a.id, 1);
  assert.is(b.statuses.get('other').kind, 'pending');
});

status.run();
sets.run();
accessors.run();
