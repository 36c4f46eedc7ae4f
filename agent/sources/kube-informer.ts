// One kind's informer: the client's ListWatch, kept running. The informer
// relists by itself after a 410 (synthesising deletes for objects that
// vanished meanwhile) but stops for good after any other error; here it is
// restarted with exponential backoff and jitter, and resumes from its last
// resourceVersion (or relists if it has none). Two quirks of the client are
// guarded: stop() does not cancel a reconnect sleeping in its backoff, and a
// watch that is still connecting cannot be aborted, so the injected delay
// ends early on stop and the Watch refuses to start (or aborts) once stopping.
import { ListWatch, Watch, type KubeConfig } from '@kubernetes/client-node';
import { Backoff, type BackoffOptions } from './backoff.js';
import { sleep } from './delay.js';
import { KIND_INFO, type KubeKind, type KubeObject } from './kinds.js';
import { listObjects } from './kube-list.js';
import type { ChangeType } from './sink.js';

export type InformerState = 'idle' | 'listing' | 'watching' | 'backoff' | 'stopped';

export interface InformerHooks {
  onChange(kind: KubeKind, type: ChangeType, object: KubeObject): void;
  /** A full list has been delivered through onChange (`initial`: the first one). */
  onListed(kind: KubeKind, initial: boolean): void;
  /** The informer failed and will restart after `retryInMs`. */
  onError(kind: KubeKind, err: unknown, retryInMs: number): void;
  /** Events flow again after an error. */
  onRecovered(kind: KubeKind): void;
}

export interface KindInformerOptions {
  readonly fieldSelector?: string;
  readonly backoff?: BackoffOptions;
  /** Inactivity timeout of a watch request before it reconnects (client default 30 s). */
  readonly watchTimeoutMs?: number;
  /** Objects per list page (0: unpaged). Default DEFAULT_LIST_PAGE_SIZE. */
  readonly listPageSize?: number;
}

/** The client's Watch, refusing to open once the informer is stopping. */
class GuardedWatch extends Watch {
  constructor(
    config: KubeConfig,
    private readonly stopping: AbortSignal,
    private readonly beforeWatch: () => void,
    private readonly connected: () => void,
  ) {
    super(config);
  }

  override async watch(
    path: string,
    params: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    const refused = new AbortController();
    refused.abort();
    if (this.stopping.aborted) return refused;
    this.beforeWatch();
    let ended = false;
    const endOnce = (err: unknown): void => {
      ended = true;
      done(err);
    };
    try {
      const controller = await super.watch(path, params, callback, endOnce);
      if (this.stopping.aborted) controller.abort();
      // super.watch returns once the response headers are in: without an
      // error by then, the watch is established.
      else if (!ended) this.connected();
      return controller;
    } catch (err) {
      // Thrown before the request (auth, no cluster): the informer calls
      // watch from an un-awaited callback, so a rejection here would be an
      // unhandled one. Report it as the end of this watch instead.
      endOnce(err);
      return refused;
    }
  }
}

export class KindInformer {
  state: InformerState = 'idle';
  lastError: { message: string; at: Date } | undefined;
  listsDone = 0;
  restarts = 0;
  errors = 0;
  lastListedAt: Date | undefined;
  private readonly informer: ListWatch<KubeObject>;
  private readonly backoff: Backoff;
  private readonly stopping = new AbortController();
  private listedSinceWatch = false;
  private failed = false;

  constructor(
    readonly kind: KubeKind,
    config: KubeConfig,
    private readonly hooks: InformerHooks,
    opts: KindInformerOptions = {},
  ) {
    this.backoff = new Backoff(opts.backoff);
    const watch = new GuardedWatch(
      config,
      this.stopping.signal,
      () => this.beforeWatch(),
      () => this.succeeded(),
    );
    if (opts.watchTimeoutMs !== undefined) {
      // The client keeps the timeout private; it is a plain field at runtime.
      (watch as unknown as { requestTimeoutMs: number }).requestTimeoutMs = opts.watchTimeoutMs;
    }
    const list = async () => {
      this.state = 'listing';
      const result = await listObjects(config, kind, { fieldSelector: opts.fieldSelector, signal: this.stopping.signal, pageSize: opts.listPageSize });
      this.listedSinceWatch = true;
      return result;
    };
    this.informer = new ListWatch<KubeObject>(
      KIND_INFO[kind].path,
      watch,
      list,
      false,
      undefined,
      opts.fieldSelector,
      { delayFn: async (ms) => void (await sleep(ms, this.stopping.signal)) },
    );
    this.informer.on('add', (obj) => this.event('upsert', obj));
    this.informer.on('update', (obj) => this.event('upsert', obj));
    this.informer.on('delete', (obj) => this.event('delete', obj));
    this.informer.on('error', (err) => this.error(err));
  }

  /** Starts listing and watching. Idempotent. */
  start(): void {
    if (this.state !== 'idle') return;
    this.launch();
  }

  /** Stops the informer and any pending restart. Idempotent. */
  async stop(): Promise<void> {
    if (this.state === 'stopped') return;
    this.state = 'stopped';
    this.stopping.abort();
    await this.informer.stop();
  }

  private launch(): void {
    this.state = 'listing';
    this.informer.start().catch((err: unknown) => this.error(err));
  }

  private event(type: ChangeType, object: KubeObject): void {
    if (this.stopping.signal.aborted) return;
    this.succeeded();
    this.hooks.onChange(this.kind, type, object);
  }

  /** Called by the Watch just before it connects: a list before it has been fully delivered. */
  private beforeWatch(): void {
    this.state = 'watching';
    if (!this.listedSinceWatch) return;
    this.listedSinceWatch = false;
    this.listsDone++;
    this.lastListedAt = new Date();
    this.succeeded();
    this.hooks.onListed(this.kind, this.listsDone === 1);
  }

  private succeeded(): void {
    this.backoff.reset();
    if (!this.failed) return;
    this.failed = false;
    this.hooks.onRecovered(this.kind);
  }

  private error(err: unknown): void {
    if (this.stopping.signal.aborted) return;
    this.errors++;
    // One failure can be reported twice (a rejected start() and the error
    // callback); a restart is already scheduled.
    if (this.state === 'backoff') return;
    this.failed = true;
    this.listedSinceWatch = false;
    this.lastError = { message: err instanceof Error ? err.message : String(err), at: new Date() };
    const delay = this.backoff.next();
    this.state = 'backoff';
    this.hooks.onError(this.kind, err, delay);
    void sleep(delay, this.stopping.signal).then((elapsed) => {
      if (!elapsed || this.stopping.signal.aborted) return;
      this.restarts++;
      this.launch();
    });
  }
}
