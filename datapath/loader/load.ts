// loadDatapath(): environment check, open the object with the pin root
// (reusing pinned maps, so state survives restarts), size maps from the
// configuration, load, pin the programs, write the config map.
import { existsSync, mkdirSync, unlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  BpfMap,
  BpfObject,
  type BpfProgram,
  DEFAULT_PIN_ROOT,
  TypedMap,
  checkEnvironment,
  mapTypeName,
  verifyLayouts,
  type KernelLogger,
  type MapConfig,
  type MapSpec,
} from '../kernel/index.js';
import { layoutSet, mapSpecs } from '../maps/layouts.generated.js';
import type { DatapathPrograms } from './attach.js';
import { encodeConfig, resolveConfig, type DatapathConfigInput } from './config.js';
import { Datapath, type DatapathMaps } from './datapath.js';
import { PinnedMapMismatchError } from './errors.js';

export type DatapathMapName = keyof typeof mapSpecs;

export interface LoadOptions {
  /** Default: build/bpf/flagella.o of this repository. */
  objectPath?: string;
  /** Where maps, programs and links are pinned. Default /sys/fs/bpf/flagella. */
  pinRoot?: string;
  config?: DatapathConfigInput;
  /** max_entries overrides by map name, e.g. { flg_lb4_services: 262144 }. A
   * pinned map keeps the size it was created with: changing it here later
   * fails with PinnedMapMismatchError. */
  mapSizes?: Partial<Record<DatapathMapName, number>>;
  /** Receives libbpf's messages (the verifier log on failure) and the loader's. */
  logger?: KernelLogger;
}

export const DEFAULT_OBJECT_PATH = fileURLToPath(new URL('../../build/bpf/flagella.o', import.meta.url));

const PROGRAM_NAMES = { tcIngress: 'flg_tc_ingress', tcEgress: 'flg_tc_egress', xdp: 'flg_xdp' } as const;

/**
 * Loads the datapath, or re-loads it over the state pinned by an earlier run.
 * Throws EnvironmentError (missing privilege, bpffs, kernel feature),
 * DatapathConfigError (bad setting), LayoutDriftError (the object and the
 * generated TypeScript layouts disagree: rebuild), PinnedMapMismatchError (a
 * pinned map's definition changed), or BpfError (`object load`, with the
 * verifier log). On failure nothing is left open; pins from earlier runs stay.
 * Links are untouched: call attach() (it adopts existing ones).
 */
export function loadDatapath(opts: LoadOptions = {}): Datapath {
  const pinRoot = opts.pinRoot ?? DEFAULT_PIN_ROOT;
  const objectPath = opts.objectPath ?? DEFAULT_OBJECT_PATH;
  const config = resolveConfig(opts.config);
  checkEnvironment({ pinRoot });
  verifyLayouts(objectPath, layoutSet);

  const mapConfigs: Record<string, MapConfig> = {};
  for (const [name, size] of Object.entries(opts.mapSizes ?? {})) mapConfigs[name] = { maxEntries: size };
  // The maglev inner template is left as declared: BPF_F_INNER_MAP makes
  // inner maps of any M acceptable. (Resizing an inner template through
  // libbpf 1.1 crashes: its inner map has no object to check "loaded" on.)
  checkPinnedMaps(pinRoot, opts.mapSizes ?? {});

  const obj = BpfObject.load(objectPath, { pinRoot, maps: mapConfigs, ...(opts.logger ? { logger: opts.logger } : {}) });
  const opened: { close(): void }[] = [];
  try {
    const maps = openMaps(obj, opened);
    const programs = openPrograms(obj, opened);
    pinPrograms(pinRoot, programs);
    maps.config.put(0, encodeConfig(config));
    opts.logger?.info(`datapath ${objectPath} loaded, pin root ${pinRoot}`);
    return new Datapath(pinRoot, maps, programs, config, opts.logger);
  } catch (err) {
    for (const o of opened) o.close();
    throw err;
  } finally {
    obj.close();
  }
}

function openMaps(obj: BpfObject, opened: { close(): void }[]): DatapathMaps {
  const typed = <K, V>(spec: MapSpec<K, V>): TypedMap<K, V> => {
    const m = TypedMap.fromObject(obj, spec);
    opened.push(m);
    return m;
  };
  const events = obj.map(mapSpecs.flg_events.name);
  opened.push(events);
  return {
    config: typed(mapSpecs.flg_config),
    lb4Services: typed(mapSpecs.flg_lb4_services),
    lb4Backends: typed(mapSpecs.flg_lb4_backends),
    lb4ReverseNat: typed(mapSpecs.flg_lb4_reverse_nat),
    lb4Affinity: typed(mapSpecs.flg_lb4_affinity),
    lbAffinityMatch: typed(mapSpecs.flg_lb_affinity_match),
    lb4SourceRange: typed(mapSpecs.flg_lb4_source_range),
    lb4Maglev: typed(mapSpecs.flg_lb4_maglev),
    ct4: typed(mapSpecs.flg_ct4),
    frag4: typed(mapSpecs.flg_frag4),
    metrics: typed(mapSpecs.flg_metrics),
    events,
    ipcache: typed(mapSpecs.flg_ipcache),
    endpoints: typed(mapSpecs.flg_endpoints),
    policy: typed(mapSpecs.flg_policy),
    policyState: typed(mapSpecs.flg_policy_state),
  };
}

function openPrograms(obj: BpfObject, opened: { close(): void }[]): DatapathPrograms {
  const open = (name: string) => {
    const p = obj.program(name);
    opened.push(p);
    return p;
  };
  return { tcIngress: open(PROGRAM_NAMES.tcIngress), tcEgress: open(PROGRAM_NAMES.tcEgress), xdp: open(PROGRAM_NAMES.xdp) };
}

/** Pins under <pinRoot>/progs/, replacing the pins of an earlier load. */
function pinPrograms(pinRoot: string, programs: DatapathPrograms): void {
  const dir = join(pinRoot, 'progs');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const prog of Object.values(programs) as BpfProgram[]) {
    const path = join(dir, prog.name);
    if (existsSync(path)) unlinkSync(path);
    prog.pin(path);
  }
}

/**
 * libbpf refuses a pinned map whose definition differs with a terse message;
 * this names the map and what differs first.
 */
function checkPinnedMaps(pinRoot: string, sizes: Partial<Record<DatapathMapName, number>>): void {
  for (const [name, spec] of Object.entries(mapSpecs) as [DatapathMapName, MapSpec<unknown, unknown>][]) {
    const path = join(pinRoot, name);
    if (spec.pinning !== 'by-name' || !existsSync(path)) continue;
    const pinned = BpfMap.openPinned(path, { name });
    try {
      const expected = { type: spec.type, keySize: spec.keySize, valueSize: spec.valueSize, maxEntries: sizes[name] ?? spec.maxEntries, flags: spec.flags };
      const differences: string[] = [];
      if (pinned.type !== expected.type) differences.push(`type: pinned ${mapTypeName(pinned.type)}, object ${mapTypeName(expected.type)}`);
      if (pinned.keySize !== expected.keySize) differences.push(`key size: pinned ${pinned.keySize}, object ${expected.keySize}`);
      if (pinned.valueSize !== expected.valueSize) differences.push(`value size: pinned ${pinned.valueSize}, object ${expected.valueSize}`);
      if (pinned.maxEntries !== expected.maxEntries) differences.push(`max_entries: pinned ${pinned.maxEntries}, requested ${expected.maxEntries}`);
      if (pinned.flags !== expected.flags) differences.push(`flags: pinned 0x${pinned.flags.toString(16)}, object 0x${expected.flags.toString(16)}`);
      if (differences.length > 0) throw new PinnedMapMismatchError(name, path, differences);
    } finally {
      pinned.close();
    }
  }
}
