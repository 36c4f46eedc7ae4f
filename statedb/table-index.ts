// Table-bound index handles and the typed queries they build.
import type { IndexDef, IndexKind } from './indexes.js';
import { lpmKeyOf } from './indexes.js';
import type { KeyType } from './keys.js';
import { Keys } from './keys.js';

/** Position of the primary index (secondary indexes count from 0). */
export const PRIMARY = -1;
/** Position of the internal revision index. */
export const REVISION = -2;

/** The internal revision index's name, as upstream spells it. */
export const REVISION_INDEX_NAME = '__revision__';

/** What an index handle needs from its table (kept structural to avoid an import cycle). */
export interface IndexOwner {
  readonly name: string;
}

/**
 * A query against one index: the index and the encoded key. Build it with
 * `index.query(key)`; the key type is checked at compile time.
 */
export class Query<T> {
  constructor(
    readonly index: TableIndex<T, unknown>,
    /** Encoded (binary string) key. */
    readonly key: string,
    /** The revision, for revision-index queries. */
    readonly revision: number,
  ) {}

  /** Phantom member: ties the query to the table's row type. */
  declare readonly __row?: (row: T) => void;
}

/** One index of one table. */
export class TableIndex<T, K> {
  readonly name: string;
  /** "primary", "revision", or the secondary kind. */
  readonly kind: 'primary' | 'revision' | IndexKind;
  readonly unique: boolean;
  /** True when an object may have several keys in it. */
  readonly multi: boolean;
  readonly keyType: KeyType<K>;

  constructor(
    readonly table: IndexOwner,
    def: IndexDef<T, K>,
    /** PRIMARY, REVISION or the secondary position. */
    readonly pos: number,
  ) {
    this.name = def.name;
    this.kind = pos === PRIMARY ? 'primary' : pos === REVISION ? 'revision' : def.kind;
    this.unique = def.unique;
    this.multi = def.multi;
    this.keyType = def.keyType;
  }

  /** @internal */
  static revision<T>(table: IndexOwner): TableIndex<T, number> {
    const def: IndexDef<T, number> = {
      name: REVISION_INDEX_NAME,
      kind: 'unique',
      unique: true,
      multi: false,
      keyType: Keys.u64 as KeyType<number>,
      keyOf: () => '',
      keysOf: () => [],
    };
    return new TableIndex<T, number>(table, def, REVISION);
  }

  /** A query for key. Throws RangeError/TypeError/KeyParseError when key is outside the key type. */
  query(key: K): Query<T> {
    if (this.pos === REVISION) {
      const rev = Number(key);
      if (!Number.isSafeInteger(rev) || rev < 0) throw new RangeError(`invalid revision ${String(key)}`);
      return new Query<T>(this, '', rev);
    }
    const encoded = this.kind === 'lpm' ? lpmKeyOf(key as string) : this.keyType.encode(key);
    return new Query<T>(this, encoded, 0);
  }

  /** A query from the key's text form (CLI, HTTP). Throws KeyParseError. */
  parse(text: string): Query<T> {
    return this.query(this.keyType.parse(text));
  }
}
