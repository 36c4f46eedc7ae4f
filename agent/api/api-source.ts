// The API source: follows the durable `api-services` and `api-policies`
// tables and hands their objects to the same sink (writers) as the other
// sources, under the source name `api`. Its initializer completes after the
// first pass, which replays every row restored from the store, so nothing
// the API created is pruned from the maps across a restart.
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { waitAny, WaitAbortedError, type ChangeIterator, type DB } from '../../statedb/index.js';
import {
  Backoff,
  describeRef,
  KUBE_KINDS,
  objectKey,
  refOf,
  SourceStoppedError,
  type InitializerHandle,
  type KubeChange,
  type KubeKind,
  type ObjectSink,
  type Source,
  type SourceCounters,
  type SourceHealth,
} from '../sources/index.js';
import type { Logger } from '../observability/index.js';
import type { ApiPolicyRow, ApiServiceRow, ApiTables } from './api-tables.js';

export const API_SOURCE_NAME = 'api';
/** The kinds the API source writes. */
export const API_KINDS: readonly KubeKind[] = ['Service', 'EndpointSlice', 'NetworkPolicy'];

export interface ApiSourceOptions {
  readonly db: DB;
  readonly tables: ApiTables;
  readonly sink: ObjectSink;
  readonly logger: Logger;
}

/** What the sink said about one row's last applied version. */
export interface RowOutcome {
  readonly revision: number;
  /** One message per rejected object of the row (empty: applied). */
  readonly errors: readonly string[];
}

type TableKey = 'services' | 'policies';

interface Pending {
  readonly changes: KubeChange[];
  /** The row (table and key) each change came from. */
  readonly origins: { table: TableKey; key: string; revision: number }[];
}

export class ApiSource implements Source {
  readonly name = API_SOURCE_NAME;
  readonly synced: Promise<boolean>;
  isSynced = false;
  private resolveSynced!: (v: boolean) => void;
  private readonly initializer: InitializerHandle;
  private readonly abort = new AbortController();
  private loopDone: Promise<void> | undefined;
  private stopped = false;
  private iterators: { services: ChangeIterator<ApiServiceRow>; policies: ChangeIterator<ApiPolicyRow> } | undefined;
  /** The last applied version of each service row: its slices that vanish in an update are deleted. */
  private readonly appliedServices = new Map<string, ApiServiceRow>();
  private readonly outcomes = { services: new Map<string, RowOutcome>(), policies: new Map<string, RowOutcome>() };
  private readonly processed = { services: 0, policies: 0 };
  private waiters: { table: TableKey; revision: number; resolve: () => void }[] = [];
  private readonly counts = { batchesApplied: 0, changesApplied: 0, objectErrors: 0, sinkFailures: 0 };
  private readonly eventsByKind = Object.fromEntries(KUBE_KINDS.map((k) => [k, 0])) as Record<KubeKind, number>;
  private lastError: { message: string; at: Date } | undefined;
  private failing = false;

  constructor(private readonly opts: ApiSourceOptions) {
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
    this.initializer = opts.sink.registerInitializer(API_SOURCE_NAME, API_KINDS);
  }

  /** Starts following the tables (idempotent). Throws SourceStoppedError after stop(). */
  start(): Promise<void> {
    if (this.stopped) return Promise.reject(new SourceStoppedError(this.name));
    if (this.loopDone === undefined) {
      const t = this.opts.tables;
      this.iterators = { services: t.services.changes(), policies: t.policies.changes() };
      this.loopDone = this.loop().catch((err: unknown) => {
        // Not expected (statedb misuse); keep the process up and show it in health.
        this.failing = true;
        this.lastError = { message: `the API source stopped: ${err instanceof Error ? err.message : String(err)}`, at: new Date() };
        this.opts.logger.error({ err: this.lastError.message }, 'API source failed');
      });
    }
    return Promise.resolve();
  }

  /** Stops after the batch in flight; releases the change iterators. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return this.loopDone;
    this.stopped = true;
    this.abort.abort();
    await this.loopDone;
    this.iterators?.services.close();
    this.iterators?.policies.close();
    this.resolveSynced(false);
    for (const w of this.waiters.splice(0)) w.resolve();
  }

  /**
   * Resolves once every change of `table` up to `revision` has been handed
   * to the sink (or the source stopped). Never rejects.
   */
  waitProcessed(table: TableKey, revision: number): Promise<void> {
    if (this.processed[table] >= revision || this.stopped) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push({ table, revision, resolve }));
  }

  /** The outcome of a row's last applied version, if it was applied. */
  outcome(table: TableKey, key: string): RowOutcome | undefined {
    return this.outcomes[table].get(key);
  }

  health(): SourceHealth {
    const status = this.stopped ? 'stopped' : this.failing ? 'degraded' : this.isSynced ? 'ok' : 'starting';
    const problems = this.failing && this.lastError ? [`applying API objects failed: ${this.lastError.message}`] : [];
    return { status, synced: this.isSynced, problems, ...(this.lastError ? { lastError: this.lastError } : {}) };
  }

  counters(): SourceCounters {
    return { eventsByKind: { ...this.eventsByKind }, ...this.counts, errors: 0, restarts: 0, resyncs: 0, lastResyncAt: null };
  }

  private async loop(): Promise<void> {
    const signal = this.abort.signal;
    const backoff = new Backoff({ initialMs: 100, maxMs: 10_000 });
    let pending: Pending = { changes: [], origins: [] };
    while (!signal.aborted) {
      const its = this.iterators!;
      const txn = this.opts.db.readTxn();
      const svc = its.services.next(txn);
      const pol = its.policies.next(txn);
      const revisions = { services: this.opts.tables.services.revision(txn), policies: this.opts.tables.policies.revision(txn) };
      pending = this.collect(pending, svc.changes, pol.changes);
      if (!(await this.applyWithRetry(pending, backoff, signal))) return;
      pending = { changes: [], origins: [] };
      this.markProcessed(revisions);
      if (!this.isSynced && !(await this.completeInitializer(backoff, signal))) return;
      try {
        await waitAny([svc.watch, pol.watch], signal);
      } catch (err) {
        if (err instanceof WaitAbortedError) return;
        throw err;
      }
    }
  }

  /** Adds the changes of these rows to what is pending (a retried batch merges newer rows). */
  private collect(into: Pending, services: Iterable<{ object: ApiServiceRow; deleted: boolean; revision: number }>, policies: Iterable<{ object: ApiPolicyRow; deleted: boolean; revision: number }>): Pending {
    const out: Pending = { changes: [...into.changes], origins: [...into.origins] };
    const push = (change: KubeChange, table: TableKey, key: string, revision: number) => {
      out.changes.push(change);
      out.origins.push({ table, key, revision });
      this.eventsByKind[change.kind]++;
    };
    for (const c of services) {
      const row = c.object;
      const previous = this.appliedServices.get(row.name);
      if (c.deleted) {
        const last = previous ?? row;
        push({ type: 'delete', kind: 'Service', object: last.service }, 'services', row.name, c.revision);
        for (const s of last.endpointSlices) push({ type: 'delete', kind: 'EndpointSlice', object: s }, 'services', row.name, c.revision);
        this.appliedServices.delete(row.name);
        continue;
      }
      push({ type: 'upsert', kind: 'Service', object: row.service }, 'services', row.name, c.revision);
      const names = new Set(row.endpointSlices.map(sliceName));
      for (const s of row.endpointSlices) push({ type: 'upsert', kind: 'EndpointSlice', object: s }, 'services', row.name, c.revision);
      for (const s of previous?.endpointSlices ?? []) {
        if (!names.has(sliceName(s))) push({ type: 'delete', kind: 'EndpointSlice', object: s }, 'services', row.name, c.revision);
      }
      this.appliedServices.set(row.name, row);
    }
    for (const c of policies) push({ type: c.deleted ? 'delete' : 'upsert', kind: 'NetworkPolicy', object: c.object.policy }, 'policies', c.object.name, c.revision);
    return coalesce(out);
  }

  /** Applies the batch, retrying a throwing sink with backoff. False when stopped first. */
  private async applyWithRetry(batch: Pending, backoff: Backoff, signal: AbortSignal): Promise<boolean> {
    if (batch.changes.length === 0) return true;
    for (;;) {
      try {
        const result = await this.opts.sink.apply(batch.changes);
        this.recordOutcomes(batch, result.errors);
        backoff.reset();
        this.failing = false;
        return true;
      } catch (err) {
        this.counts.sinkFailures++;
        this.failing = true;
        this.lastError = { message: err instanceof Error ? err.message : String(err), at: new Date() };
        this.opts.logger.warn({ err: this.lastError.message, changes: batch.changes.length }, 'applying API objects failed; retrying');
        if (!(await sleep(backoff.next(), signal))) return false;
      }
    }
  }

  private recordOutcomes(batch: Pending, errors: readonly { change: KubeChange; error: Error }[]): void {
    const byChange = new Map<KubeChange, string>();
    for (const e of errors) {
      byChange.set(e.change, e.error.message);
      this.opts.logger.warn({ object: describeRef(refOf(e.change.kind, e.change.object)), err: e.error.message }, 'API object rejected');
    }
    const fresh = new Map<string, { table: TableKey; key: string; revision: number; errors: string[] }>();
    batch.changes.forEach((change, i) => {
      const origin = batch.origins[i]!;
      const id = `${origin.table} ${origin.key}`;
      let o = fresh.get(id);
      if (o === undefined || o.revision < origin.revision) fresh.set(id, (o = { ...origin, errors: [] }));
      const message = byChange.get(change);
      if (message !== undefined && origin.revision === o.revision) o.errors.push(message);
    });
    for (const o of fresh.values()) this.outcomes[o.table].set(o.key, { revision: o.revision, errors: o.errors });
    this.counts.batchesApplied++;
    this.counts.changesApplied += batch.changes.length;
    this.counts.objectErrors += errors.length;
  }

  private markProcessed(revisions: Record<TableKey, number>): void {
    this.processed.services = Math.max(this.processed.services, revisions.services);
    this.processed.policies = Math.max(this.processed.policies, revisions.policies);
    const still: typeof this.waiters = [];
    for (const w of this.waiters) {
      if (this.processed[w.table] >= w.revision) w.resolve();
      else still.push(w);
    }
    this.waiters = still;
  }

  private async completeInitializer(backoff: Backoff, signal: AbortSignal): Promise<boolean> {
    for (;;) {
      try {
        await this.initializer.markDone();
        this.isSynced = true;
        this.resolveSynced(true);
        this.opts.logger.info({ services: this.appliedServices.size }, 'API objects restored');
        return true;
      } catch (err) {
        this.counts.sinkFailures++;
        this.lastError = { message: err instanceof Error ? err.message : String(err), at: new Date() };
        if (!(await sleep(backoff.next(), signal))) return false;
      }
    }
  }
}

/** Keeps the last change per object (sinks take at most one per batch), in the order of those last changes. */
function coalesce(batch: Pending): Pending {
  const last = new Map<string, number>();
  batch.changes.forEach((c, i) => last.set(objectKey(refOf(c.kind, c.object)), i));
  if (last.size === batch.changes.length) return batch;
  const keep = [...last.values()].sort((a, b) => a - b);
  return { changes: keep.map((i) => batch.changes[i]!), origins: keep.map((i) => batch.origins[i]!) };
}

function sliceName(s: V1EndpointSlice): string {
  return `${s.metadata?.namespace ?? ''}/${s.metadata?.name ?? ''}`;
}

/** Waits ms; false when the signal aborted first. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (signal.aborted) return Promise.resolve(false);
  return new Promise((resolve) => {
    const done = (v: boolean) => {
      clearTimeout(timer);
      signal.removeEventListener('abort', onAbort);
      resolve(v);
    };
    const onAbort = () => done(false);
    const timer = setTimeout(() => done(true), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
