// The policy controller: keeps identities, ipcache and endpoint-policies
// consistent with endpoints, namespaces and policies. Incremental: each
// step reads the input changes since the last one (change iterators),
// recomputes only the endpoints endpointsToRecompute names, and writes only
// rows that differ. A full path (recomputeAll) rebuilds everything from the
// tables. The computed tables carry an initializer that completes once
// every input table is initialized and processed, so their reconcilers
// prune nothing before the inputs are complete.
import { Status } from '../../reconcilers/index.js';
import { waitAny, type ChangeIterator, type DB, type Watch, type WriteTxn } from '../../statedb/index.js';
import { PolicyResolver, type EndpointPolicy, type PolicyEntry } from './endpoint-policy.js';
import { IdentityAllocator, ReservedIdentity, type IdentityAllocation } from './identity.js';
import { endpointsToRecompute } from './policy-recompute.js';
import { emptyDelta, PolicyModel, type Delta } from './policy-model.js';
import type { EndpointPolicyRow, EndpointRow, IdentityRow, NamespaceRow, PolicyRow, PolicyTables } from './policy-tables.js';

export interface PolicyControllerOptions {
  /** This node's addresses: ipcache entries with the reserved host identity. */
  readonly hostAddresses?: readonly string[];
  /** Receives errors of background steps (default: none; the loop retries after retryMs). */
  readonly onError?: (err: unknown) => void;
  /** Delay before the loop retries after a failed step (default 1000 ms). */
  readonly retryMs?: number;
}

/** What one step did. */
export interface PolicyStepReport {
  /** Endpoints whose policy was computed (their rows were written only when different). */
  readonly recomputed: ReadonlySet<string>;
  readonly endpointPoliciesWritten: number;
  readonly endpointPoliciesDeleted: number;
  readonly ipcacheWritten: number;
  readonly ipcacheDeleted: number;
  readonly identitiesWritten: number;
  readonly identitiesDeleted: number;
  /** True once every input table is initialized and this controller has processed it. */
  readonly initialized: boolean;
}

const CONTROLLER = 'policy-controller';

const RESERVED_ROWS: readonly IdentityRow[] = Object.entries(ReservedIdentity)
  .filter(([, id]) => id !== ReservedIdentity.Unknown)
  .map(([name, id]) => ({ id, kind: 'reserved' as const, labels: `reserved:${name.replace(/[A-Z]/g, (c, i: number) => (i > 0 ? '-' : '') + c.toLowerCase())}` }));

export class PolicyController {
  private model!: PolicyModel;
  private iterators!: { endpoints: ChangeIterator<EndpointRow>; namespaces: ChangeIterator<NamespaceRow>; policies: ChangeIterator<PolicyRow> };
  private full = true;
  private readonly markOutputsDone: ((txn: WriteTxn) => void)[];
  private outputsInitialized = false;
  private abort: AbortController | undefined;
  private loopDone: Promise<void> | undefined;

  /**
   * Registers the computed tables' initializers, writes the reserved
   * identities, and restores identity allocations from the identities
   * table (kept by a durable store, or written by an earlier controller):
   * the same label set gets the same identity again. Nothing is computed
   * until step() or start().
   */
  constructor(
    private readonly db: DB,
    private readonly tables: PolicyTables,
    private readonly opts: PolicyControllerOptions = {},
  ) {
    const t = tables;
    this.markOutputsDone = db.write([t.identities, t.ipcache, t.endpointPolicies], (txn) => {
      for (const row of RESERVED_ROWS) {
        const existing = t.identities.get(txn, t.identities.primary.query(row.id));
        if (existing === undefined || existing.labels !== row.labels) t.identities.insert(txn, row);
      }
      return [t.identities, t.ipcache, t.endpointPolicies].map((table) => table.registerInitializer(txn, CONTROLLER));
    });
    this.reset();
  }

  /** Forgets the model and restarts from the tables: the next step replays every input and recomputes everything. */
  private reset(): void {
    if (this.iterators !== undefined) for (const it of Object.values(this.iterators)) it.close();
    const allocator = new IdentityAllocator();
    const txn = this.db.readTxn();
    const previous: IdentityAllocation[] = [];
    for (const { object } of this.tables.identities.all(txn)) if (object.kind !== 'reserved') previous.push({ id: object.id, kind: object.kind, labels: object.labels });
    allocator.restore(previous);
    this.model = new PolicyModel(allocator, this.opts.hostAddresses ?? []);
    this.iterators = { endpoints: this.tables.endpoints.changes(), namespaces: this.tables.namespaces.changes(), policies: this.tables.policies.changes() };
    this.full = true;
  }

  /**
   * Processes every input change committed since the last step, in one
   * write transaction. Synchronous. On a throw (identity space exhausted,
   * statedb errors) nothing is written and the model is rebuilt from the
   * tables, so the next step recomputes everything.
   */
  step(): PolicyStepReport {
    try {
      return this.db.write([this.tables.endpoints, this.tables.identities, this.tables.ipcache, this.tables.endpointPolicies], (txn) => this.stepIn(txn));
    } catch (err) {
      this.reset();
      throw err;
    }
  }

  /** The full path: rebuilds the model from the tables and recomputes every endpoint, ipcache entry and identity. */
  recomputeAll(): PolicyStepReport {
    this.reset();
    return this.step();
  }

  private stepIn(txn: WriteTxn): PolicyStepReport {
    const t = this.tables;
    const full = this.full;
    const delta = emptyDelta();
    for (const c of this.iterators.namespaces.next(txn).changes) this.model.setNamespace(c.object.name, c.deleted ? undefined : c.object.labels, delta);
    let policiesChanged = false;
    for (const c of this.iterators.policies.next(txn).changes) {
      policiesChanged = true;
      this.model.setPolicy(c.object.name, c.deleted ? undefined : (c.object.policy ?? undefined), delta);
    }
    for (const c of this.iterators.endpoints.next(txn).changes) {
      if (!c.deleted && this.model.endpointRow(c.object.id) === c.object) continue; // our own identity write
      this.model.setEndpoint(c.object.id, c.deleted ? undefined : c.object, delta);
    }
    for (const row of this.model.assignIdentities(delta)) {
      const current = t.endpoints.get(txn, t.endpoints.primary.query(row.id));
      if (current === undefined) continue;
      const rewritten: EndpointRow = { ...current, identity: this.model.identityOf(row.id) };
      t.endpoints.insert(txn, rewritten);
      this.model.rowRewritten(rewritten);
    }
    if (policiesChanged || full) this.model.refreshCIDRs(delta);

    const initializedNow = t.endpoints.initialized(txn).initialized && t.namespaces.initialized(txn).initialized && t.policies.initialized(txn).initialized;
    const released = initializedNow && (full || !this.outputsInitialized) ? this.model.allocator.releaseUnclaimedRestored() : [];
    for (const a of released) delta.identities.add(a.id);

    const identities = this.writeIdentities(txn, delta.identities);
    const ipcache = this.writeIpcache(txn, full, delta.prefixes);
    const policies = this.writeEndpointPolicies(txn, full, delta);
    if (initializedNow && !this.outputsInitialized) {
      for (const markDone of this.markOutputsDone) markDone(txn);
      this.outputsInitialized = true;
    }
    this.full = false;
    return { ...identities, ...ipcache, ...policies, initialized: this.outputsInitialized };
  }

  private writeIdentities(txn: WriteTxn, ids: ReadonlySet<number>): { identitiesWritten: number; identitiesDeleted: number } {
    const t = this.tables.identities;
    let identitiesWritten = 0;
    let identitiesDeleted = 0;
    for (const id of ids) {
      if (id < 256) continue; // reserved rows are constant
      const allocation = this.model.allocator.lookupId(id);
      const existing = t.get(txn, t.primary.query(id));
      if (allocation === undefined) {
        if (existing !== undefined) {
          t.delete(txn, existing);
          identitiesDeleted++;
        }
      } else if (existing === undefined || existing.labels !== allocation.labels || existing.kind !== allocation.kind) {
        t.insert(txn, { id, kind: allocation.kind, labels: allocation.labels });
        identitiesWritten++;
      }
    }
    return { identitiesWritten, identitiesDeleted };
  }

  private writeIpcache(txn: WriteTxn, full: boolean, touched: ReadonlySet<string>): { ipcacheWritten: number; ipcacheDeleted: number } {
    const t = this.tables.ipcache;
    const prefixes = new Set(touched);
    if (full) {
      for (const p of this.model.claims.prefixes()) prefixes.add(p);
      for (const { object } of t.all(txn)) prefixes.add(object.prefix);
    }
    let ipcacheWritten = 0;
    let ipcacheDeleted = 0;
    for (const prefix of prefixes) {
      const claim = this.model.claims.winner(prefix);
      const existing = t.get(txn, t.primary.query(prefix));
      if (claim === undefined) {
        if (existing !== undefined) {
          t.delete(txn, existing);
          ipcacheDeleted++;
        }
        continue;
      }
      if (existing !== undefined && existing.identity === claim.identity && existing.source === claim.source && existing.owner === claim.owner) continue;
      t.insert(txn, { prefix, identity: claim.identity, source: claim.source, owner: claim.owner, status: Status.pending() });
      ipcacheWritten++;
    }
    return { ipcacheWritten, ipcacheDeleted };
  }

  private writeEndpointPolicies(
    txn: WriteTxn,
    full: boolean,
    delta: Delta,
  ): { recomputed: Set<string>; endpointPoliciesWritten: number; endpointPoliciesDeleted: number } {
    const t = this.tables.endpointPolicies;
    const ctx = this.model.context();
    const targets = new Set(delta.recompute);
    if (full) {
      for (const id of this.model.endpointIds()) targets.add(id);
      for (const { object } of t.all(txn)) targets.add(object.endpoint);
    } else {
      for (const change of delta.changes) for (const id of endpointsToRecompute(change, ctx)) targets.add(id);
    }
    const resolver = new PolicyResolver(ctx);
    const recomputed = new Set<string>();
    let endpointPoliciesWritten = 0;
    let endpointPoliciesDeleted = 0;
    for (const id of targets) {
      const row = this.model.endpointRow(id);
      const view = this.model.endpointView(id);
      const existing = t.get(txn, t.primary.query(id));
      const iface = row?.local ? row.hostInterface : null;
      if (row === undefined || view === undefined || iface === null || iface.ifindex <= 0) {
        if (existing !== undefined) {
          t.delete(txn, existing);
          endpointPoliciesDeleted++;
        }
        continue;
      }
      recomputed.add(id);
      const policy = resolver.compute(view);
      if (existing !== undefined && sameEndpointPolicy(existing, view.identity, iface, policy)) continue;
      // Another endpoint's row may still hold this ifindex (an interface
      // reused before the old pod's row went): the newer pod takes it.
      const holder = t.get(txn, t.secondary.endpointId.query(iface.ifindex));
      if (holder !== undefined && holder.endpoint !== id) t.delete(txn, holder);
      t.insert(txn, {
        endpoint: id,
        endpointId: iface.ifindex,
        ifindex: iface.ifindex,
        interfaceName: iface.name,
        identity: view.identity,
        enforced: policy.enforced,
        entries: policy.entries,
        status: Status.pending(),
      });
      endpointPoliciesWritten++;
    }
    return { recomputed, endpointPoliciesWritten, endpointPoliciesDeleted };
  }

  /**
   * Runs steps in the background: one now, then one whenever an input
   * table changes or becomes initialized. A failed step is reported to
   * onError and retried after retryMs with a full recompute. Throws when
   * already started.
   */
  start(): void {
    if (this.abort !== undefined) throw new Error('policy controller already started');
    const abort = new AbortController();
    this.abort = abort;
    this.loopDone = this.loop(abort.signal);
  }

  /** Stops the background loop (waits for it) and releases the change iterators. Idempotent. */
  async stop(): Promise<void> {
    this.abort?.abort();
    await this.loopDone;
    for (const it of Object.values(this.iterators)) it.close();
  }

  private async loop(signal: AbortSignal): Promise<void> {
    while (!signal.aborted) {
      let watches: Watch[];
      try {
        this.step();
        watches = this.inputWatches();
      } catch (err) {
        this.opts.onError?.(err);
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, this.opts.retryMs ?? 1000);
          signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
        });
        continue;
      }
      try {
        await waitAny(watches, signal);
      } catch (err) {
        if (signal.aborted) return;
        throw err;
      }
      // Let commits made in the same tick land in one step.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }

  /** Watches that close when an input table changes (or becomes initialized). */
  private inputWatches(): Watch[] {
    const t = this.tables;
    const txn = this.db.readTxn();
    const watches: Watch[] = [t.endpoints.allWatch(txn).watch, t.namespaces.allWatch(txn).watch, t.policies.allWatch(txn).watch];
    for (const table of [t.endpoints, t.namespaces, t.policies]) {
      const init = table.initialized(txn);
      if (!init.initialized) watches.push(init.watch);
    }
    return watches;
  }
}

function sameEndpointPolicy(row: EndpointPolicyRow, identity: number, iface: { name: string; ifindex: number }, policy: EndpointPolicy): boolean {
  return (
    row.identity === identity &&
    row.ifindex === iface.ifindex &&
    row.interfaceName === iface.name &&
    row.enforced.ingress === policy.enforced.ingress &&
    row.enforced.egress === policy.enforced.egress &&
    sameEntries(row.entries, policy.entries)
  );
}

function sameEntries(a: readonly PolicyEntry[], b: readonly PolicyEntry[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.direction !== y.direction || x.peerIdentity !== y.peerIdentity || x.protocol !== y.protocol || x.portLo !== y.portLo || x.portHi !== y.portHi) return false;
  }
  return true;
}
