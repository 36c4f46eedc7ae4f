// LBWriter: the only writer of services, frontends and backends (reference
// §1, §3). A batch of changes is one write transaction; frontends are
// (re)computed once per touched service at the end of the batch, so a
// Service and its EndpointSlices arriving together write each frontend
// once. Every frontend whose service, backends or parameters changed is
// re-inserted Pending with its backends selected again, which is what the
// datapath reconciler acts on.
import type { Clock } from '../../reconcilers/index.js';
import { Status, systemClock } from '../../reconcilers/index.js';
import type { DB, WriteTxn } from '../../statedb/index.js';
import { Query } from '../../statedb/index.js';
import type { Backend } from './backend.js';
import type { EndpointSliceConversion } from './convert-endpoint-slice.js';
import type { ServiceConversion } from './convert-service.js';
import { isSurrogateAddress } from './expand-node-port.js';
import type { FrontendParams } from './frontend.js';
import { formatL3n4Addr, type L3n4Addr } from './l3n4-addr.js';
import { ipKeyPrefix, l3n4AddrKeyString } from './lb-keys.js';
import type { Frontend, FrontendBackend, LBTables } from './lb-tables.js';
import type { NodeAddress } from './node-address.js';
import { selectBackends, type LocalNode } from './select-backends.js';
import type { Service } from './service.js';
import { mergeSliceBackends, SliceOverlay, SliceStore } from './slice-store.js';
import { applyObjectChange, initializedTables, type LBObjectChange } from './lb-object-changes.js';

export interface LBWriterOptions {
  /** This node: Local traffic policies keep its backends; Node objects of other nodes are ignored. */
  readonly nodeName: string;
  /** Emit NodePort frontends (kube-proxy replacement). Default true. */
  readonly nodePort?: boolean;
  /** The source of rows converted from Kubernetes objects. Default `k8s`. */
  readonly source?: string;
  /** Stamps pending statuses. Default: the system clock. */
  readonly clock?: Clock;
}

/** A frontend address that another service already owns: the upsert is refused, nothing of it is written. */
export class FrontendConflictError extends Error {
  override readonly name = 'FrontendConflictError';
  constructor(
    readonly serviceName: string,
    readonly address: L3n4Addr,
    readonly owner: string,
  ) {
    super(`Service ${serviceName}: frontend ${formatL3n4Addr(address)} belongs to service ${owner}`);
  }
}

/** A service name already held by another source (files and Kubernetes both defining it): refused, not merged. */
export class ServiceSourceConflictError extends Error {
  override readonly name = 'ServiceSourceConflictError';
  constructor(
    readonly serviceName: string,
    readonly source: string,
    readonly owner: string,
  ) {
    super(`Service ${serviceName}: already defined by source ${owner}; ${source} cannot replace it (remove it there first)`);
  }
}

/** The result of LBWriter.apply: the changes it rejected and why (shaped like the agent's ApplyResult). */
export interface LBApplyResult<C extends LBObjectChange> {
  readonly errors: readonly { readonly change: C; readonly error: Error }[];
}

/** What a write transaction needs from its writer. */
interface WriterContext {
  readonly tables: LBTables;
  readonly node: LocalNode;
  readonly source: string;
  readonly clock: Clock;
}

/** Services, frontends, backends and node addresses, kept consistent. */
export class LBWriter {
  readonly tables: LBTables;
  readonly nodeName: string;
  readonly source: string;
  readonly nodePort: boolean;
  private readonly ctx: WriterContext;
  private readonly slices = new SliceStore();

  constructor(
    readonly db: DB,
    tables: LBTables,
    opts: LBWriterOptions,
  ) {
    this.tables = tables;
    this.nodeName = opts.nodeName;
    this.source = opts.source ?? 'k8s';
    this.nodePort = opts.nodePort ?? true;
    this.ctx = { tables, node: { name: opts.nodeName }, source: this.source, clock: opts.clock ?? systemClock };
  }

  /** How many EndpointSlices the writer holds (committed). */
  get sliceCount(): number {
    return this.slices.size;
  }

  /**
   * Runs fn with a write transaction over the four tables, recomputes the
   * frontends of every service it touched, and commits. If fn throws,
   * nothing is written and the error propagates. Throws TableLockedError
   * when another write transaction holds one of the tables.
   */
  write<R>(fn: (w: LBWriteTxn) => R): R {
    const t = this.tables;
    const txn = this.db.writeTxn([t.services, t.frontends, t.backends, t.nodeAddresses], { holder: 'lb-writer' });
    try {
      const overlay = new SliceOverlay(this.slices);
      const w = new LBWriteTxn(this.ctx, txn, overlay);
      const result = fn(w);
      w.finish();
      txn.commit();
      this.slices.apply(overlay.changes);
      return result;
    } finally {
      txn.abort();
    }
  }

  /** Whether error is a refusal that another object's change may lift (a name or address held elsewhere). */
  isConflict(error: Error): boolean {
    return error instanceof FrontendConflictError || error instanceof ServiceSourceConflictError;
  }

  /**
   * The agent's ObjectSink: applies Services, EndpointSlices and this
   * node's Node in one write transaction. A change that fails (invalid
   * object, frontend conflict, unsupported kind) is returned in `errors`
   * and the rest still apply. Idempotent: an unchanged object writes
   * nothing, deleting an unknown one is a no-op. Throws (nothing applied)
   * only when the transaction itself fails, e.g. TableLockedError.
   */
  apply<C extends LBObjectChange>(changes: readonly C[]): LBApplyResult<C> {
    const errors: { change: C; error: Error }[] = [];
    const opts = { nodeName: this.nodeName, source: this.source, nodePort: this.nodePort };
    this.write((w) => {
      for (const change of changes) {
        try {
          applyObjectChange(w, change, opts);
        } catch (err) {
          errors.push({ change, error: err instanceof Error ? err : new Error(String(err)) });
        }
      }
    });
    return { errors };
  }

  /**
   * Registers a pending initializer named `sourceName` on the tables the
   * kinds feed (Service: services, frontends; EndpointSlice: backends,
   * frontends; Node: node-addresses, frontends), so the reconciler prunes
   * only after the source's initial listing. markDone completes it
   * (idempotent). Throws InitializerError when the name is already pending.
   */
  registerInitializer(sourceName: string, kinds: readonly string[]): { markDone(): void } {
    const names = new Set(kinds.flatMap((k) => initializedTables(k)));
    const tables = [...names].map((n) => this.tables[n]);
    if (tables.length === 0) return { markDone: () => undefined };
    const done = this.db.write(tables, (txn) => tables.map((t) => t.registerInitializer(txn, sourceName)));
    let finished = false;
    return {
      markDone: () => {
        if (finished) return;
        this.db.write(tables, (txn) => {
          for (const d of done) d(txn);
        });
        finished = true;
      },
    };
  }
}

/** One batch of writes; see LBWriter.write. Methods throw only for the object they were given. */
export class LBWriteTxn {
  /** Services whose frontends must be recomputed, with their new parameters (undefined: keep the current ones). */
  private readonly dirty = new Map<string, readonly FrontendParams[] | undefined>();
  /** Services whose backends must be recomputed from their slices. */
  private readonly backendsDirty = new Set<string>();
  /** Frontend owners changed in this batch (null: released), by address key. */
  private readonly owners = new Map<string, string | null>();
  /** Frontends written in this batch, by address key. */
  private readonly written = new Set<string>();
  /** `port/protocol` of LoadBalancer and ExternalIPs frontends added or removed: NodePort expansions there change. */
  private readonly surrogatePorts = new Map<string, L3n4Addr>();
  private allSurrogates = false;
  private readonly backendRevisions = new Map<Backend, number>();
  /** Service rows as this batch left them (undefined: deleted), so writeFrontends need not read them again. */
  private readonly serviceRows = new Map<string, Service | undefined>();
  /** Services with no frontend rows before this batch. */
  private readonly fresh = new Set<string>();

  constructor(
    private readonly ctx: WriterContext,
    readonly txn: WriteTxn,
    private readonly overlay: SliceOverlay,
  ) {}

  /**
   * Upserts a service and (at the end of the batch) its frontends: new ones
   * inserted, changed ones rewritten Pending, the ones it no longer has
   * deleted. Throws, before writing anything, ServiceSourceConflictError
   * when another source holds a service of that name, and
   * FrontendConflictError when one of its frontend addresses belongs to
   * another service.
   */
  upsertService(conv: ServiceConversion): void {
    const { services } = this.ctx.tables;
    const name = conv.service.name;
    const stored = services.get(this.txn, services.primary.query(name));
    if (stored !== undefined && stored.source !== this.ctx.source) throw new ServiceSourceConflictError(name, this.ctx.source, stored.source);
    const keys = conv.frontends.map((fe) => l3n4AddrKeyString(fe.address));
    conv.frontends.forEach((fe, i) => {
      const owner = this.ownerOf(keys[i]!, fe.address);
      if (owner !== undefined && owner !== name) throw new FrontendConflictError(name, fe.address, owner);
    });
    // A service neither stored nor touched in this batch has no frontend rows yet.
    const fresh = stored === undefined && !this.dirty.has(name);
    if (stored === undefined || !sameJSON(stored, conv.service)) {
      services.insert(this.txn, conv.service);
      this.serviceRows.set(name, conv.service);
    } else {
      this.serviceRows.set(name, stored);
    }
    if (fresh) this.fresh.add(name);
    else for (const key of this.currentKeys(name)) if (!keys.includes(key)) this.owners.set(key, null);
    for (const key of keys) this.owners.set(key, name);
    this.dirty.set(name, conv.frontends);
  }

  /**
   * Deletes a service and its frontends; its backends stay (they belong to
   * the slices). Returns false when this source holds no such service (one
   * held by another source is left alone).
   */
  deleteService(name: string): boolean {
    const { services } = this.ctx.tables;
    const stored = services.get(this.txn, services.primary.query(name));
    if (stored !== undefined && stored.source !== this.ctx.source) return false;
    for (const key of this.currentKeys(name)) this.owners.set(key, null);
    if (stored === undefined && !this.dirty.has(name)) return false;
    if (stored !== undefined) services.delete(this.txn, stored);
    this.serviceRows.set(name, undefined);
    this.dirty.set(name, []);
    return stored !== undefined;
  }

  /**
   * Replaces what one EndpointSlice contributes to its service's backends
   * (the service's backends are the merge of its slices). A slice that
   * moved to another service releases its backends from the old one.
   */
  upsertEndpointSlice(conv: EndpointSliceConversion): void {
    const old = this.overlay.get(conv.sliceName);
    this.overlay.set(conv.sliceName, { serviceName: conv.serviceName, backends: conv.backends });
    this.backendsDirty.add(conv.serviceName);
    if (old !== undefined && old.serviceName !== conv.serviceName) this.backendsDirty.add(old.serviceName);
  }

  /** Releases a slice's backends. Returns false when the slice was unknown (a no-op). */
  deleteEndpointSlice(sliceName: string): boolean {
    const old = this.overlay.get(sliceName);
    if (old === undefined) return false;
    this.overlay.set(sliceName, null);
    this.backendsDirty.add(old.serviceName);
    return true;
  }

  /** Replaces this node's addresses; NodePort frontends are re-marked Pending when they changed. */
  setNodeAddresses(addresses: readonly NodeAddress[]): void {
    const { nodeAddresses } = this.ctx.tables;
    const existing = new Map<string, NodeAddress>();
    for (const e of nodeAddresses.all(this.txn)) existing.set(e.object.ip, e.object);
    let changed = false;
    for (const a of addresses) {
      const old = existing.get(a.ip);
      existing.delete(a.ip);
      if (old !== undefined && sameJSON(old, a)) continue;
      nodeAddresses.insert(this.txn, { ...a });
      changed = true;
    }
    for (const old of existing.values()) {
      nodeAddresses.delete(this.txn, old);
      changed = true;
    }
    if (changed) this.allSurrogates = true;
  }

  /** @internal Writes the frontends of every touched service; called by LBWriter.write before committing. */
  finish(): void {
    for (const name of this.backendsDirty) this.recomputeBackends(name);
    for (const [name, params] of this.dirty) this.writeFrontends(name, params);
    if (this.allSurrogates) this.refreshSurrogates(undefined);
    else for (const addr of this.surrogatePorts.values()) this.refreshSurrogates(addr);
  }

  private ownerOf(key: string, address: L3n4Addr): string | undefined {
    const staged = this.owners.get(key);
    if (staged !== undefined) return staged ?? undefined;
    const { frontends } = this.ctx.tables;
    return frontends.get(this.txn, frontends.primary.query(address))?.serviceName;
  }

  /** Address keys of a service's frontends as of this point of the batch. */
  private currentKeys(name: string): string[] {
    const staged = this.dirty.get(name);
    if (staged !== undefined) return staged.map((fe) => l3n4AddrKeyString(fe.address));
    const { frontends } = this.ctx.tables;
    return [...frontends.list(this.txn, frontends.secondary.service.query(name))].map((e) => l3n4AddrKeyString(e.object.address));
  }

  /**
   * Writes the service's backend rows as the merge of its slices. What the
   * table holds for this writer's source is the merge of the committed
   * slices (only this writer writes rows of its source), so that is what is
   * compared against, without reading the table.
   */
  private recomputeBackends(serviceName: string): void {
    const { backends } = this.ctx.tables;
    const committed = this.overlay.committedSlicesOf(serviceName);
    const existing = new Map<string, Backend>();
    if (committed.length > 0) for (const be of mergeSliceBackends(committed)) existing.set(l3n4AddrKeyString(be.address), be);
    const merged = mergeSliceBackends(this.overlay.slicesOf(serviceName));
    let changed = false;
    for (const be of merged) {
      const key = l3n4AddrKeyString(be.address);
      const old = existing.get(key);
      existing.delete(key);
      if (old !== undefined && sameBackend(old, be)) continue;
      backends.insert(this.txn, be);
      changed = true;
    }
    for (const old of existing.values()) {
      backends.delete(this.txn, old);
      changed = true;
    }
    if (changed && !this.dirty.has(serviceName)) this.dirty.set(serviceName, undefined);
  }

  /** Brings a service's frontend rows in line with its parameters, its service row and its backends. */
  private writeFrontends(name: string, params: readonly FrontendParams[] | undefined): void {
    const { services, frontends } = this.ctx.tables;
    const svc = this.serviceRows.has(name) ? this.serviceRows.get(name) : services.get(this.txn, services.primary.query(name));
    const existing = new Map<string, Frontend>();
    if (!this.fresh.has(name)) {
      for (const e of frontends.list(this.txn, frontends.secondary.service.query(name))) {
        existing.set(l3n4AddrKeyString(e.object.address), e.object);
      }
    }
    const desired: readonly FrontendParams[] = svc === undefined ? [] : (params ?? [...existing.values()]);
    // Every source's rows: other LBWriters (one per source) may hold backends of this service too.
    const candidates = desired.length === 0 ? [] : this.backendsOf(name);
    for (const fe of desired) {
      const key = l3n4AddrKeyString(fe.address);
      const old = existing.get(key);
      existing.delete(key);
      const row = this.frontendRow(fe, svc!, candidates, old);
      if (row === undefined) continue;
      frontends.insert(this.txn, row);
      this.written.add(key);
      if (old === undefined || old.type !== fe.type) this.noteSurrogatePort(fe);
    }
    for (const old of existing.values()) {
      frontends.delete(this.txn, old);
      this.noteSurrogatePort(old);
    }
  }

  /** The row for fe, or undefined when the stored one is already exactly that. */
  private frontendRow(fe: FrontendParams, svc: Service, candidates: readonly Backend[], old: Frontend | undefined): Frontend | undefined {
    const sel = selectBackends(fe, svc, candidates, this.ctx.node, { includeMaintenance: true });
    const backends: FrontendBackend[] = sel.backends.map((backend) => ({ backend, revision: this.backendRevisions.get(backend) ?? 0 }));
    if (
      old !== undefined &&
      old.service === svc &&
      old.type === fe.type &&
      old.portName === fe.portName &&
      old.servicePort === fe.servicePort &&
      old.activeCount === sel.activeCount &&
      old.inactiveCount === sel.inactiveCount &&
      sameBackends(old.backends, backends)
    ) {
      return undefined;
    }
    return {
      address: fe.address,
      type: fe.type,
      serviceName: fe.serviceName,
      portName: fe.portName,
      servicePort: fe.servicePort,
      service: svc,
      backends,
      activeCount: sel.activeCount,
      inactiveCount: sel.inactiveCount,
      status: Status.pending(this.ctx.clock),
      id: old?.id ?? 0,
    };
  }

  /**
   * The service's backend rows, remembering each one's revision. An address
   * several sources give appears once: key order puts them side by side,
   * and the first source (by name) wins.
   */
  private backendsOf(serviceName: string): Backend[] {
    const { backends } = this.ctx.tables;
    const out: Backend[] = [];
    let previous: Backend | undefined;
    for (const e of backends.prefix(this.txn, backends.primary.query({ serviceName }))) {
      const be = e.object;
      if (previous !== undefined && sameAddress(previous.address, be.address)) continue;
      this.backendRevisions.set(be, e.revision);
      out.push(be);
      previous = be;
    }
    return out;
  }

  private noteSurrogatePort(fe: FrontendParams): void {
    if (fe.type !== 'LoadBalancer' && fe.type !== 'ExternalIPs') return;
    this.surrogatePorts.set(`${fe.address.port}/${fe.address.protocol}`, fe.address);
  }

  /**
   * Re-marks NodePort/HostPort surrogates Pending (those on `addr`'s port
   * and protocol, or all), so the reconciler expands them again: node
   * addresses changed, or a LoadBalancer/ExternalIPs frontend appeared on
   * or left an address an expansion would take.
   */
  private refreshSurrogates(addr: L3n4Addr | undefined): void {
    const { frontends } = this.ctx.tables;
    for (const ip of ['0.0.0.0', '::']) {
      let prefix = ipKeyPrefix(ip);
      if (addr !== undefined) prefix += String.fromCharCode(addr.port >>> 8, addr.port & 0xff);
      const q = new Query<Frontend>(frontends.primary, prefix, 0);
      const stale: Frontend[] = [];
      for (const e of frontends.prefix(this.txn, q)) {
        const fe = e.object;
        if (!isSurrogateAddress(fe.address) || (fe.type !== 'NodePort' && fe.type !== 'HostPort')) continue;
        if (addr !== undefined && fe.address.protocol !== addr.protocol) continue;
        if (!this.written.has(l3n4AddrKeyString(fe.address))) stale.push(fe);
      }
      for (const fe of stale) {
        frontends.insert(this.txn, { ...fe, status: Status.pending(this.ctx.clock) });
        this.written.add(l3n4AddrKeyString(fe.address));
      }
    }
  }
}

/** Rows built by the converters have a fixed field order, so their JSON compares them. */
function sameJSON(a: unknown, b: unknown): boolean {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function sameAddress(a: L3n4Addr, b: L3n4Addr): boolean {
  return a.ip === b.ip && a.port === b.port && a.protocol === b.protocol && a.scope === b.scope;
}

function sameStrings(a: readonly string[], b: readonly string[]): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Field-by-field equality of two backend rows. */
export function sameBackend(a: Backend, b: Backend): boolean {
  return (
    a === b ||
    (a.serviceName === b.serviceName &&
      a.address.ip === b.address.ip &&
      a.address.port === b.address.port &&
      a.address.protocol === b.address.protocol &&
      a.address.scope === b.address.scope &&
      a.state === b.state &&
      a.weight === b.weight &&
      a.nodeName === b.nodeName &&
      a.zone === b.zone &&
      a.source === b.source &&
      sameStrings(a.portNames, b.portNames) &&
      sameStrings(a.forZones, b.forZones))
  );
}

function sameBackends(a: readonly FrontendBackend[], b: readonly FrontendBackend[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    if (a[i]!.backend !== b[i]!.backend || a[i]!.revision !== b[i]!.revision) return false;
  }
  return true;
}
