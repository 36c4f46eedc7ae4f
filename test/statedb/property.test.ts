// Property test: random sequences of inserts, deletes, modifies, commits and
// aborts over two tables (non-unique and unique secondary indexes), checked
// after every step against a plain Map model. Change iterators, consumed in
// random bites, must rebuild the model exactly; every watch on a changed key
// must be closed after the commit (no missed change), watches on unchanged
// primary keys must stay open, and nothing closes on abort.
import fc from 'fast-check';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import {
  DB,
  Keys,
  nonUniqueIndex,
  TableNotLockedError,
  UniqueConstraintError,
  uniqueIndex,
} from '../../statedb/index.js';
import type { ChangeIterator, Table, Watch, WriteTxn } from '../../statedb/index.js';

interface Row {
  readonly id: number;
  readonly group: string;
  readonly email: string;
  readonly v: number;
}

const IDS = 12;
const GROUPS = ['', 'a', 'ab', 'b'];
const EMAILS = ['x', 'y', 'z', 'w', 'v', 'u', 't', 's'];

type Op =
  | { kind: 'begin'; tables: 0 | 1 | 2 }
  | { kind: 'insert'; t: 0 | 1; id: number; group: string; email: string }
  | { kind: 'delete'; t: 0 | 1; id: number }
  | { kind: 'modify'; t: 0 | 1; id: number; group: string }
  | { kind: 'commit' }
  | { kind: 'abort' }
  | { kind: 'drain'; t: 0 | 1; take: number };

const tableArb = fc.constantFrom<0 | 1>(0, 1);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('begin' as const), tables: fc.constantFrom<0 | 1 | 2>(0, 1, 2) }) },
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('insert' as const),
      t: tableArb,
      id: fc.nat(IDS - 1),
      group: fc.constantFrom(...GROUPS),
      email: fc.constantFrom(...EMAILS),
    }),
  },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('delete' as const), t: tableArb, id: fc.nat(IDS - 1) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('modify' as const),
      t: tableArb,
      id: fc.nat(IDS - 1),
      group: fc.constantFrom(...GROUPS),
    }),
  },
  { weight: 3, arbitrary: fc.constant({ kind: 'commit' as const }) },
  { weight: 1, arbitrary: fc.constant({ kind: 'abort' as const }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('drain' as const), t: tableArb, take: fc.nat(6) }) },
);

type RowTable = Table<Row, number, { group: ReturnType<typeof groupIndex>; email: ReturnType<typeof emailIndex> }>;
const groupIndex = () => nonUniqueIndex('group', Keys.string, (r: Row) => r.group);
const emailIndex = () => uniqueIndex('email', Keys.string, (r: Row) => r.email);

interface Model {
  rows: Map<number, Row>;
  revision: number;
}

const sorted = (m: Map<number, Row>) => [...m].sort((a, b) => a[0] - b[0]);
const clone = (m: Model): Model => ({ rows: new Map(m.rows), revision: m.revision });

function checkView(table: RowTable, txn: Parameters<RowTable['all']>[0], m: Model, where: string): void {
  const expected = [...m.rows.values()].sort((a, b) => a.id - b.id);
  assert.equal(
    [...table.all(txn)].map((e) => e.object),
    expected,
    `${where}: all`,
  );
  assert.is(table.revision(txn), m.revision, `${where}: revision`);
  for (let id = 0; id < IDS; id++) assert.is(table.get(txn, table.primary.query(id)), m.rows.get(id), `${where}: get ${id}`);
  for (const g of GROUPS) {
    const want = expected.filter((r) => r.group === g).map((r) => r.id);
    assert.equal(
      [...table.list(txn, table.secondary.group.query(g))].map((e) => e.object.id),
      want,
      `${where}: list group ${JSON.stringify(g)}`,
    );
    assert.equal(
      [...table.prefix(txn, table.secondary.group.query(g))].map((e) => e.object.id).sort((a, b) => a - b),
      expected.filter((r) => r.group.startsWith(g)).map((r) => r.id),
      `${where}: prefix group ${JSON.stringify(g)}`,
    );
  }
  for (const e of EMAILS) {
    assert.is(table.get(txn, table.secondary.email.query(e)), expected.find((r) => r.email === e), `${where}: email ${e}`);
  }
  const byRev = [...table.lowerBound(txn, table.byRevision(0))].map((e) => e.revision);
  assert.equal(byRev, [...byRev].sort((a, b) => a - b), `${where}: revision order`);
  assert.is(byRev.length, m.rows.size);
}

class Run {
  readonly db = new DB({ validate: true });
  readonly tables: RowTable[];
  committed: Model[] = [
    { rows: new Map(), revision: 0 },
    { rows: new Map(), revision: 0 },
  ];
  pending: (Model | undefined)[] = [undefined, undefined];
  /** Keys written in the open transaction (a write that was undone later may close a watch: allowed). */
  touched: Set<number>[] = [new Set(), new Set()];
  txn: WriteTxn | undefined;
  readonly iterators: ChangeIterator<Row>[];
  readonly replicas: Map<number, Row>[] = [new Map<number, Row>(), new Map<number, Row>()];
  readonly lastRev = [0, 0];
  private v = 0;

  constructor() {
    this.tables = ['left', 'right'].map((name) =>
      this.db.newTable({
        name,
        primary: uniqueIndex('id', Keys.u8, (r: Row) => r.id),
        secondary: { group: groupIndex(), email: emailIndex() },
      }),
    );
    this.iterators = this.tables.map((t) => t.changes());
  }

  step(op: Op): void {
    switch (op.kind) {
      case 'begin':
        if (this.txn !== undefined) return;
        this.begin(op.tables);
        return;
      case 'commit':
        return this.end(true);
      case 'abort':
        return this.end(false);
      case 'drain':
        this.drain(op.t, op.take);
        return;
      default:
        return this.write(op);
    }
  }

  private begin(which: 0 | 1 | 2): void {
    const locked = which === 2 ? [0, 1] : [which];
    this.txn = this.db.writeTxn(locked.map((i) => this.tables[i]!));
    for (const i of locked) this.pending[i] = clone(this.committed[i]!);
  }

  private write(op: Extract<Op, { kind: 'insert' | 'delete' | 'modify' }>): void {
    if (this.txn === undefined) this.begin(2);
    const table = this.tables[op.t]!;
    const txn = this.txn!;
    const m = this.pending[op.t];
    if (m === undefined) {
      assert.throws(() => table.delete(txn, { id: 0, group: '', email: '', v: 0 }), (e: unknown) => e instanceof TableNotLockedError);
      return;
    }
    if (op.kind === 'delete') {
      const old = table.delete(txn, { id: op.id, group: '', email: '', v: 0 });
      assert.is(old, m.rows.get(op.id));
      if (m.rows.delete(op.id)) {
        m.revision++;
        this.touched[op.t]!.add(op.id);
      }
      return;
    }
    const old = m.rows.get(op.id);
    const row: Row =
      op.kind === 'insert'
        ? { id: op.id, group: op.group, email: op.email, v: ++this.v }
        : old === undefined
          ? { id: op.id, group: op.group, email: EMAILS[op.id % EMAILS.length]!, v: ++this.v }
          : { ...old, group: op.group, v: ++this.v };
    const holder = [...m.rows.values()].find((r) => r.email === row.email && r.id !== row.id);
    let stored = row;
    const write = () =>
      op.kind === 'insert'
        ? table.insert(txn, row)
        : table.modify(txn, row, (o, n) => (stored = { ...n, email: o.email }));
    if (holder !== undefined) {
      assert.throws(write, (e: unknown) => e instanceof UniqueConstraintError);
      return;
    }
    assert.is(write(), old);
    m.rows.set(op.id, stored);
    this.touched[op.t]!.add(op.id);
    m.revision++;
  }

  private end(commit: boolean): void {
    const txn = this.txn;
    if (txn === undefined) return;
    // Watches taken on the committed state just before the commit/abort.
    const r = this.db.readTxn();
    const watches = this.tables.map((t) => ({
      keys: Array.from({ length: IDS }, (_, id) => t.getWatch(r, t.primary.query(id)).watch),
      groups: GROUPS.map((g) => t.listWatch(r, t.secondary.group.query(g)).watch),
      all: t.allWatch(r).watch,
    }));
    if (commit) txn.commit();
    else txn.abort();
    this.txn = undefined;
    for (let i = 0; i < 2; i++) {
      const before = this.committed[i]!;
      const after = commit && this.pending[i] !== undefined ? this.pending[i]! : before;
      const w = watches[i]!;
      if (!commit) {
        assert.ok(![...w.keys, ...w.groups, w.all].some((x: Watch) => x.closed), 'nothing closes on abort');
      }
      for (let id = 0; id < IDS; id++) {
        const changed = before.rows.get(id) !== after.rows.get(id);
        if (changed) assert.ok(w.keys[id]!.closed, `table ${i} key ${id} watch missed a change`);
        else if (!this.touched[i]!.has(id)) assert.not.ok(w.keys[id]!.closed, `table ${i} key ${id}: neighbour closed it`);
      }
      GROUPS.forEach((g, gi) => {
        const touched = [...new Set([...before.rows.keys(), ...after.rows.keys()])].some((id) => {
          const a = before.rows.get(id);
          const b = after.rows.get(id);
          return a !== b && (a?.group === g || b?.group === g);
        });
        if (touched) assert.ok(w.groups[gi]!.closed, `table ${i} group ${g} watch missed a change`);
      });
      if (after !== before) assert.ok(w.all.closed || after.revision === before.revision);
      this.committed[i] = after;
      this.pending[i] = undefined;
      this.touched[i]!.clear();
    }
  }

  /** Consumes up to `take` changes (all when 0); returns whether more may be pending. */
  private drain(t: 0 | 1, take: number): boolean {
    const it = this.iterators[t]!;
    const replica = this.replicas[t]!;
    const { changes, watch } = it.next();
    let n = 0;
    for (const c of changes) {
      assert.ok(c.revision > this.lastRev[t]!, 'changes come in increasing revision order');
      this.lastRev[t] = c.revision;
      if (c.deleted) replica.delete(c.object.id);
      else replica.set(c.object.id, c.object);
      if (++n >= take && take > 0) break;
    }
    if (!watch.closed) {
      // Drained: the replica is exactly the committed table.
      assert.equal(sorted(replica), sorted(this.committed[t]!.rows));
    }
    return watch.closed;
  }

  check(): void {
    const r = this.db.readTxn();
    this.tables.forEach((t, i) => {
      checkView(t, r, this.committed[i]!, `committed ${t.name}`);
      if (this.txn !== undefined && this.pending[i] !== undefined) checkView(t, this.txn, this.pending[i], `txn ${t.name}`);
    });
  }

  finish(): void {
    this.end(true);
    for (const t of [0, 1] as const) {
      let pending = true;
      for (let i = 0; i < 100 && pending; i++) pending = this.drain(t, 0);
      assert.is(pending, false, 'the iterator drains');
      assert.equal(sorted(this.replicas[t]!), sorted(this.committed[t]!.rows), 'replaying all changes rebuilds the table');
      this.iterators[t]!.close();
      assert.is(this.tables[t]!.graveyardSize, 0);
    }
  }
}

test('random transactions agree with a Map model, changes replay it, watches never miss', () => {
  fc.assert(
    fc.property(fc.array(opArb, { minLength: 1, maxLength: 60 }), (ops) => {
      const run = new Run();
      for (const op of ops) {
        run.step(op);
        run.check();
      }
      run.finish();
    }),
    { numRuns: 1000 },
  );
});

test.run();
