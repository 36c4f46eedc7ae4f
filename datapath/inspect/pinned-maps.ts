// Opening the datapath's pinned maps by themselves, without loading the
// object: what the inspection commands (`flagella policy dump`, `ct list`,
// `monitor --direct`) read, with or without a running agent.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { BpfMap, TypedMap, type MapSpec } from '../kernel/index.js';
import { EventReader, type DatapathEvent } from '../loader/index.js';
import { mapSpecs } from '../maps/layouts.generated.js';

/** The maps inspection reads, by the names DatapathMaps uses. */
const INSPECTED = {
  ct4: mapSpecs.flg_ct4,
  endpoints: mapSpecs.flg_endpoints,
  policy: mapSpecs.flg_policy,
  ipcache: mapSpecs.flg_ipcache,
  policyState: mapSpecs.flg_policy_state,
  metrics: mapSpecs.flg_metrics,
} as const;

type Inspected = typeof INSPECTED;
export type InspectedMapName = keyof Inspected;
type TypedOf<S> = S extends MapSpec<infer K, infer V> ? TypedMap<K, V> : never;

/** The maps asked for, typed, and close() for all of them. */
export type PinnedMaps<N extends InspectedMapName> = { readonly [K in N]: TypedOf<Inspected[K]> } & Disposable & { close(): void };

/** Datapath maps are not pinned where they were looked for. */
export class DatapathMapsNotFoundError extends Error {
  override readonly name = 'DatapathMapsNotFoundError';
  constructor(
    readonly pinRoot: string,
    readonly missing: readonly string[],
  ) {
    super(`no datapath maps under ${pinRoot} (missing ${missing.join(', ')}): is the datapath loaded with this pin root? (--bpf-root)`);
  }
}

/**
 * Opens the named maps pinned under `pinRoot`. Throws
 * DatapathMapsNotFoundError naming every missing pin (nothing left open),
 * BpfError when a pin cannot be opened. Reading never changes the maps.
 */
export function openPinnedMaps<N extends InspectedMapName>(pinRoot: string, names: readonly N[]): PinnedMaps<N> {
  const missing = names.map((n) => INSPECTED[n].name).filter((file) => !existsSync(join(pinRoot, file)));
  if (missing.length > 0) throw new DatapathMapsNotFoundError(pinRoot, missing);
  const opened: { close(): void }[] = [];
  const close = () => {
    for (const m of opened.splice(0)) m.close();
  };
  try {
    const maps: Record<string, unknown> = {};
    for (const n of names) {
      const spec = INSPECTED[n] as MapSpec<unknown, unknown>;
      const m = TypedMap.openPinned(spec, join(pinRoot, spec.name));
      opened.push(m);
      maps[n] = m;
    }
    return Object.assign(maps, { close, [Symbol.dispose]: close }) as PinnedMaps<N>;
  } catch (err) {
    close();
    throw err;
  }
}

/** The pinned event ring buffer, read from this process. */
export interface PinnedEventReader extends Disposable {
  /** Every event waiting now (at most `limit`). */
  poll(limit?: number): DatapathEvent[];
  /** Delivers events as they arrive, without blocking the event loop. */
  start(onEvent: (event: DatapathEvent) => void): void;
  stop(): void;
  /** Stops and releases the ring and the map (idempotent). */
  close(): void;
}

/**
 * A reader of the pinned event ring buffer. A ring buffer has one consumer
 * position: while an agent reads it too, each event reaches only one of
 * them (use the agent's /v1/events then). Throws DatapathMapsNotFoundError
 * or BpfError.
 */
export function openPinnedEventReader(pinRoot: string): PinnedEventReader {
  const path = join(pinRoot, mapSpecs.flg_events.name);
  if (!existsSync(path)) throw new DatapathMapsNotFoundError(pinRoot, [mapSpecs.flg_events.name]);
  const map = BpfMap.openPinned(path, { name: mapSpecs.flg_events.name });
  let reader: EventReader;
  try {
    reader = new EventReader(map);
  } catch (err) {
    map.close();
    throw err;
  }
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    try {
      reader.close();
    } finally {
      map.close();
    }
  };
  return {
    poll: (limit) => reader.poll(limit),
    start: (onEvent) => reader.start(onEvent),
    stop: () => reader.stop(),
    close,
    [Symbol.dispose]: close,
  };
}
