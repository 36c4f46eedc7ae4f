// The reconciler: keeps a target in step with one table. It follows the
// table's change stream in rounds (round.ts), retries failures with
// backoff, prunes the target against the full table once the table is
// initialized and then periodically, refreshes old rows (refresh.ts), and
// reports progress, health and metrics.
import type { Observable } from 'rxjs';
import { BehaviorSubject } from 'rxjs';
import type { ChangeIterator, ReadTxn, Watch } from '../statedb/index.js';
import { closedWatch } from '../statedb/index.js';
import type { ClockTimer } from './clock.js';
import type { ReconcilerConfig, ResolvedConfig } from './config.js';
import { resolveConfig } from './config.js';
import { joinTable } from './derivation.js';
import { ReconcilerError, ReconcilerStoppedError } from './errors.js';
import type { Health } from './health.js';
import { makeHealth, MAX_REPORTED_ERRORS, sameHealth, stoppedHealth } from './health.js';
import type { ReconcilerMetrics } from './metrics.js';
import { noopReconcilerMetrics, promMetrics } from './metrics.js';
import { callOperation } from './operations.js';
import type { Progress } from './progress.js';
import { ProgressTracker } from './progress.js';
import { TokenBucket } from './rate-limiter.js';
import { Refresher } from './refresh.js';
import { RetryQueue } from './retry-queue.js';
import type { WorkItem } from './round.js';
import { Round } from './round.js';
import { errorMessage } from './status.js';

type State = 'new' | 'running' | 'stopping' | 'stopped';

interface Sleeper {
  timer: ClockTimer | undefined;
  resolve: () => void;
}

function* objectsOf<T>(entries: Iterable<{ readonly object: T }>): Generator<T> {
  for (const e of entries) yield e.object;
}

export class Reconciler<T> {
  readonly name: string;
  /** Health as it changes (distinct values only); completes on stop. */
  readonly health$: Observable<Health>;

  private readonly cfg: ResolvedConfig<T>;
  private readonly retries = new RetryQueue<T>();
  private readonly tracker = new ProgressTracker();
  private readonly metrics: ReconcilerMetrics;
  private readonly round: Round<T>;
  private readonly roundLimiter: TokenBucket;
  private readonly healthSubject: BehaviorSubject<Health>;
  private readonly sleepers = new Set<Sleeper>();
  private readonly subscribed = new WeakSet<Watch>();
  private state: State = 'new';
  private iterator: ChangeIterator<T> | undefined;
  private changeWatch: Watch = closedWatch;
  private initWatch: Watch | undefined;
  private everInitialized = false;
  private pruneRequested = false;
  private nextPruneAt: number | undefined;
  private pruneError: string | undefined;
  private roundError: string | undefined;
  private roundFailures = 0;
  private inFlight = 0;
  /** Changes taken while skipping own write-backs that still need work (see skipOwnWrites). */
  private carried: WorkItem<T>[] = [];
  private wakeUp: (() => void) | undefined;
  private running: Promise<void>[] = [];
  private stopped: Promise<void> | undefined;
  private leaveTable: (() => void) | undefined;

  /**
   * Validates the configuration (throws ReconcilerConfigError naming the
   * bad setting) and registers the metrics (throws when the name is taken
   * in the registry). Nothing runs until start().
   */
  constructor(config: ReconcilerConfig<T>) {
    this.cfg = resolveConfig(config);
    this.name = this.cfg.name;
    this.metrics = this.cfg.registry === undefined ? noopReconcilerMetrics : promMetrics(this.cfg.registry, this.name);
    this.roundLimiter = new TokenBucket(this.cfg.clock, this.cfg.roundRate);
    this.round = new Round<T>({
      cfg: this.cfg,
      retries: this.retries,
      metrics: this.metrics,
      sleep: (ms, keepAlive) => this.sleep(ms, keepAlive),
      isRunning: () => this.state === 'running',
      warn: (fields, message) => this.warn(fields, message),
    });
    this.healthSubject = new BehaviorSubject<Health>(makeHealth(0, [], 0, this.cfg.clock.now()));
    this.health$ = this.healthSubject.asObservable();
  }

  /**
   * Starts following the table: registers a change iterator (every row
   * present now is seen as a change; rows not pending are skipped) and the
   * refresh job. Throws ReconcilerError when already started or stopped.
   */
  start(): void {
    if (this.state !== 'new') throw new ReconcilerError(`reconciler "${this.name}": start() after ${this.state === 'running' ? 'start' : 'stop'}`);
    this.state = 'running';
    this.iterator = this.cfg.table.changes();
    this.leaveTable = joinTable(this.cfg.table);
    this.running.push(this.loop());
    if (this.cfg.refreshIntervalMs > 0) {
      const refresher = new Refresher<T>(this.cfg, {
        sleep: (ms) => this.sleep(ms),
        isRunning: () => this.state === 'running',
        warn: (fields, message) => this.warn(fields, message),
      });
      this.running.push(refresher.run());
    }
  }

  /**
   * Stops: waits for the round in flight (its operations and status
   * write-back) to finish, cancels every timer, closes the change iterator
   * and fails pending waitUntilReconciled calls with ReconcilerStoppedError.
   * Idempotent; after it resolves nothing of the reconciler keeps the
   * process alive. Queued retries are dropped (their rows keep error status).
   */
  stop(): Promise<void> {
    if (this.stopped !== undefined) return this.stopped;
    const wasRunning = this.state === 'running';
    this.state = 'stopping';
    this.wake();
    for (const s of this.sleepers) {
      s.timer?.cancel();
      s.resolve();
    }
    this.sleepers.clear();
    this.stopped = (async () => {
      if (wasRunning) await Promise.all(this.running);
      this.iterator?.close();
      this.leaveTable?.();
      this.metrics.release();
      this.tracker.stop(new ReconcilerStoppedError(`reconciler "${this.name}" stopped`));
      this.state = 'stopped';
      this.healthSubject.next(stoppedHealth(this.healthSubject.value.objects, this.cfg.clock.now()));
      this.healthSubject.complete();
    })();
    return this.stopped;
  }

  /**
   * Requests a full reconciliation (prune). Requests coalesce; the prune
   * runs in the next round once the table is initialized, never before,
   * also when pruning is disabled (pruneIntervalMs 0).
   */
  triggerPrune(): void {
    this.pruneRequested = true;
    this.wake();
  }

  /**
   * Resolves once every change up to `revision` has been attempted, with the
   * progress: `retryLowWatermark` is the smallest original revision still
   * failing (0 when none). For success up to `revision` wait until
   * retryLowWatermark is 0 or above it. Rejects with ReconcilerStoppedError
   * when the reconciler stops first, or WaitAbortedError on `signal`.
   * While a wait is pending it keeps the process alive (the engine's own
   * timers never do).
   */
  waitUntilReconciled(revision: number, opts: { signal?: AbortSignal } = {}): Promise<Progress> {
    return this.tracker.waitFor(revision, opts.signal);
  }

  /** The latest progress (see waitUntilReconciled). */
  get progress(): Progress {
    return this.tracker.value;
  }

  /** The latest health. */
  get health(): Health {
    return this.healthSubject.value;
  }

  /** Calls fn with the current health and on every change; returns a function that unsubscribes. */
  onHealth(fn: (health: Health) => void): () => void {
    const sub = this.healthSubject.subscribe(fn);
    return () => sub.unsubscribe();
  }

  // ---- the loop ------------------------------------------------------------

  private async loop(): Promise<void> {
    while (this.state === 'running') {
      await this.waitForWork();
      // Changes are waiting: this short wait holds the process open.
      for (let wait = this.roundLimiter.take(); wait > 0 && this.state === 'running'; wait = this.roundLimiter.take()) {
        await this.sleep(wait, true);
      }
      if (this.state !== 'running') break;
      try {
        this.roundError = undefined;
        await this.runRound();
        this.roundFailures = 0;
      } catch (e) {
        // An unexpected failure (a bug, a status accessor that threw). Keep
        // going after a backoff rather than die: health shows it meanwhile.
        this.roundError = errorMessage(e);
        this.roundFailures++;
        this.warn({ reconciler: this.name, err: this.roundError }, 'reconciler: round failed');
        this.publishHealth(this.cfg.db.readTxn());
        await this.sleep(Math.min(this.cfg.retry.maxMs, this.cfg.retry.minMs * 2 ** this.roundFailures));
      }
    }
  }

  private async runRound(): Promise<void> {
    const { db, table, clock } = this.cfg;
    const txn = db.readTxn();
    this.metrics.round();
    const { changes, watch } = this.iterator!.next(txn);
    const collected = this.round.collect(changes);
    const { lastRevision, complete } = collected;
    // Drained: ask again for the watch of the next change (a batch that
    // returned changes comes with a closed watch).
    this.changeWatch = complete ? this.iterator!.next(txn).watch : watch;
    const items = this.carried.length === 0 ? collected.items : [...this.carried, ...collected.items];
    this.carried = [];
    this.setInFlight(items.length);
    this.round.lastCommit = undefined;
    let p = this.round.operate(txn, items, true);
    if (p !== undefined) await p;
    p = this.round.writeBack(items);
    if (p !== undefined) await p;
    let consumed = complete ? table.revision(txn) : -1;
    consumed = this.skipOwnWrites(consumed);

    const retries = this.retries.size > 0 ? this.round.dueRetries(clock.now(), items.length) : [];
    if (retries.length > 0) {
      this.setInFlight(retries.length);
      const retryTxn = db.readTxn();
      p = this.round.operate(retryTxn, retries, false);
      if (p !== undefined) await p;
      this.round.lastCommit = undefined;
      p = this.round.writeBack(retries);
      if (p !== undefined) await p;
      consumed = this.skipOwnWrites(consumed);
    }
    this.inFlight = 0; // the gauge follows in publishHealth
    this.tracker.update(consumed >= 0 ? consumed : lastRevision, this.retries.lowWatermark());

    const now = db.readTxn();
    if (this.pruneDue(now)) {
      p = this.prune(now);
      if (p !== undefined) await p;
    }
    this.publishHealth(now);
  }

  /**
   * When the change stream was drained up to `consumed` and the status
   * commit that followed was the only commit since, the new changes are
   * only the engine's own write-backs: take them now instead of spending a
   * round (and a rate-limit token) on skipping them, so the next real change
   * finds the engine idle. Returns the revision consumed up to (-1: unknown).
   */
  private skipOwnWrites(consumed: number): number {
    const last = this.round.lastCommit;
    if (consumed < 0 || last === undefined || last.base !== consumed) return consumed;
    const txn = this.cfg.db.readTxn();
    if (this.cfg.table.revision(txn) !== last.committed) return consumed;
    const { items, complete } = this.round.collect(this.iterator!.next(txn).changes);
    // Never expected (write-backs are not pending), but nothing is dropped.
    if (items.length > 0) this.carried.push(...items);
    if (!complete || items.length > 0) return consumed;
    this.changeWatch = this.iterator!.next(txn).watch;
    return last.committed;
  }

  /** Resolves when there is something to do: changes, a due retry, a due prune, or stop. */
  private async waitForWork(): Promise<void> {
    while (this.state === 'running' && !this.hasWork()) {
      const woken = new Promise<void>((resolve) => (this.wakeUp = resolve));
      this.subscribe(this.changeWatch);
      if (this.initWatch !== undefined) this.subscribe(this.initWatch);
      const deadline = this.nextDeadline();
      const timer =
        deadline === undefined ? undefined : this.cfg.clock.setTimer(deadline - this.cfg.clock.now(), () => this.wake());
      await woken;
      timer?.cancel();
    }
  }

  private hasWork(): boolean {
    if (this.changeWatch.closed) return true;
    const due = this.retries.nextDue();
    if (due !== undefined && due <= this.cfg.clock.now()) return true;
    return this.pruneDue(this.cfg.db.readTxn());
  }

  private nextDeadline(): number | undefined {
    const due = this.retries.nextDue();
    const prune = this.everInitialized ? this.nextPruneAt : undefined;
    if (due === undefined) return prune;
    return prune === undefined ? due : Math.min(due, prune);
  }

  private subscribe(w: Watch): void {
    if (w.closed) {
      this.wake();
      return;
    }
    if (this.subscribed.has(w)) return;
    this.subscribed.add(w);
    void w.promise.then(() => this.wake());
  }

  private wake(): void {
    const resolve = this.wakeUp;
    this.wakeUp = undefined;
    resolve?.();
  }

  /** Resolves after ms (at once when stopping). Only `keepAlive` sleeps hold the process open. */
  private sleep(ms: number, keepAlive = false): Promise<void> {
    if (this.state !== 'running') return Promise.resolve();
    return new Promise<void>((resolve) => {
      const s: Sleeper = { timer: undefined, resolve };
      s.timer = this.cfg.clock.setTimer(
        ms,
        () => {
          this.sleepers.delete(s);
          resolve();
        },
        { keepAlive },
      );
      this.sleepers.add(s);
    });
  }

  // ---- pruning -------------------------------------------------------------

  /**
   * Whether a prune should run now. The table must be initialized in `txn`:
   * the first time it is, a prune is requested (unless pruning is disabled).
   * Before that, requests wait and the init watch wakes the loop.
   */
  private pruneDue(txn: ReadTxn): boolean {
    const init = this.cfg.table.initialized(txn);
    if (!init.initialized) {
      this.initWatch = init.watch;
      return false;
    }
    this.initWatch = undefined;
    if (!this.everInitialized) {
      this.everInitialized = true;
      if (this.cfg.pruneIntervalMs > 0) this.pruneRequested = true;
    }
    if (this.nextPruneAt !== undefined && this.cfg.clock.now() >= this.nextPruneAt) this.pruneRequested = true;
    return this.pruneRequested;
  }

  /** Runs prune with the full table; a failure degrades health until the next successful prune. */
  private prune(txn: ReadTxn): Promise<void> | undefined {
    const { table, operations, clock, pruneIntervalMs } = this.cfg;
    this.pruneRequested = false;
    this.nextPruneAt = pruneIntervalMs > 0 ? clock.now() + pruneIntervalMs : undefined;
    const t0 = performance.now();
    const finish = (error: unknown, failed: boolean) => {
      this.metrics.prune((performance.now() - t0) / 1000, failed);
      this.pruneError = failed ? errorMessage(error) : undefined;
      if (failed) this.warn({ reconciler: this.name, err: this.pruneError }, 'reconciler: prune failed');
    };
    return callOperation(() => operations.prune(txn, objectsOf(table.all(txn))), finish);
  }

  // ---- health --------------------------------------------------------------

  private publishHealth(txn: ReadTxn): void {
    const errors: string[] = [];
    let count = this.retries.size;
    if (this.roundError !== undefined) {
      errors.push(`round: ${this.roundError}`);
      count++;
    }
    if (this.pruneError !== undefined) {
      errors.push(`prune: ${this.pruneError}`);
      count++;
    }
    for (const e of this.retries.values()) {
      if (errors.length >= MAX_REPORTED_ERRORS) break;
      errors.push(`${e.deleted ? 'delete' : 'update'} ${this.keyText(e.key)}: ${errorMessage(e.error)}`);
    }
    this.metrics.gauges(this.retries.size, this.inFlight, count);
    const health = makeHealth(this.cfg.table.numObjects(txn), errors, count, this.cfg.clock.now());
    if (!sameHealth(health, this.healthSubject.value)) this.healthSubject.next(health);
  }

  private setInFlight(n: number): void {
    this.inFlight = n;
    if (this.metrics.timed && n > 0) this.metrics.gauges(this.retries.size, n, this.currentErrorCount());
  }

  private currentErrorCount(): number {
    return this.retries.size + (this.roundError === undefined ? 0 : 1) + (this.pruneError === undefined ? 0 : 1);
  }

  private keyText(key: string): string {
    const { keyType } = this.cfg.table.primary;
    try {
      return JSON.stringify(keyType.format(keyType.decode(key)));
    } catch {
      return JSON.stringify(key);
    }
  }

  private warn(fields: object, message: string): void {
    this.cfg.logger?.warn(fields, message);
  }
}
