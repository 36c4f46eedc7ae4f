// A loaded datapath: typed handles for every map, the programs, the config,
// attachment, counters and events. Made by loadDatapath() (load.ts).
import type { BpfMap, BpfProgram, KernelLogger, TypedMap } from '../kernel/index.js';
import { TypedMap as TypedMapClass } from '../kernel/index.js';
import {
  flgLb4MaglevSpec,
  type Ct4Entry,
  type Ct4Key,
  type EndpointInfo,
  type FlgConfig,
  type Frag4Entry,
  type Frag4Key,
  type FlgMetricsValue,
  type FlgPolicyState,
  type IpcacheKey,
  type Lb4AffinityKey,
  type Lb4Backend,
  type Lb4Key,
  type Lb4ReverseNat,
  type Lb4Service,
  type Lb4SrcRangeKey,
  type LbAffinityMatch,
  type LbAffinityVal,
  type RemoteEndpointInfo,
} from '../maps/layouts.generated.js';
import { LinkManager, type AttachedLink, type AttachOptions, type DatapathPrograms, type DeviceRef } from './attach.js';
import { encodeConfig, resolveConfig, type DatapathConfig, type DatapathConfigInput } from './config.js';
import { readCounters, type Counters } from './counters.js';
import { DatapathConfigError } from './errors.js';
import { EventReader } from './events.js';

/** Every map of the datapath, typed with the layouts generated from its BTF. */
export interface DatapathMaps {
  config: TypedMap<number, FlgConfig>;
  lb4Services: TypedMap<Lb4Key, Lb4Service>;
  lb4Backends: TypedMap<number, Lb4Backend>;
  lb4ReverseNat: TypedMap<number, Lb4ReverseNat>;
  lb4Affinity: TypedMap<Lb4AffinityKey, LbAffinityVal>;
  lbAffinityMatch: TypedMap<LbAffinityMatch, number>;
  lb4SourceRange: TypedMap<Lb4SrcRangeKey, number>;
  /** Outer map: rev-NAT index -> inner ARRAY of M backend ids (see setMaglevTable). */
  lb4Maglev: TypedMap<number, number>;
  ct4: TypedMap<Ct4Key, Ct4Entry>;
  /** LRU: a first IPv4 fragment's tuple ports per datagram, for policy on the later fragments. */
  frag4: TypedMap<Frag4Key, Frag4Entry>;
  metrics: TypedMap<number, FlgMetricsValue>;
  /** Ring buffer; read it through events(). */
  events: BpfMap;
  ipcache: TypedMap<IpcacheKey, RemoteEndpointInfo>;
  endpoints: TypedMap<number, EndpointInfo>;
  /** Outer map: endpoint id -> inner LPM_TRIE of policy_key -> policy_entry. */
  policy: TypedMap<number, number>;
  /** One entry: how many endpoints enforce policy (0 = the datapath does no policy work). */
  policyState: TypedMap<number, FlgPolicyState>;
}

export class Datapath implements Disposable {
  private currentConfig: DatapathConfig;
  private readonly links: LinkManager;
  private closed = false;

  constructor(
    readonly pinRoot: string,
    readonly maps: DatapathMaps,
    readonly programs: DatapathPrograms,
    config: DatapathConfig,
    logger?: KernelLogger,
  ) {
    this.currentConfig = config;
    this.links = new LinkManager(pinRoot, programs, logger);
  }

  get config(): Readonly<DatapathConfig> {
    return this.currentConfig;
  }

  /**
   * Validates and writes node-level settings to flg_config; programs apply
   * them from the next packet. Idempotent. Throws DatapathConfigError for a
   * bad value (nothing written) or BpfError. Changing maglevTableSize means
   * every Maglev table must be rebuilt with setMaglevTable(); until then
   * flows of those services fall back to random selection.
   */
  setConfig(input: DatapathConfigInput): DatapathConfig {
    const config = resolveConfig({ ...this.currentConfig, ...input, ctTimeouts: { ...this.currentConfig.ctTimeouts, ...input.ctTimeouts } });
    this.maps.config.put(0, encodeConfig(config));
    this.currentConfig = config;
    return config;
  }

  /** See LinkManager.attach: pinned links, adopted across restarts. */
  attach(devices: readonly DeviceRef[], opts: AttachOptions = {}): AttachedLink[] {
    return this.links.attach(devices, opts);
  }

  /** Detaches every hook of a device and removes its pins; idempotent. Returns how many links went. */
  detach(device: DeviceRef): number {
    return this.links.detach(device);
  }

  /** Detaches every link pinned under this pin root. Returns how many. */
  detachAll(): number {
    return this.links.detachAll();
  }

  /** Pin names of the links under <pinRoot>/links. */
  pinnedLinks(): string[] {
    return this.links.pinnedLinks();
  }

  /** Packets and bytes per reason, summed over CPUs, since the counters map was created. */
  counters(): Counters {
    return readCounters(this.maps.metrics);
  }

  /** A reader of drop and trace events; close it when done. */
  events(): EventReader {
    return new EventReader(this.maps.events);
  }

  /**
   * Installs a Maglev lookup table for a service (rev-NAT index, host order):
   * a fresh inner ARRAY of M entries, filled and then swapped into the outer
   * map in one update, so packets see the old or the new table, never a mix.
   * `backendIds` must hold exactly M ids. Throws DatapathConfigError or BpfError.
   */
  setMaglevTable(revNatIndex: number, backendIds: ArrayLike<number>): void {
    const size = this.currentConfig.maglevTableSize;
    if (backendIds.length !== size) {
      throw new DatapathConfigError(`Maglev table for service ${revNatIndex} has ${backendIds.length} entries, expected M = ${size}`);
    }
    const inner = TypedMapClass.create(flgLb4MaglevSpec.inner!, { maxEntries: size, name: `flg_maglev_${revNatIndex}` });
    try {
      const entries: [number, number][] = Array.from({ length: size }, (_, i) => [i, backendIds[i]!]);
      inner.putBatch(entries);
      const key = Buffer.alloc(flgLb4MaglevSpec.keySize);
      flgLb4MaglevSpec.key.encode(revNatIndex, key, 0);
      this.maps.lb4Maglev.map.setInnerMap(key, inner.map);
    } finally {
      inner.close();
    }
  }

  /** Removes a service's Maglev table; idempotent. */
  deleteMaglevTable(revNatIndex: number): void {
    this.maps.lb4Maglev.delete(revNatIndex, { idempotent: true });
  }

  /** Closes this process's fds. Pinned maps, programs and links stay: the datapath keeps forwarding. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const m of Object.values(this.maps) as { close(): void }[]) m.close();
    for (const p of Object.values(this.programs) as BpfProgram[]) p.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}
