// Validation mode (FLAGELLA_STATEDB_VALIDATE=1, on in tests): after every
// commit, check each changed table's indexes against its primary index.
// O(table size) per commit: a test and debugging aid, not for production.
import { describeKey } from './binary.js';
import type { StoredEntry } from './entry.js';
import { splitLpmKey } from './indexes.js';
import { LpmTrie } from './lpm-trie.js';
import type { SecondaryIndex } from './secondary-index.js';
import type { TableState } from './table-state.js';
import type { Graveyard } from './graveyard.js';
import type { IndexDef } from './indexes.js';

/** What validation reads from a table. */
export interface ValidatedTable<T> {
  readonly name: string;
  readonly primaryDef: IndexDef<T, unknown>;
  readonly secondaryIndexes: readonly SecondaryIndex<T>[];
  readonly graveyard: Graveyard<T>;
}

/** Returns every broken invariant of `st` (empty when consistent), each prefixed with the table name. */
export function validateTable<T>(t: ValidatedTable<T>, st: TableState<T>): string[] {
  const problems: string[] = [];
  const add = (p: string): void => {
    problems.push(`table "${t.name}": ${p}`);
  };
  for (const p of st.primary.check()) add(`primary tree: ${p}`);
  for (const p of checkRevisions(st)) add(`revision index: ${p}`);
  const expected = t.secondaryIndexes.map(() => 0);
  for (let c = st.primary.cursor(); c.valid; c.next()) {
    const e = c.value;
    const pk = c.key;
    if (e.key !== pk) add(`entry under ${describeKey(pk)} carries key ${describeKey(e.key)}`);
    if (t.primaryDef.keyOf(e.object) !== pk) add(`object under ${describeKey(pk)} has another primary key`);
    if (!Object.isFrozen(e.object) && typeof e.object === 'object' && e.object !== null) {
      add(`object under ${describeKey(pk)} is not frozen`);
    }
    if (e.revision > st.revision || e.revision <= 0) add(`entry revision ${e.revision} outside 1..${st.revision}`);
    if (st.atRevision(e.revision) !== e) add(`revision index misses ${describeKey(pk)} at ${e.revision}`);
    for (const si of t.secondaryIndexes) {
      const keys = si.keysOf(e.object);
      expected[si.pos]! += keys.length;
      for (const k of keys) {
        if (!holds(st, si, k, e)) add(`index "${si.def.name}" misses ${describeKey(pk)} under ${describeKey(k)}`);
      }
    }
  }
  for (const si of t.secondaryIndexes) {
    const store = st.secondary[si.pos]!;
    const structural = store.check();
    for (const p of structural) add(`index "${si.def.name}": ${p}`);
    if (store.size !== expected[si.pos]) {
      add(`index "${si.def.name}" has ${store.size} entries, objects have ${expected[si.pos]} keys`);
    }
    for (const e of entriesOf(store)) {
      // An older version is fine when superseded within this state (a rewrite that kept the keys).
      const superseded = e.supersededAt !== 0 && e.supersededAt <= st.revision;
      const current = st.primary.get(e.key);
      if (current !== e && !(superseded && current !== undefined)) {
        add(`index "${si.def.name}" points at a stale entry of ${describeKey(e.key)}`);
      }
    }
  }
  if (st.latest !== null) {
    const size = st.latest.size(st);
    if (size !== st.primary.size) add(`hash index has ${size} entries, primary ${st.primary.size}`);
    for (const [k, e] of st.latest.all(st)) if (st.primary.get(k) !== e) add(`hash index disagrees on ${describeKey(k)}`);
  }
  for (const p of t.graveyard.check(st.revision)) add(p);
  for (const r of t.graveyard.retained()) {
    const alive = st.primary.get(r.key);
    if (alive !== undefined && alive.revision < r.revision) add(`deleted ${describeKey(r.key)} still alive at an older revision`);
  }
  if (st.init !== null && new Set(st.init.pending).size !== st.init.pending.length) add('duplicate pending initializer');
  return problems;
}

/** Whether the index holds e's row under key (possibly as an older version superseded in st). */
function holds<T>(st: TableState<T>, si: SecondaryIndex<T>, key: string, e: StoredEntry<T>): boolean {
  const store = st.secondary[si.pos]!;
  if (store instanceof LpmTrie) {
    const { addr, bits } = splitLpmKey(key);
    return (store.exact(addr, bits) ?? []).some((it) => it.sortKey === e.key && st.current(it.value) === e);
  }
  const held = store.get(si.storageKey(key, e.key));
  return held !== undefined && st.current(held) === e;
}

function* entriesOf<T>(store: TableState<T>['secondary'][number]): Generator<StoredEntry<T>> {
  if (store instanceof LpmTrie) {
    for (const node of store.entries()) for (const it of node.items) yield it.value;
    return;
  }
  for (let c = store.cursor(); c.valid; c.next()) yield c.value;
}

/**
 * The revision log of a committed state that is the latest one: strictly
 * increasing revisions, every live entry current in the primary index (and
 * as many as it has objects), the superseded count right.
 */
function checkRevisions<T>(st: TableState<T>): string[] {
  const problems: string[] = [];
  const entries = st.revisions.entries;
  if (st.revisionsLength !== entries.length) problems.push(`length ${st.revisionsLength} but the log holds ${entries.length}`);
  let previous = 0;
  let live = 0;
  let dead = 0;
  for (let i = 0; i < st.revisionsLength; i++) {
    const e = entries[i]!;
    if (e.revision <= previous) problems.push(`revision ${e.revision} after ${previous}`);
    previous = e.revision;
    if (e.supersededAt === 0) {
      live++;
      if (st.primary.get(e.key) !== e) problems.push(`a stale entry of ${describeKey(e.key)} at ${e.revision} is not marked superseded`);
    } else {
      dead++;
      if (e.supersededAt <= e.revision || e.supersededAt > st.revision) problems.push(`entry at ${e.revision} superseded at ${e.supersededAt}`);
    }
  }
  if (live !== st.primary.size) problems.push(`${live} live entries, primary has ${st.primary.size}`);
  if (dead !== st.revisions.dead) problems.push(`${dead} superseded entries, the log counts ${st.revisions.dead}`);
  return problems;
}
