// The Kubernetes source: one informer per kind (all namespaces), their
// events batched into the sink. The initial sync is the first complete list
// of every kind; only once it has been applied is the sink's initializer
// marked done, so no table is pruned against a partial view.
import type { KubeConfig } from '@kubernetes/client-node';
import type { BackoffOptions } from './backoff.js';
import { BatchWriter } from './batch-writer.js';
import { KUBE_KINDS, type KubeKind, type KubeObject } from './kinds.js';
import { KindInformer } from './kube-informer.js';
import { defaultLogger, errorMessage, type Logger } from './logger.js';
import type { InitializerHandle, KubeChange, ObjectSink } from './sink.js';
import {
  SourceConfigError,
  SourceStoppedError,
  type Source,
  type SourceCounters,
  type SourceHealth,
  type SourceStatus,
} from './source.js';

export interface KubernetesSourceOptions {
  readonly sink: ObjectSink;
  /** The cluster to read (see loadKubeConfig). */
  readonly config: KubeConfig;
  /** Source and initializer name. Default `kubernetes`. */
  readonly name?: string;
  /** Kinds to watch. Default: all of KUBE_KINDS. */
  readonly kinds?: readonly KubeKind[];
  /**
   * Read only the Pods scheduled on this node (`spec.nodeName=<node>`).
   * Default: all Pods, since remote pods matter for policy.
   */
  readonly podsOnNode?: string;
  /** Batch window in ms (default 50) and size (default 5000). */
  readonly batchWindowMs?: number;
  readonly batchMaxEvents?: number;
  /** Restart backoff of failed informers. Default 500 ms doubling to 30 s, ±20 % jitter. */
  readonly restartBackoff?: BackoffOptions;
  /** Retry backoff of a throwing sink. Default as restartBackoff. */
  readonly sinkBackoff?: BackoffOptions;
  /** Inactivity timeout of a watch before it reconnects. Client default 30 s. */
  readonly watchTimeoutMs?: number;
  /** Objects per page of a list (0: one response). Default 500, as client-go. */
  readonly listPageSize?: number;
  readonly logger?: Logger;
}

type MutableCounts = Record<KubeKind, number>;

function zeroCounts(): MutableCounts {
  return { Service: 0, EndpointSlice: 0, NetworkPolicy: 0, Pod: 0, Namespace: 0, Node: 0 };
}

export class KubernetesSource implements Source {
  readonly name: string;
  readonly kinds: readonly KubeKind[];
  readonly synced: Promise<boolean>;
  isSynced = false;
  private resolveSynced!: (synced: boolean) => void;
  private readonly informers: KindInformer[];
  private readonly writer: BatchWriter;
  private readonly initializer: InitializerHandle;
  private readonly logger: Logger;
  private readonly eventsByKind = zeroCounts();
  private readonly awaitingList: Set<KubeKind>;
  private lastError: { message: string; at: Date } | undefined;
  private started = false;
  private stopped: Promise<void> | undefined;

  /** Registers the initializer with the sink at once (see ObjectSink.registerInitializer). */
  constructor(opts: KubernetesSourceOptions) {
    this.name = opts.name ?? 'kubernetes';
    this.kinds = [...new Set(opts.kinds ?? KUBE_KINDS)];
    if (this.kinds.length === 0) throw new SourceConfigError(`source "${this.name}": no kinds to watch`);
    for (const kind of this.kinds) {
      if (!(KUBE_KINDS as readonly string[]).includes(kind)) {
        throw new SourceConfigError(`source "${this.name}": unknown kind "${kind}" (known: ${KUBE_KINDS.join(', ')})`);
      }
    }
    const pageSize = opts.listPageSize;
    if (pageSize !== undefined && !(Number.isInteger(pageSize) && pageSize >= 0)) {
      throw new SourceConfigError(`source "${this.name}": listPageSize must be an integer >= 0 (0: unpaged), got ${pageSize}`);
    }
    if (opts.config.getCurrentCluster() === null) {
      throw new SourceConfigError(`source "${this.name}": the kubeconfig has no current cluster`);
    }
    this.logger = (opts.logger ?? defaultLogger()).child({ source: this.name });
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
    this.awaitingList = new Set(this.kinds);
    this.writer = new BatchWriter({
      sink: opts.sink,
      windowMs: opts.batchWindowMs ?? 50,
      maxEvents: opts.batchMaxEvents ?? 5000,
      backoff: opts.sinkBackoff ?? opts.restartBackoff,
      logger: this.logger,
    });
    const hooks = {
      onChange: (kind: KubeKind, type: 'upsert' | 'delete', object: KubeObject) => this.onChange(kind, type, object),
      onListed: (kind: KubeKind, initial: boolean) => this.onListed(kind, initial),
      onError: (kind: KubeKind, err: unknown, retryInMs: number) => this.onError(kind, err, retryInMs),
      onRecovered: (kind: KubeKind) => this.logger.info({ kind }, `${kind} informer recovered`),
    };
    this.informers = this.kinds.map(
      (kind) =>
        new KindInformer(kind, opts.config, hooks, {
          fieldSelector: kind === 'Pod' && opts.podsOnNode !== undefined ? `spec.nodeName=${opts.podsOnNode}` : undefined,
          backoff: opts.restartBackoff,
          watchTimeoutMs: opts.watchTimeoutMs,
          listPageSize: opts.listPageSize,
        }),
    );
    this.initializer = opts.sink.registerInitializer(this.name, this.kinds);
  }

  /** Starts every informer. Idempotent; throws SourceStoppedError after stop(). */
  start(): Promise<void> {
    if (this.stopped !== undefined) return Promise.reject(new SourceStoppedError(this.name));
    if (this.started) return Promise.resolve();
    this.started = true;
    this.logger.info({ kinds: this.kinds }, 'starting informers');
    for (const informer of this.informers) informer.start();
    return Promise.resolve();
  }

  /** Stops informers and restarts, applies what is buffered (one attempt), and waits for it. Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      await Promise.all(this.informers.map((i) => i.stop()));
      await this.writer.close();
      this.resolveSynced(this.isSynced);
      this.logger.info('stopped');
    })();
    return this.stopped;
  }

  health(): SourceHealth {
    const problems: string[] = [];
    for (const i of this.informers) {
      if (i.state === 'backoff') problems.push(`${i.kind} informer restarting after: ${i.lastError?.message ?? 'error'}`);
    }
    if (this.writer.failing) problems.push(this.writer.lastError?.message ?? 'sink failing');
    let status: SourceStatus;
    if (this.stopped !== undefined) status = 'stopped';
    else if (problems.length > 0) status = 'degraded';
    else status = this.isSynced ? 'ok' : 'starting';
    const lastError = latest(this.lastError, this.writer.lastError);
    return { status, synced: this.isSynced, problems, ...(lastError === undefined ? {} : { lastError }) };
  }

  counters(): SourceCounters {
    let lastResyncAt: Date | null = null;
    for (const i of this.informers) {
      if (i.lastListedAt !== undefined && (lastResyncAt === null || i.lastListedAt > lastResyncAt)) {
        lastResyncAt = i.lastListedAt;
      }
    }
    return {
      eventsByKind: { ...this.eventsByKind },
      batchesApplied: this.writer.batchesApplied,
      changesApplied: this.writer.changesApplied,
      objectErrors: this.writer.objectErrors,
      sinkFailures: this.writer.sinkFailures,
      errors: this.informers.reduce((n, i) => n + i.errors, 0),
      restarts: this.informers.reduce((n, i) => n + i.restarts, 0),
      resyncs: this.informers.reduce((n, i) => n + Math.max(0, i.listsDone - 1), 0),
      lastResyncAt,
    };
  }

  /** Changes buffered and not yet applied (for tests and the progress display). */
  get bufferedChanges(): number {
    return this.writer.size;
  }

  private onChange(kind: KubeKind, type: 'upsert' | 'delete', object: KubeObject): void {
    this.eventsByKind[kind]++;
    if (object?.metadata?.name === undefined) {
      this.logger.warn({ kind }, `${kind} event without metadata.name ignored`);
      return;
    }
    this.writer.add({ type, kind, object } as KubeChange);
  }

  private onListed(kind: KubeKind, initial: boolean): void {
    this.logger.debug({ kind, initial }, `${kind} list delivered`);
    if (!initial || !this.awaitingList.delete(kind) || this.awaitingList.size > 0) return;
    this.logger.info('initial list of every kind received; applying');
    void this.writer.completeInitializer(this.initializer).then((done) => {
      if (!done) return;
      this.isSynced = true;
      this.logger.info('initial sync applied; initializer done');
      this.resolveSynced(true);
    });
  }

  private onError(kind: KubeKind, err: unknown, retryInMs: number): void {
    const message = `${kind} informer: ${errorMessage(err)}`;
    this.lastError = { message, at: new Date() };
    this.logger.warn({ kind, err: errorMessage(err), retryInMs }, `${message}; restarting in ${retryInMs} ms`);
  }
}

function latest(
  a: { message: string; at: Date } | undefined,
  b: { message: string; at: Date } | undefined,
): { message: string; at: Date } | undefined {
  if (a === undefined) return b;
  if (b === undefined) return a;
  return a.at >= b.at ? a : b;
}
