// The load-balancing maps in the kernel: the loaded datapath's typed maps,
// or the maps pinned under a pin root (for `flagella lb dump`, which works
// with or without a running agent).
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BpfError, BpfMap, TypedMap, type MapSpec } from '../kernel/index.js';
import type { Datapath } from '../loader/index.js';
import { flgLb4MaglevSpec, mapSpecs } from '../maps/layouts.generated.js';
import type { LBMap, LBMaps, MaglevMap } from './lb-maps.js';

class KernelLBMap<K, V> implements LBMap<K, V> {
  constructor(private readonly map: TypedMap<K, V>) {}

  get name(): string {
    return this.map.name;
  }

  get(key: K): V | undefined {
    return this.map.get(key);
  }

  put(key: K, value: V): void {
    this.map.put(key, value);
  }

  delete(key: K): boolean {
    return this.map.delete(key, { idempotent: true });
  }

  deleteMany(keys: readonly K[]): void {
    if (keys.length === 0) return;
    try {
      this.map.deleteBatch(keys, { idempotent: true });
    } catch (err) {
      // Map types without batch operations (LPM tries on older kernels): one by one.
      if (!(BpfError.is(err, 'EINVAL') || BpfError.is(err, 'ENOTSUPP') || BpfError.is(err, 'EOPNOTSUPP'))) throw err;
      for (const k of keys) this.map.delete(k, { idempotent: true });
    }
  }

  entries(): [K, V][] {
    return this.map.getAll();
  }
}

/** Maglev tables in the HASH_OF_MAPS outer map: each update swaps in a fresh inner ARRAY of M entries. */
class KernelMaglevMap implements MaglevMap {
  private readonly keyBuf = Buffer.alloc(flgLb4MaglevSpec.keySize);

  constructor(
    private readonly outer: TypedMap<number, number>,
    readonly tableSize: number,
    private readonly install: (revNatIndex: number, table: Uint32Array) => void,
  ) {}

  get name(): string {
    return this.outer.name;
  }

  get(revNatIndex: number): Uint32Array | undefined {
    flgLb4MaglevSpec.key.encode(revNatIndex, this.keyBuf, 0);
    const id = this.outer.map.innerMapId(this.keyBuf);
    if (id === undefined) return undefined;
    let inner: BpfMap;
    try {
      inner = BpfMap.fromId(id, { name: `${flgLb4MaglevSpec.name}[${revNatIndex}]` });
    } catch (err) {
      if (BpfError.is(err, 'ENOENT')) return undefined; // swapped out and freed meanwhile
      throw err;
    }
    try {
      const table = new Uint32Array(inner.maxEntries);
      const innerSpec = flgLb4MaglevSpec.inner as MapSpec<number, number>;
      for (const [k, v] of new TypedMap<number, number>(inner, innerSpec.key, innerSpec.value).getAll()) table[k] = v;
      return table;
    } finally {
      inner.close();
    }
  }

  set(revNatIndex: number, table: Uint32Array): void {
    this.install(revNatIndex, table);
  }

  delete(revNatIndex: number): boolean {
    return this.outer.delete(revNatIndex, { idempotent: true });
  }

  ids(): number[] {
    return [...this.outer.keys()];
  }
}

/**
 * The loaded datapath's load-balancing maps. Maglev tables have the
 * datapath's configured size (setConfig({maglevTableSize})).
 */
export function kernelLBMaps(dp: Datapath): LBMaps {
  const m = dp.maps;
  return {
    services: new KernelLBMap(m.lb4Services),
    backends: new KernelLBMap(m.lb4Backends),
    revNat: new KernelLBMap(m.lb4ReverseNat),
    affinityMatch: new KernelLBMap(m.lbAffinityMatch),
    sourceRange: new KernelLBMap(m.lb4SourceRange),
    maglev: new KernelMaglevMap(m.lb4Maglev, dp.config.maglevTableSize, (id, table) => dp.setMaglevTable(id, table)),
  };
}

/** The load-balancing maps are not pinned where they were looked for. */
export class LBMapsNotFoundError extends Error {
  override readonly name = 'LBMapsNotFoundError';
  constructor(
    readonly pinRoot: string,
    readonly missing: readonly string[],
  ) {
    super(
      `no load-balancing maps under ${pinRoot} (missing ${missing.join(', ')}): is the datapath loaded with this pin root? (--bpf-root)`,
    );
  }
}

const LB_MAP_SPECS = [
  mapSpecs.flg_lb4_services,
  mapSpecs.flg_lb4_backends,
  mapSpecs.flg_lb4_reverse_nat,
  mapSpecs.flg_lb_affinity_match,
  mapSpecs.flg_lb4_source_range,
  mapSpecs.flg_lb4_maglev,
] as const;

/**
 * Opens the load-balancing maps pinned under `pinRoot`, independently of
 * any loaded object (the agent may or may not be running). Maglev tables
 * written through these maps get `maglevTableSize` entries (default 16381;
 * reads take any size). Close it when done. Throws
 * LBMapsNotFoundError when a map is not pinned there, BpfError otherwise.
 */
export function openPinnedLBMaps(pinRoot: string, opts: { maglevTableSize?: number } = {}): LBMaps & Disposable & { close(): void } {
  const missing = LB_MAP_SPECS.filter((s) => !existsSync(join(pinRoot, s.name))).map((s) => s.name);
  if (missing.length > 0) throw new LBMapsNotFoundError(pinRoot, missing);
  const opened: { close(): void }[] = [];
  const open = <K, V>(spec: MapSpec<K, V>): TypedMap<K, V> => {
    const m = TypedMap.openPinned(spec, join(pinRoot, spec.name));
    opened.push(m);
    return m;
  };
  const close = () => {
    for (const m of opened.splice(0)) m.close();
  };
  try {
    const s = mapSpecs;
    const outer = open(s.flg_lb4_maglev);
    const maglev: KernelMaglevMap = new KernelMaglevMap(outer, opts.maglevTableSize ?? 16381, (id, table) => {
      const inner = TypedMap.create(flgLb4MaglevSpec.inner as MapSpec<number, number>, { maxEntries: table.length, name: `flg_maglev_${id}` });
      try {
        inner.putBatch(Array.from(table, (v, i) => [i, v] as const));
        const key = Buffer.alloc(flgLb4MaglevSpec.keySize);
        flgLb4MaglevSpec.key.encode(id, key, 0);
        outer.map.setInnerMap(key, inner.map);
      } finally {
        inner.close();
      }
    });
    const maps: LBMaps = {
      services: new KernelLBMap(open(s.flg_lb4_services)),
      backends: new KernelLBMap(open(s.flg_lb4_backends)),
      revNat: new KernelLBMap(open(s.flg_lb4_reverse_nat)),
      affinityMatch: new KernelLBMap(open(s.flg_lb_affinity_match)),
      sourceRange: new KernelLBMap(open(s.flg_lb4_source_range)),
      maglev,
    };
    return Object.assign(maps, { close, [Symbol.dispose]: close });
  } catch (err) {
    close();
    throw err;
  }
}
