// An ELF object loaded with libbpf: maps pinned by name under a pin root are created
// on first load and reused from their pins afterwards, so map state survives agent
// restarts; map sizes can be changed before load, so configuration never needs a
// recompile. Maps and programs are handed out as BpfMap/BpfProgram on duplicated fds,
// so the object can be closed once the caller holds what it needs.
import { mkdirSync } from 'node:fs';
import { basename } from 'node:path';
import { BpfError } from './bpf-error.js';
import { BpfMap } from './bpf-map.js';
import { BpfProgram } from './bpf-program.js';
import type { LayoutSet } from './btf/layout-types.js';
import { verifyLayouts } from './btf/verify-layouts.js';
import { lastErrno } from './libc.js';
import { collectLibbpfLog, libbpf, openOptions, type KernelLogger, type Ptr } from './libbpf.js';
import { dupFd } from './pins.js';

export const DEFAULT_PIN_ROOT = '/sys/fs/bpf/flagella';
const ENOENT = 2;
const EBUSY = 16;

/** Changes to a map's definition applied before load. */
export interface MapConfig {
  maxEntries?: number;
  keySize?: number;
  valueSize?: number;
  flags?: number;
  /** Maps of maps: the inner map definition. */
  inner?: { maxEntries?: number; keySize?: number; valueSize?: number };
  /** Maps of maps: use this map as the inner map template instead of the declared one. */
  innerMap?: BpfMap;
}

export interface ObjectOpenOptions {
  /** Directory for LIBBPF_PIN_BY_NAME maps (created if missing); default /sys/fs/bpf/flagella. */
  pinRoot?: string;
  objectName?: string;
  /** Per-map changes applied before load, by map name. */
  maps?: Record<string, MapConfig>;
  /** Receives libbpf's messages (warn/info/debug), including the verifier log. */
  logger?: KernelLogger;
  /**
   * The generated layoutSet this program was built with: open() first checks the
   * object's BTF against it and throws LayoutDriftError on any difference.
   */
  layouts?: LayoutSet;
}

export class BpfObject implements Disposable {
  private handle: Ptr | null;
  private loaded = false;
  readonly name: string;
  readonly pinRoot: string;
  private readonly logger: KernelLogger | undefined;

  private constructor(handle: Ptr, readonly path: string, opts: ObjectOpenOptions) {
    this.handle = handle;
    this.name = opts.objectName ?? basename(path).replace(/\.o$/, '');
    this.pinRoot = opts.pinRoot ?? DEFAULT_PIN_ROOT;
    this.logger = opts.logger;
  }

  /**
   * Opens (parses) an ELF object without loading it. Throws BpfError (`object open`):
   * ENOENT for a missing file, EINVAL for a malformed object, with libbpf's messages in
   * `log`; LayoutDriftError when `layouts` is given and the object's structs differ.
   */
  static open(path: string, opts: ObjectOpenOptions = {}): BpfObject {
    if (opts.layouts) verifyLayouts(path, opts.layouts);
    const lib = libbpf();
    const pinRoot = opts.pinRoot ?? DEFAULT_PIN_ROOT;
    const { result, log } = collectLibbpfLog(opts.logger, () => {
      const handle = lib.openFile(path, openOptions(pinRoot, opts.objectName));
      return { handle, errno: handle ? 0 : lastErrno() };
    });
    if (!result.handle) throw new BpfError('object open', path, result.errno || ENOENT, { log });
    const obj = new BpfObject(result.handle, path, opts);
    try {
      for (const [name, config] of Object.entries(opts.maps ?? {})) obj.configureMap(name, config);
    } catch (err) {
      obj.close();
      throw err;
    }
    return obj;
  }

  /** open() then load(); on failure nothing stays open. */
  static load(path: string, opts: ObjectOpenOptions = {}): BpfObject {
    const obj = BpfObject.open(path, opts);
    try {
      obj.load();
    } catch (err) {
      obj.close();
      throw err;
    }
    return obj;
  }

  /**
   * Changes a map's definition before load. Throws BpfError: ENOENT for an unknown map,
   * EBUSY after load, EINVAL for values libbpf refuses. A pinned map whose definition
   * differs from the pin makes load() fail (libbpf refuses to reuse it).
   */
  configureMap(name: string, config: MapConfig): void {
    if (this.loaded) throw new BpfError('object configure map', `${this.name}/${name}`, EBUSY, { detail: 'already loaded' });
    const lib = libbpf();
    const map = this.findMap(name);
    const check = (ret: number, what: string): void => {
      if (ret < 0) throw new BpfError(`object configure map ${what}`, `${this.name}/${name}`, -ret);
    };
    if (config.maxEntries !== undefined) check(lib.mapSetMaxEntries(map, config.maxEntries), 'max_entries');
    if (config.keySize !== undefined) check(lib.mapSetKeySize(map, config.keySize), 'key_size');
    if (config.valueSize !== undefined) check(lib.mapSetValueSize(map, config.valueSize), 'value_size');
    if (config.flags !== undefined) check(lib.mapSetFlags(map, config.flags), 'map_flags');
    if (config.innerMap) check(lib.mapSetInnerMapFd(map, config.innerMap.fd), 'inner map fd');
    if (config.inner) {
      const inner = lib.mapInnerMap(map);
      if (!inner) throw new BpfError('object configure map inner', `${this.name}/${name}`, ENOENT, { detail: 'not a map of maps' });
      if (config.inner.maxEntries !== undefined) check(lib.mapSetMaxEntries(inner, config.inner.maxEntries), 'inner max_entries');
      if (config.inner.keySize !== undefined) check(lib.mapSetKeySize(inner, config.inner.keySize), 'inner key_size');
      if (config.inner.valueSize !== undefined) check(lib.mapSetValueSize(inner, config.inner.valueSize), 'inner value_size');
    }
  }

  /**
   * Creates (or reuses pinned) maps and loads every program. Throws BpfError
   * (`object load`) whose `log` holds libbpf's output, including the verifier log of a
   * rejected program; the message ends with its last lines.
   */
  load(): void {
    if (this.loaded) return;
    const lib = libbpf();
    mkdirSync(this.pinRoot, { recursive: true, mode: 0o700 });
    const { result, log } = collectLibbpfLog(this.logger, () => lib.load(this.requireHandle()));
    if (result < 0) throw new BpfError('object load', this.name, -result, { log });
    this.loaded = true;
  }

  /** Names of the object's maps (excluding libbpf's internal .data/.bss/.rodata maps). */
  get mapNames(): string[] {
    const lib = libbpf();
    const names: string[] = [];
    for (let h = this.requireHandle(), m = lib.nextMap(h, null); m; m = lib.nextMap(h, m)) {
      if (!lib.mapIsInternal(m)) names.push(lib.mapName(m));
    }
    return names;
  }

  get programNames(): string[] {
    const lib = libbpf();
    const names: string[] = [];
    for (let h = this.requireHandle(), p = lib.nextProgram(h, null); p; p = lib.nextProgram(h, p)) names.push(lib.progName(p));
    return names;
  }

  /** Where libbpf pinned (or reused) the map, or undefined for unpinned maps. */
  mapPinPath(name: string): string | undefined {
    const lib = libbpf();
    const map = this.findMap(name);
    return lib.mapIsPinned(map) ? (lib.mapPinPath(map) ?? undefined) : undefined;
  }

  /** A loaded map on its own fd (the caller closes it). Throws BpfError ENOENT for an unknown map. */
  map(name: string): BpfMap {
    this.requireLoaded(`map ${name}`);
    const fd = libbpf().mapFd(this.findMap(name));
    return BpfMap.adopt(dupFd(fd, 'map', name), name);
  }

  /** A loaded program on its own fd (the caller closes it). Throws BpfError ENOENT for an unknown program. */
  program(name: string): BpfProgram {
    this.requireLoaded(`program ${name}`);
    const lib = libbpf();
    for (let h = this.requireHandle(), p = lib.nextProgram(h, null); p; p = lib.nextProgram(h, p)) {
      if (lib.progName(p) === name) return BpfProgram.adopt(dupFd(lib.progFd(p), 'prog', name), name);
    }
    throw new BpfError('object find program', `${this.name}/${name}`, ENOENT);
  }

  /**
   * Frees libbpf's object and its fds (idempotent). Pinned maps, programs held through
   * program()/map() fds and links stay.
   */
  close(): void {
    if (this.handle) libbpf().close(this.handle);
    this.handle = null;
  }

  [Symbol.dispose](): void {
    this.close();
  }

  private findMap(name: string): Ptr {
    const lib = libbpf();
    for (let h = this.requireHandle(), m = lib.nextMap(h, null); m; m = lib.nextMap(h, m)) {
      if (lib.mapName(m) === name) return m;
    }
    throw new BpfError('object find map', `${this.name}/${name}`, ENOENT);
  }

  private requireHandle(): Ptr {
    if (!this.handle) throw new Error(`bpf object ${this.name} is closed`);
    return this.handle;
  }

  private requireLoaded(what: string): void {
    if (!this.loaded) throw new Error(`bpf object ${this.name}: load() before asking for ${what}`);
  }
}
