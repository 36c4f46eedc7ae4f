// Wrappers around any LBMaps, both built on one write interceptor: one fails
// writes at random (seeded), to prove the operations converge under retries;
// one counts writes, to prove a restarted agent rewrites nothing that is
// already right.
import { seededRandom } from '../../reconcilers/index.js';
import type { LBMap, LBMaps } from './lb-maps.js';

/** The error an injected fault throws (the map is left untouched). */
export class InjectedFaultError extends Error {
  override readonly name = 'InjectedFaultError';
  constructor(
    readonly map: string,
    readonly op: string,
  ) {
    super(`${map}: injected ${op} failure`);
  }
}

export interface FaultOptions {
  /** Probability in [0, 1] that a write (put, delete, Maglev set/delete) fails. */
  readonly probability: number;
  /** Seed of the decisions: the same seed fails the same calls. */
  readonly seed: number;
}

/** A write about to reach a map: `n` keys (deleteMany passes its length; other writes 1). */
type WriteHook = (map: string, op: 'put' | 'delete' | 'set', n: number) => void;

/** maps with `before` called ahead of every write (a throw stops the write); reads pass through. */
function interceptWrites(maps: LBMaps, before: WriteHook): LBMaps {
  const wrap = <K, V>(m: LBMap<K, V>): LBMap<K, V> => ({
    name: m.name,
    get: (k) => m.get(k),
    put: (k, v) => {
      before(m.name, 'put', 1);
      m.put(k, v);
    },
    delete: (k) => {
      before(m.name, 'delete', 1);
      return m.delete(k);
    },
    deleteMany: (ks) => {
      before(m.name, 'delete', ks.length);
      m.deleteMany(ks);
    },
    entries: () => m.entries(),
  });
  const mg = maps.maglev;
  return {
    services: wrap(maps.services),
    backends: wrap(maps.backends),
    revNat: wrap(maps.revNat),
    affinityMatch: wrap(maps.affinityMatch),
    sourceRange: wrap(maps.sourceRange),
    maglev: {
      name: mg.name,
      tableSize: mg.tableSize,
      get: (id) => mg.get(id),
      set: (id, t) => {
        before(mg.name, 'set', 1);
        mg.set(id, t);
      },
      delete: (id) => {
        before(mg.name, 'delete', 1);
        return mg.delete(id);
      },
      ids: () => mg.ids(),
    },
  };
}

/** LBMaps whose writes fail at random; `enabled` turns the faults off and on. */
export interface FaultyLBMaps extends LBMaps {
  enabled: boolean;
  /** How many faults were injected so far. */
  readonly injected: number;
}

/**
 * Wraps maps so that each write fails with InjectedFaultError with the
 * given probability, before it reaches the map (a failed write changes
 * nothing). Reads never fail. Throws RangeError on a probability outside [0, 1].
 */
export function faultyLBMaps(maps: LBMaps, opts: FaultOptions): FaultyLBMaps {
  if (!(opts.probability >= 0 && opts.probability <= 1)) throw new RangeError(`fault probability must be in [0, 1], got ${opts.probability}`);
  const random = seededRandom(opts.seed);
  const state = { enabled: true, injected: 0 };
  const wrapped = interceptWrites(maps, (map, op, n) => {
    if (n === 0 || !state.enabled || opts.probability === 0) return;
    if (random() < opts.probability) {
      state.injected++;
      throw new InjectedFaultError(map, op);
    }
  });
  return {
    ...wrapped,
    get enabled() {
      return state.enabled;
    },
    set enabled(v: boolean) {
      state.enabled = v;
    },
    get injected() {
      return state.injected;
    },
  };
}

/** Writes seen by a counting wrapper, per map and in total. */
export interface WriteCounts {
  readonly puts: number;
  readonly deletes: number;
  /** puts + deletes. */
  readonly total: number;
  /** `<map> put` / `<map> delete` -> count. */
  readonly byMap: Readonly<Record<string, number>>;
}

/** LBMaps that count every write attempt (reads are free). */
export interface CountingLBMaps extends LBMaps {
  counts(): WriteCounts;
  reset(): void;
}

/** Wraps maps so every put/delete (and Maglev set/delete) is counted, whether it succeeds or not. */
export function countingLBMaps(maps: LBMaps): CountingLBMaps {
  let byMap: Record<string, number> = {};
  let puts = 0;
  let deletes = 0;
  const wrapped = interceptWrites(maps, (map, op, n) => {
    if (n === 0) return;
    const kind = op === 'delete' ? 'delete' : 'put';
    const k = `${map} ${kind}`;
    byMap[k] = (byMap[k] ?? 0) + n;
    if (kind === 'put') puts += n;
    else deletes += n;
  });
  return {
    ...wrapped,
    counts: () => ({ puts, deletes, total: puts + deletes, byMap: { ...byMap } }),
    reset: () => {
      byMap = {};
      puts = 0;
      deletes = 0;
    },
  };
}
