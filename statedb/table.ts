// A table: typed rows, a unique primary index, secondary indexes, and the
// read, watch, write and change-tracking API over them. Data lives in
// TableState snapshots; the table object holds the schema, the watch
// registries and the graveyard, which are shared by all snapshots.
import { produce } from 'immer';
import type { Draft } from 'immer';
import type { BTree } from './btree.js';
import type { InitializedState, KeyOfDef, RowCodec, SecondaryDefs, TableDef, Watched } from './table-def.js';
import type { ChangeSource } from './changes.js';
import { ChangeIterator } from './changes.js';
import type { DeleteRecord, Entry, StoredEntry } from './entry.js';
import {
  InitializerError,
  InvalidSchemaError,
  RevisionNotEqualError,
  StateDBError,
  TableNotRegisteredError,
  UnsupportedIndexOperationError,
} from './errors.js';
import { Graveyard } from './graveyard.js';
import type { IndexDef } from './indexes.js';
import { nonUniqueExactPrefix, nonUniquePrefix, splitLpmKey } from './indexes.js';
import { LpmTrie } from './lpm-trie.js';
import { justEntry, LpmRange, RevisionRange, TreeRange } from './ranges.js';
import { SecondaryIndex } from './secondary-index.js';
import type { SecondaryStore } from './secondary-index.js';
import { TableIndex, Query, PRIMARY, REVISION } from './table-index.js';
import { TableState } from './table-state.js';
import { refreshStale, remove, upsert } from './table-writes.js';
import type { TableTxn, Txn, TxnOwner, WriteTxn } from './txn.js';
import { WriteTxn as WriteTxnClass } from './txn.js';
import type { Watch } from './watch.js';
import { closedWatch, Watch as WatchClass } from './watch.js';
import { IndexWatches } from './watch-registry.js';

export type { InitializedState, KeyOfDef, RowCodec, SecondaryDefs, TableDef, Watched } from './table-def.js';

/** Internal hooks the DB calls. */
export interface TableDB extends TxnOwner {
  readonly deepFreeze: boolean;
  latestStates(): readonly TableState<unknown>[];
}

export class Table<T, PK = unknown, S extends SecondaryDefs<T> = SecondaryDefs<T>> implements ChangeSource<T> {
  readonly name: string;
  readonly primary: TableIndex<T, PK>;
  readonly secondary: { readonly [N in keyof S]: TableIndex<T, KeyOfDef<S[N]>> };
  /** Every index by name (primary included), for untyped access. */
  readonly indexes: ReadonlyMap<string, TableIndex<T, unknown>>;
  /** The internal revision index: `lowerBound(txn, table.revisionIndex.query(r))` walks by revision. */
  readonly revisionIndex: TableIndex<T, number>;
  readonly header: readonly string[] | undefined;
  readonly row: ((obj: T) => readonly string[]) | undefined;
  readonly toJSON: (obj: T) => unknown;
  /** True when the table is kept in the DB's store. */
  readonly durable: boolean;
  /** The row schema version kept in the store. */
  readonly version: number;
  /** The stored form of rows (undefined: rows as they are). */
  readonly codec: RowCodec<T> | undefined;

  /** @internal */ readonly primaryDef: IndexDef<T, unknown>;
  /** @internal */ readonly secondaryIndexes: readonly SecondaryIndex<T>[];
  /** @internal Watch registries: 0 = primary (and revision), 1 + i = secondary i. */
  readonly watches: IndexWatches[];
  /** @internal */ readonly graveyard = new Graveyard<T>();
  /** @internal */ lockedBy: WriteTxn | null = null;
  /** @internal */ readonly initial: TableState<T>;
  /** @internal */ readonly deepFreeze: boolean;

  /** @internal Use DB.newTable. */
  constructor(
    /** @internal */ readonly db: TableDB,
    def: TableDef<T, PK, S>,
    /** @internal Position in every root's state array. */
    readonly pos: number,
  ) {
    this.name = def.name;
    this.deepFreeze = db.deepFreeze;
    this.primaryDef = def.primary;
    this.header = def.header;
    this.row = def.row;
    this.toJSON = def.toJSON ?? ((o) => o);
    this.durable = def.durable === true;
    this.version = def.version ?? 1;
    this.codec = def.codec;
    this.primary = new TableIndex<T, PK>(this, def.primary, PRIMARY);
    this.revisionIndex = TableIndex.revision(this);
    const indexes = new Map<string, TableIndex<T, unknown>>([[def.primary.name, this.primary]]);
    const secondary: Record<string, TableIndex<T, unknown>> = {};
    const secondaryIndexes: SecondaryIndex<T>[] = [];
    for (const [prop, idef] of Object.entries(def.secondary ?? {})) {
      const pos = secondaryIndexes.length;
      const handle = new TableIndex<T, unknown>(this, idef as IndexDef<T, unknown>, pos);
      indexes.set(idef.name, handle);
      secondary[prop] = handle;
      secondaryIndexes.push(new SecondaryIndex<T>(idef as IndexDef<T, unknown>, pos));
    }
    this.secondary = secondary as Table<T, PK, S>['secondary'];
    this.indexes = indexes;
    this.secondaryIndexes = secondaryIndexes;
    this.watches = [new IndexWatches(), ...secondaryIndexes.map(() => new IndexWatches())];
    this.initial = TableState.empty<T>(secondaryIndexes.map((si) => si.emptyStore()));
  }

  // ---- snapshots -------------------------------------------------------

  /** @internal The table as a transaction sees it (a write transaction's draft included). */
  stateOf(txn: Txn): TableState<T> {
    if (txn.db !== this.db) throw new TableNotRegisteredError(`table "${this.name}": transaction of another DB`);
    return (txn.states[this.pos] ?? this.initial) as TableState<T>;
  }

  /** @internal The committed state a transaction started from. */
  committedStateOf(txn: Txn): TableState<T> {
    if (txn instanceof WriteTxnClass) {
      const tt = txn.tableTxns.get(this.pos);
      if (tt !== undefined && tt.table === this) return tt.base as TableState<T>;
    }
    return this.stateOf(txn);
  }

  /** @internal */
  latestState(): TableState<T> {
    return (this.db.latestStates()[this.pos] ?? this.initial) as TableState<T>;
  }

  // ---- reads -----------------------------------------------------------

  /** The object matching q (the first in index order on non-unique indexes, the longest prefix on LPM). */
  get(txn: Txn, q: Query<T>): T | undefined {
    return this.getEntry(txn, q)?.object;
  }

  /** Like get, with the object's revision. */
  getEntry(txn: Txn, q: Query<T>): Entry<T> | undefined {
    const st = this.stateOf(txn);
    if (q.index === this.primary) return st.lookup(q.key);
    return this.secondaryGet(st, q);
  }

  /** getEntry plus a watch closing when that answer may have changed (also when a missing key appears). */
  getWatch(txn: Txn, q: Query<T>): { entry: Entry<T> | undefined; watch: Watch } {
    const st = this.stateOf(txn);
    const entry = q.index === this.primary ? st.lookup(q.key) : this.secondaryGet(st, q);
    return { entry, watch: this.watchFor(txn, st, q.index, q.key, 'key') };
  }

  /** Every exact match of q, in primary-key order (0 or 1 on a unique index). */
  list(txn: Txn, q: Query<T>): Iterable<Entry<T>> {
    const st = this.stateOf(txn);
    const index = this.checkQuery(q);
    if (index.pos === PRIMARY) return justEntry(st.lookup(q.key));
    if (index.pos === REVISION) return justEntry(st.atRevision(q.revision));
    const store = this.secondaryStore(st, index.pos);
    const resolver = st.resolver;
    if (store instanceof LpmTrie) {
      const { addr, bits } = splitLpmKey(q.key);
      return (store.lookup(addr, bits) ?? []).map((it) => resolver.current(it.value));
    }
    if (index.unique) {
      const e = store.get(q.key);
      return justEntry(e === undefined ? undefined : resolver.current(e));
    }
    const prefix = nonUniqueExactPrefix(q.key);
    return new TreeRange<string, T>(store.snapshot(), prefix, prefix, false, resolver);
  }

  listWatch(txn: Txn, q: Query<T>): Watched<Iterable<Entry<T>>> {
    const result = this.list(txn, q);
    return { result, watch: this.watchFor(txn, this.stateOf(txn), q.index, q.key, 'key') };
  }

  /** Objects whose key starts with q's key, in key order, each once (LPM: prefixes inside q). */
  prefix(txn: Txn, q: Query<T>): Iterable<Entry<T>> {
    const st = this.stateOf(txn);
    const index = this.checkQuery(q);
    if (index.pos === REVISION) throw new UnsupportedIndexOperationError('the revision index has no prefix queries');
    if (index.pos === PRIMARY) return new TreeRange<string, T>(st.primary.snapshot(), q.key, q.key, false);
    const store = this.secondaryStore(st, index.pos);
    if (store instanceof LpmTrie) {
      const { addr, bits } = splitLpmKey(q.key);
      const trie = store.snapshot();
      return new LpmRange<T>(() => trie.within(addr, bits), st.resolver);
    }
    const start = index.unique ? q.key : nonUniquePrefix(q.key);
    return new TreeRange<string, T>(store.snapshot(), start, start, index.multi, st.resolver);
  }

  prefixWatch(txn: Txn, q: Query<T>): Watched<Iterable<Entry<T>>> {
    const result = this.prefix(txn, q);
    return { result, watch: this.watchFor(txn, this.stateOf(txn), q.index, q.key, 'prefix') };
  }

  /** Objects whose key is >= q's key, in key order, each once (revision index: revision >= r). */
  lowerBound(txn: Txn, q: Query<T>): Iterable<Entry<T>> {
    const st = this.stateOf(txn);
    const index = this.checkQuery(q);
    if (index.pos === PRIMARY) return new TreeRange<string, T>(st.primary.snapshot(), q.key, undefined, false);
    if (index.pos === REVISION) {
      const range = new RevisionRange<T>(st, q.revision);
      // An open write's view of the shared log changes with its next write: copy it now.
      return st.base === null ? range : [...range];
    }
    const store = this.secondaryStore(st, index.pos);
    if (store instanceof LpmTrie) {
      const { addr, bits } = splitLpmKey(q.key);
      const trie = store.snapshot();
      return new LpmRange<T>(() => trie.from(addr, bits), st.resolver);
    }
    const start = index.unique ? q.key : nonUniquePrefix(q.key);
    return new TreeRange<string, T>(store.snapshot(), start, undefined, index.multi, st.resolver);
  }

  lowerBoundWatch(txn: Txn, q: Query<T>): Watched<Iterable<Entry<T>>> {
    const result = this.lowerBound(txn, q);
    return { result, watch: this.watchFor(txn, this.stateOf(txn), q.index, q.key, 'any') };
  }

  /** Every object in primary-key order. */
  all(txn: Txn): Iterable<Entry<T>> {
    return new TreeRange<string, T>(this.stateOf(txn).primary.snapshot(), undefined, undefined, false);
  }

  /** all plus a watch closing on any change to the table. */
  allWatch(txn: Txn): Watched<Iterable<Entry<T>>> {
    const st = this.stateOf(txn);
    const result = new TreeRange<string, T>(st.primary.snapshot(), undefined, undefined, false);
    return { result, watch: this.watchFor(txn, st, this.primary, '', 'any') };
  }

  /**
   * The encoded primary key of obj: two objects have equal keys exactly
   * when they are the same row (different versions of it). Layers on top
   * key their own per-row bookkeeping by it (a reconciler's retry queue).
   * Throws what the primary index's key function or encoder throws.
   */
  primaryKeyOf(obj: T): string {
    return this.primaryDef.keyOf(obj);
  }

  /** Objects with revision >= revision, oldest change first: `lowerBound(txn, table.byRevision(r))`. */
  byRevision(revision: number): Query<T> {
    return this.revisionIndex.query(revision);
  }

  /** Number of objects. */
  numObjects(txn: Txn): number {
    return this.stateOf(txn).primary.size;
  }

  /** The revision of the table's last change (0 when never written). Revisions are per table, below 2^53. */
  revision(txn: Txn): number {
    return this.stateOf(txn).revision;
  }

  /** Deleted objects retained for change iterators that have not seen them ("zombies"). */
  get graveyardSize(): number {
    return this.graveyard.size;
  }

  /** Live change iterators. */
  get deleteTrackers(): number {
    return this.graveyard.trackerCount;
  }

  // ---- initializers ----------------------------------------------------

  /** Whether every registered initializer is done, and a watch for when it becomes so. */
  initialized(txn: Txn): InitializedState {
    const init = this.stateOf(txn).init;
    if (init === null || init.pending.length === 0) return { initialized: true, watch: closedWatch };
    return { initialized: false, watch: init.watch };
  }

  /** Names of pending initializers, in registration order. */
  pendingInitializers(txn: Txn): readonly string[] {
    return this.stateOf(txn).init?.pending ?? [];
  }

  /**
   * Registers a pending initializer: the table is not initialized until
   * markDone has been called for every one and committed. Throws
   * InitializerError when `name` is already pending. markDone removes the
   * name (at most once; later calls are no-ops) in the given transaction,
   * which must lock this table.
   */
  registerInitializer(txn: WriteTxn, name: string): (txn: WriteTxn) => void {
    const tt = txn.tableTxn<T>(this);
    const init = tt.draft.init;
    if (init !== null && init.pending.includes(name)) {
      throw new InitializerError(`table "${this.name}": initializer "${name}" is already pending`);
    }
    tt.draft.init =
      init === null || init.pending.length === 0
        ? { pending: [name], watch: init?.watch ?? new WatchClass() }
        : { pending: [...init.pending, name], watch: init.watch };
    tt.initChanged = true;
    let done = false;
    return (doneTxn: WriteTxn) => {
      const dt = doneTxn.tableTxn<T>(this);
      if (done) return;
      done = true;
      const cur = dt.draft.init;
      if (cur === null || !cur.pending.includes(name)) return;
      dt.draft.init = { pending: cur.pending.filter((n) => n !== name), watch: cur.watch };
      dt.initChanged = true;
    };
  }

  // ---- writes ----------------------------------------------------------

  /**
   * Inserts obj or replaces the object with its primary key; returns the
   * replaced object. The object is frozen (deeply in dev/test). Throws
   * SameObjectError, UniqueConstraintError, TableNotLockedError,
   * TransactionClosedError; on a throw the transaction is unchanged.
   */
  insert(txn: WriteTxn, obj: T): T | undefined {
    return upsert(this, txn.tableTxn<T>(this), obj)?.object;
  }

  /**
   * Inserts obj, or when an object with its primary key exists stores
   * merge(old, obj) instead (merge is not called otherwise). The merged
   * object must keep the primary key. Returns the replaced object.
   */
  modify(txn: WriteTxn, obj: T, merge: (old: T, obj: T) => T): T | undefined {
    const tt = txn.tableTxn<T>(this);
    const pk = this.primaryDef.keyOf(obj);
    const cur = tt.draft.primary.get(pk);
    if (cur === undefined) return upsert(this, tt, obj)?.object;
    const merged = merge(cur.object, obj);
    if (this.primaryDef.keyOf(merged) !== pk) {
      throw new StateDBError(`table "${this.name}": modify's merge changed the primary key`);
    }
    return upsert(this, tt, merged)?.object;
  }

  /**
   * Replaces the stored object with obj only if it is at `revision`.
   * Revision 0 is not special: no stored object has it, so it always fails.
   * Throws ObjectNotFoundError (nothing stored; nothing inserted) or
   * RevisionNotEqualError (carrying the current entry; nothing changed).
   * Returns the replaced object.
   */
  compareAndSwap(txn: WriteTxn, revision: number, obj: T): T {
    return upsert(this, txn.tableTxn<T>(this), obj, undefined, revision)!.object;
  }

  /**
   * Deletes the object with obj's primary key only if it is at `revision`.
   * A missing object returns undefined without error; a mismatch throws
   * RevisionNotEqualError with the current entry. Returns the deleted object.
   */
  compareAndDelete(txn: WriteTxn, revision: number, obj: T): T | undefined {
    const tt = txn.tableTxn<T>(this);
    const pk = this.primaryDef.keyOf(obj);
    const cur = tt.draft.primary.get(pk);
    if (cur === undefined) return undefined;
    if (cur.revision !== revision) throw new RevisionNotEqualError<T>(this.name, revision, cur);
    return remove(this, tt, pk)?.object;
  }

  /**
   * Applies an immer recipe to the object selected by a primary key or a
   * query on a unique index, and stores the result (immer's autoFreeze is
   * on). Returns the new object, the same object when the recipe changed
   * nothing (then nothing is written), or undefined when no object matched.
   */
  update(txn: WriteTxn, target: PK | Query<T>, recipe: (draft: Draft<T>) => void): T | undefined {
    const tt = txn.tableTxn<T>(this);
    const q = target instanceof Query ? target : this.primary.query(target);
    const index = this.checkQuery(q);
    if (!index.unique || index.pos === REVISION) {
      throw new UnsupportedIndexOperationError(
        `table "${this.name}": update needs a primary key or a unique index query, not index "${index.name}"`,
      );
    }
    const cur = this.getEntry(txn, q);
    if (cur === undefined) return undefined;
    const next = produce(cur.object, recipe);
    if (next === cur.object) return cur.object;
    upsert(this, tt, next);
    return next;
  }

  /** Deletes the object with obj's primary key (other fields are ignored); returns it, or undefined. */
  delete(txn: WriteTxn, obj: T): T | undefined {
    const tt = txn.tableTxn<T>(this);
    return remove(this, tt, this.primaryDef.keyOf(obj))?.object;
  }

  /** Deletes every object, each with its own revision. Returns how many. */
  deleteAll(txn: WriteTxn): number {
    const tt = txn.tableTxn<T>(this);
    let n = 0;
    for (const e of this.all(txn)) {
      remove(this, tt, (e as StoredEntry<T>).key);
      n++;
    }
    return n;
  }

  /**
   * Bulk-loads rows with their stored revisions into this empty, never
   * written table (the durable layer's restore path; run it before any
   * reader). `revision` (default: the highest row revision) becomes the
   * table revision. Throws when the table is not empty or revisions are not
   * unique positive integers.
   */
  restore(txn: WriteTxn, rows: Iterable<Entry<T>>, revision?: number): void {
    const tt = txn.tableTxn<T>(this);
    if (tt.draft.revision !== 0 || tt.draft.primary.size !== 0) {
      throw new StateDBError(`table "${this.name}": restore needs an empty table that was never written`);
    }
    // The revision index is appended to in revision order.
    const sorted = [...rows].sort((a, b) => a.revision - b.revision);
    let previous = 0;
    for (const row of sorted) {
      if (!Number.isSafeInteger(row.revision) || row.revision <= previous) {
        throw new StateDBError(`table "${this.name}": restore: bad or duplicate revision ${row.revision}`);
      }
      previous = row.revision;
    }
    for (const row of sorted) upsert(this, tt, row.object, row.revision);
    if (revision !== undefined) {
      if (revision < tt.draft.revision) {
        throw new StateDBError(`table "${this.name}": restore: revision ${revision} below a row revision`);
      }
      tt.draft.revision = revision;
    }
    tt.restored = true;
  }

  /** A change iterator (see ChangeIterator). Close it when done. */
  changes(): ChangeIterator<T> {
    return new ChangeIterator<T>(this);
  }

  // ---- internals -------------------------------------------------------

  private checkQuery(q: Query<T>): TableIndex<T, unknown> {
    const index = q.index;
    if (index.table !== (this as unknown)) {
      throw new TableNotRegisteredError(`table "${this.name}": query on index "${index.name}" of another table`);
    }
    return index;
  }

  private secondaryGet(st: TableState<T>, q: Query<T>): Entry<T> | undefined {
    const index = this.checkQuery(q);
    if (index.pos === PRIMARY) return st.lookup(q.key);
    if (index.pos === REVISION) return st.atRevision(q.revision);
    const store = this.secondaryStore(st, index.pos);
    let e: StoredEntry<T> | undefined;
    if (store instanceof LpmTrie) {
      const { addr, bits } = splitLpmKey(q.key);
      e = store.lookup(addr, bits)?.[0]?.value;
    } else if (index.unique) e = store.get(q.key);
    else {
      const prefix = nonUniqueExactPrefix(q.key);
      const c = store.cursor(prefix, false);
      if (c.valid && c.key.startsWith(prefix)) e = c.value;
    }
    return e === undefined ? undefined : st.resolver.current(e);
  }

  /** Secondary index `pos` of st; in a draft, first brings rows rewritten with the same keys up to date there. */
  private secondaryStore(st: TableState<T>, pos: number): SecondaryStore<T> {
    if (st.staleRows?.[pos] !== undefined) refreshStale(this.secondaryIndexes[pos]!, st);
    return st.secondary[pos]!;
  }

  /** @internal The watch to hand out for a query in txn. See the rules in watch-registry.ts. */
  watchFor(
    txn: Txn,
    st: TableState<T>,
    index: TableIndex<T, unknown>,
    key: string,
    mode: 'key' | 'prefix' | 'any',
  ): Watch {
    if (index.table !== (this as unknown)) throw new TableNotRegisteredError(`table "${this.name}": foreign index`);
    const slot = index.pos < 0 ? 0 : index.pos + 1;
    if (txn instanceof WriteTxnClass && txn.status === 'open') {
      const tt = txn.tableTxns.get(this.pos) as TableTxn<T> | undefined;
      // Data this open transaction changed: its value is uncommitted, so the
      // watch closes when the transaction ends, whichever way.
      if (tt !== undefined && tt.table === this && !sameStore(tt.draft, tt.base, slot)) return tt.txnEndWatch();
    }
    const latest = this.latestState();
    if (st !== latest && !(txn instanceof WriteTxnClass && txn.tableTxns.has(this.pos))) {
      // A stale snapshot: if what it saw may differ from the latest commit, the watch is closed already.
      const unchanged =
        sameStore(st, latest, slot) ||
        (mode === 'key' && index.pos === PRIMARY && st.lookup(key) === latest.lookup(key));
      if (!unchanged) return closedWatch;
    }
    const watches = this.watches[slot]!;
    if (index.kind === 'lpm' || mode === 'any' || index.pos === REVISION) return watches.any();
    return mode === 'key' ? watches.key(key) : watches.prefix(key);
  }

  /** @internal The change watch for iterators: closes on the next commit changing the table. */
  changeWatch(st: TableState<T>): Watch {
    if (st !== this.latestState()) return closedWatch;
    return this.watches[0]!.any();
  }

  /** @internal Called by the DB after a commit of this table became visible. */
  afterCommit(tt: TableTxn<T>): void {
    const finals = needsFinals(this, tt) ? finalRecords(tt) : undefined;
    if (this.graveyard.tracking && tt.deletes.length > 0 && finals !== undefined) {
      for (const r of tt.deletes) if (finals.get(r.key) === r) this.graveyard.append(r);
    }
    const primaryWatches = this.watches[0]!;
    if (tt.log.length > 0 && primaryWatches.hasAny) {
      if (primaryWatches.hasKeyWatches) for (const r of tt.log) primaryWatches.closeKey(r.key);
      primaryWatches.closeAny();
    }
    for (const si of this.secondaryIndexes) {
      const watches = this.watches[si.pos + 1]!;
      if (!watches.hasAny || sameStore(tt.draft, tt.base, si.pos + 1)) continue;
      if (watches.hasKeyWatches && !si.lpm && finals !== undefined) {
        for (const [pk, r] of finals) {
          const old = tt.base.primary.get(pk);
          if (old !== undefined) for (const k of si.keysOf(old.object)) watches.closeKey(k);
          if (!r.deleted) for (const k of si.keysOf(r.object)) watches.closeKey(k);
        }
      }
      watches.closeAny();
    }
    tt.endWatch?.close();
  }
}

function needsFinals<T>(t: Table<T>, tt: TableTxn<T>): boolean {
  if (tt.log.length === 0) return false;
  // The graveyard takes the commit's final deletes only.
  if (t.graveyard.tracking && tt.deletes.length > 0) return true;
  for (let i = 1; i < t.watches.length; i++) if (t.watches[i]!.hasKeyWatches) return true;
  return false;
}

/** Primary key -> the last log record for it: the commit's net effect per object. */
export function finalRecords<T>(tt: TableTxn<T>): Map<string, StoredEntry<T> | DeleteRecord<T>> {
  const finals = new Map<string, StoredEntry<T> | DeleteRecord<T>>();
  for (const r of tt.log) finals.set(r.key, r);
  return finals;
}

/** Whether two states hold the same content behind a watch slot (0 = primary). */
function sameStore<T>(a: TableState<T>, b: TableState<T>, slot: number): boolean {
  if (slot === 0) return a.primary.sameRoot(b.primary);
  const pos = slot - 1;
  if (a.secondaryVersions[pos] !== b.secondaryVersions[pos]) return false;
  const x = a.secondary[pos]!;
  const y = b.secondary[pos]!;
  return x instanceof LpmTrie ? x.sameRoot(y as LpmTrie<StoredEntry<T>>) : x.sameRoot(y as BTree<string, StoredEntry<T>>);
}

export type { SecondaryStore };
export { InvalidSchemaError };
