// Immutable values many rows share: the empty map and list, and one-name
// port lists. Rows are immutable, so sharing is safe, and at tens of
// thousands of services every empty `{}` or `[]` not allocated is heap and
// GC work saved.

export const EMPTY_STRING_MAP: Readonly<Record<string, string>> = Object.freeze({});
export const EMPTY_LIST: readonly never[] = Object.freeze([]);

/** `map`, or the shared empty map when it has no keys. */
export function sharedIfEmpty(map: Readonly<Record<string, string>>): Readonly<Record<string, string>> {
  for (const _ in map) return map;
  return EMPTY_STRING_MAP;
}

/** `list`, or the shared empty list when it is empty. */
export function sharedListIfEmpty<T>(list: readonly T[]): readonly T[] {
  return list.length === 0 ? EMPTY_LIST : list;
}

const SINGLE_NAMES = new Map<string, readonly string[]>();
const SINGLE_NAMES_LIMIT = 1024;

/** A frozen one-element list, shared per name (bounded: port names are few). */
export function singleName(name: string): readonly string[] {
  let list = SINGLE_NAMES.get(name);
  if (list === undefined) {
    list = Object.freeze([name]);
    if (SINGLE_NAMES.size < SINGLE_NAMES_LIMIT) SINGLE_NAMES.set(name, list);
  }
  return list;
}
