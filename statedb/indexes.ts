// Index definitions: which key(s) an object has in an index, how keys are
// typed and encoded, and the typed queries built from them. Storage lives
// in table-state.ts; this file only describes.
import { escapeComponent } from './binary.js';
import { EmptyIndexNameError, InvalidSchemaError, ReservedIndexNameError } from './errors.js';
import { maskAddress, parseAddress, parsePrefix } from './ip.js';
import type { KeyType } from './keys.js';
import { Keys } from './keys.js';

export type IndexKind = 'unique' | 'non-unique' | 'lpm';

/**
 * The definition of one index over rows of type T with keys of type K.
 * Build it with uniqueIndex, nonUniqueIndex, multiIndex or lpmIndex.
 */
export interface IndexDef<T, K> {
  readonly name: string;
  readonly kind: IndexKind;
  readonly unique: boolean;
  /** True when an object may have 0..n keys (multiIndex, lpmIndex). */
  readonly multi: boolean;
  readonly keyType: KeyType<K>;
  /** Encoded key of a single-key index (multi = false). */
  keyOf(obj: T): string;
  /** Encoded keys (deduplicated) of a multi-key index. */
  keysOf(obj: T): string[];
}

/** A name check shared by tables and indexes: the index rules of upstream (non-empty, no "__"). */
export function checkIndexName(name: string): void {
  if (typeof name !== 'string' || name.length === 0) throw new EmptyIndexNameError('index name must not be empty');
  if (name.startsWith('__')) {
    throw new ReservedIndexNameError(`index "${name}": names starting with "__" are reserved for internal indexes`);
  }
}

function single<T, K>(name: string, kind: IndexKind, keyType: KeyType<K>, fromObject: (obj: T) => K): IndexDef<T, K> {
  checkIndexName(name);
  return {
    name,
    kind,
    unique: kind === 'unique',
    multi: false,
    keyType,
    keyOf: (obj) => keyType.encode(fromObject(obj)),
    keysOf: (obj) => [keyType.encode(fromObject(obj))],
  };
}

/** An index where each object has exactly one key and no two objects share it (enforced). */
export function uniqueIndex<T, K>(name: string, keyType: KeyType<K>, fromObject: (obj: T) => K): IndexDef<T, K> {
  return single(name, 'unique', keyType, fromObject);
}

/** An index where each object has exactly one key and many objects may share it. */
export function nonUniqueIndex<T, K>(name: string, keyType: KeyType<K>, fromObject: (obj: T) => K): IndexDef<T, K> {
  return single(name, 'non-unique', keyType, fromObject);
}

function dedupe(keys: string[]): string[] {
  if (keys.length < 2) return keys;
  return [...new Set(keys)];
}

/**
 * An index where each object has 0..n keys (zero: not in the index; the
 * empty string is a real key). With `unique`, no two objects may share a key.
 */
export function multiIndex<T, K>(
  name: string,
  keyType: KeyType<K>,
  fromObject: (obj: T) => Iterable<K>,
  opts: { unique?: boolean } = {},
): IndexDef<T, K> {
  checkIndexName(name);
  const keysOf = (obj: T): string[] => {
    const out: string[] = [];
    for (const k of fromObject(obj)) out.push(keyType.encode(k));
    return dedupe(out);
  };
  return {
    name,
    kind: opts.unique === true ? 'unique' : 'non-unique',
    unique: opts.unique === true,
    multi: true,
    keyType,
    keyOf: (obj) => {
      const keys = keysOf(obj);
      if (keys.length !== 1) throw new InvalidSchemaError(`index "${name}": expected exactly one key, got ${keys.length}`);
      return keys[0]!;
    },
    keysOf,
  };
}

/**
 * A longest-prefix-match index over IP prefixes ("10.0.0.0/8", "fd00::/64",
 * a bare address is a host prefix). Objects may have 0..n prefixes. get/list
 * return the objects of the most specific stored prefix containing the query;
 * prefix returns everything contained in the query; lowerBound walks from
 * the query in (address, length) order. Cannot be the primary index.
 */
export function lpmIndex<T>(
  name: string,
  fromObject: (obj: T) => Iterable<string> | string,
  opts: { unique?: boolean } = {},
): IndexDef<T, string> {
  checkIndexName(name);
  const keysOf = (obj: T): string[] => {
    const v = fromObject(obj);
    const out: string[] = [];
    for (const p of typeof v === 'string' ? [v] : v) out.push(Keys.prefix.encode(p));
    return dedupe(out);
  };
  return {
    name,
    kind: 'lpm',
    unique: opts.unique === true,
    multi: true,
    keyType: Keys.prefix,
    keyOf: (obj) => keysOf(obj)[0] ?? '',
    keysOf,
  };
}

/** The 17-byte LPM key (masked address, length byte) of a prefix or bare address text. */
export function lpmKeyOf(text: string): string {
  if (!text.includes('/')) return parseAddress(text) + String.fromCharCode(128);
  return Keys.prefix.encode(text);
}

/** Splits a 17-byte LPM key. */
export function splitLpmKey(key: string): { addr: string; bits: number } {
  const bits = key.charCodeAt(16);
  return { addr: maskAddress(key.slice(0, 16), bits), bits };
}

/** Encoded storage key of a non-unique entry: secondary first, then primary, both exact. */
export function nonUniqueStorageKey(secondary: string, primary: string): string {
  // join builds one flat string; `+` would build a rope that every later
  // comparison in the tree has to walk through (measured: a tree insert
  // costs about a third less with flat keys).
  return [escapeComponent(secondary), '\0', escapeComponent(primary)].join('');
}

/** Storage-key prefix selecting exactly the entries whose secondary key equals `secondary`. */
export function nonUniqueExactPrefix(secondary: string): string {
  return `${escapeComponent(secondary)}\0`;
}

/** Storage-key prefix selecting entries whose secondary key starts with `secondary`. */
export function nonUniquePrefix(secondary: string): string {
  return escapeComponent(secondary);
}

export { parsePrefix };
