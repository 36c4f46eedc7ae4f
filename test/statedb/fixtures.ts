// Shared fixtures for the statedb tests: small row types and tables.
import { DB, Keys, multiIndex, nonUniqueIndex, uniqueIndex } from '../../statedb/index.js';

export interface Obj {
  readonly id: number;
  readonly tags: readonly string[];
  readonly name: string;
}

export function obj(id: number, tags: string[] = [], name = `o${id}`): Obj {
  return { id, tags, name };
}

/** A DB with one table "objs": primary id (u32), multi-key "tags", non-unique "name". */
export function objTable(db = new DB({ validate: true })) {
  const table = db.newTable({
    name: 'objs',
    primary: uniqueIndex('id', Keys.u32, (o: Obj) => o.id),
    secondary: {
      tags: multiIndex('tags', Keys.string, (o: Obj) => o.tags),
      name: nonUniqueIndex('name', Keys.string, (o: Obj) => o.name),
    },
    header: ['ID', 'Tags'],
    row: (o: Obj) => [String(o.id), o.tags.join(',')],
  });
  return { db, table };
}

export interface Named {
  readonly key: string;
  readonly value: number;
}

/** A DB with one table "named": primary string key. */
export function namedTable(db = new DB({ validate: true }), name = 'named') {
  const table = db.newTable({ name, primary: uniqueIndex('key', Keys.string, (o: Named) => o.key) });
  return { db, table };
}

export const ids = (entries: Iterable<{ object: { id: number } }>): number[] => [...entries].map((e) => e.object.id);
export const keys = (entries: Iterable<{ object: { key: string } }>): string[] => [...entries].map((e) => e.object.key);

/** Asserts fn throws an instance of cls (uvu's throws takes no class). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export function throwsA(fn: () => unknown, cls: abstract new (...args: any[]) => unknown, message?: string): unknown {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof cls)) {
      throw new Error(`${message ?? 'expected throw'}: got ${String(e)}, wanted ${cls.name}`, { cause: e });
    }
    return e;
  }
  throw new Error(`${message ?? 'expected throw'}: nothing thrown, wanted ${cls.name}`);
}
