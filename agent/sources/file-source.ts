// The file source, flagella's embedded default: a directory of Kubernetes
// YAML files (`*.yaml`, `*.yml`, not hidden, not recursive), kept in step
// with the sink. fs.watch triggers a debounced rescan; a periodic rescan is
// the safety net for filesystems where fs.watch misses events. A scan reads
// every file, skips those whose content hash is unchanged, and applies the
// difference to what was applied before as one batch, so an object moved
// from one file to another within a scan is updated, never deleted.
//
// Failures: a file that cannot be read or parsed (or holds an object without
// kind/apiVersion/name) is reported with its name and line and keeps the
// objects of its last good version until it parses again; the other files
// apply. Two files defining one object: the first in path order wins and the
// conflict is reported. A directory that disappears keeps every object (a
// remount is not a deletion) and makes the source degraded.
import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { BackoffOptions } from './backoff.js';
import { BatchWriter } from './batch-writer.js';
import { FileSet, type Conflict, type OwnedObject } from './file-set.js';
import { KUBE_KINDS, objectKey, refOf, type KubeKind } from './kinds.js';
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
import { formatProblem, parseObjectFile, type FileProblem } from './yaml-objects.js';

export interface FileSourceOptions {
  readonly sink: ObjectSink;
  readonly dir: string;
  /** Source and initializer name. Default `files`. */
  readonly name?: string;
  /** Kinds read from the files (others are skipped with a note). Default: all of KUBE_KINDS. */
  readonly kinds?: readonly KubeKind[];
  /** Quiet time after a change event before rescanning, in ms. Default 100. */
  readonly debounceMs?: number;
  /** Safety-net rescan period, in ms. Default 10 000. */
  readonly rescanIntervalMs?: number;
  readonly sinkBackoff?: BackoffOptions;
  readonly logger?: Logger;
}

export interface FileSourceCounters extends SourceCounters {
  /** Files currently read (broken ones included). */
  readonly files: number;
  /** Files currently failing to read or parse. */
  readonly brokenFiles: number;
  /** Objects currently defined by more than one file. */
  readonly conflicts: number;
  /** Scans done (each reads every file). */
  readonly scans: number;
}

const YAML_FILE = /\.ya?ml$/;

export class FileSource implements Source {
  readonly name: string;
  readonly dir: string;
  readonly kinds: readonly KubeKind[];
  readonly synced: Promise<boolean>;
  isSynced = false;
  private resolveSynced!: (synced: boolean) => void;
  private readonly logger: Logger;
  private readonly writer: BatchWriter;
  private readonly initializer: InitializerHandle;
  private readonly files = new FileSet();
  /** What the sink has been given, by object key. */
  private readonly applied = new Map<string, OwnedObject>();
  private current = new Map<string, OwnedObject>();
  private conflicts: Conflict[] = [];
  private dirProblem: FileProblem | undefined;
  private reported = new Set<string>();
  private readonly eventsByKind: Record<KubeKind, number> = {
    Service: 0, EndpointSlice: 0, NetworkPolicy: 0, Pod: 0, Namespace: 0, Node: 0,
  };
  private errors = 0;
  private scans = 0;
  private lastScanAt: Date | null = null;
  private lastError: { message: string; at: Date } | undefined;
  private watcher: FSWatcher | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private firstEventAt = 0;
  private interval: NodeJS.Timeout | undefined;
  private scanning: Promise<void> | undefined;
  private scanAgain = false;
  private scansStarted = 0;
  private scansFinished = 0;
  private syncing = false;
  private lastBlocker: string | undefined;
  /** Objects deleted by the latest scan, so a rejected delete can still name its file. */
  private removed = new Map<string, OwnedObject>();
  private started = false;
  private stopped: Promise<void> | undefined;
  private readonly debounceMs: number;
  private readonly rescanIntervalMs: number;

  /** Registers the initializer with the sink at once (see ObjectSink.registerInitializer). */
  constructor(opts: FileSourceOptions) {
    this.name = opts.name ?? 'files';
    this.dir = opts.dir;
    this.kinds = [...new Set(opts.kinds ?? KUBE_KINDS)];
    this.debounceMs = opts.debounceMs ?? 100;
    this.rescanIntervalMs = opts.rescanIntervalMs ?? 10_000;
    if (!(this.debounceMs >= 0) || !(this.rescanIntervalMs > 0)) {
      throw new SourceConfigError(`source "${this.name}": need debounceMs >= 0 and rescanIntervalMs > 0`);
    }
    this.logger = (opts.logger ?? defaultLogger()).child({ source: this.name });
    this.synced = new Promise((resolve) => (this.resolveSynced = resolve));
    this.writer = new BatchWriter({
      sink: opts.sink,
      windowMs: 0,
      maxEvents: Number.POSITIVE_INFINITY,
      backoff: opts.sinkBackoff,
      logger: this.logger,
      describe: (change) => this.place(change),
    });
    this.initializer = opts.sink.registerInitializer(this.name, this.kinds);
  }

  /**
   * Checks the directory, starts watching it and runs the first scan (in the
   * background: await `synced`). Rejects with SourceConfigError when `dir`
   * is not a readable directory. Idempotent; SourceStoppedError after stop().
   */
  async start(): Promise<void> {
    if (this.stopped !== undefined) throw new SourceStoppedError(this.name);
    if (this.started) return;
    this.started = true;
    try {
      if (!(await stat(this.dir)).isDirectory()) throw new Error('not a directory');
      await readdir(this.dir);
    } catch (err) {
      this.started = false;
      throw new SourceConfigError(`source "${this.name}": cannot read directory ${this.dir}: ${errorMessage(err)}`);
    }
    this.logger.info({ dir: this.dir }, 'watching directory');
    this.watchDir();
    this.interval = setInterval(() => {
      if (this.watcher === undefined) this.watchDir();
      this.requestScan();
    }, this.rescanIntervalMs);
    this.requestScan();
  }

  /** Stops watching and scanning, applies what is buffered (one attempt). Idempotent. */
  stop(): Promise<void> {
    this.stopped ??= (async () => {
      clearInterval(this.interval);
      clearTimeout(this.debounce);
      this.watcher?.close();
      this.watcher = undefined;
      await this.scanning;
      await this.writer.close();
      this.resolveSynced(this.isSynced);
      this.logger.info('stopped');
    })();
    return this.stopped;
  }

  /**
   * Scans now (after a scan in progress) and resolves once that scan's
   * changes are applied (false if the source stops first).
   */
  async rescan(): Promise<boolean> {
    if (this.stopped !== undefined || !this.started) return false;
    // A scan in progress may have read a file before it changed: wait for a
    // scan that starts after this call.
    const target = this.scansStarted + 1;
    this.requestScan();
    while (this.scansFinished < target && this.scanning !== undefined) await this.scanning;
    if (this.scansFinished < target) return false;
    return this.writer.applied();
  }

  /** Current read/parse problems and conflicts, in path order. */
  problems(): FileProblem[] {
    const out = this.dirProblem === undefined ? [] : [this.dirProblem];
    out.push(...this.files.problems());
    for (const c of this.conflicts) out.push(conflictProblem(c));
    return out;
  }

  health(): SourceHealth {
    const problems = this.problems().map(formatProblem);
    if (this.writer.failing) problems.push(this.writer.lastError?.message ?? 'sink failing');
    let status: SourceStatus;
    if (this.stopped !== undefined) status = 'stopped';
    else if (problems.length > 0) status = 'degraded';
    else status = this.isSynced ? 'ok' : 'starting';
    const lastError =
      this.writer.lastError !== undefined && (this.lastError === undefined || this.writer.lastError.at > this.lastError.at)
        ? this.writer.lastError
        : this.lastError;
    const waits = this.isSynced || this.scansFinished === 0 ? undefined : this.syncBlocker();
    return {
      status,
      synced: this.isSynced,
      problems,
      ...(lastError === undefined ? {} : { lastError }),
      ...(waits === undefined ? {} : { syncWaitsFor: waits }),
    };
  }

  counters(): FileSourceCounters {
    return {
      eventsByKind: { ...this.eventsByKind },
      batchesApplied: this.writer.batchesApplied,
      changesApplied: this.writer.changesApplied,
      objectErrors: this.writer.objectErrors,
      sinkFailures: this.writer.sinkFailures,
      errors: this.errors,
      restarts: 0,
      resyncs: Math.max(0, this.scans - 1),
      lastResyncAt: this.lastScanAt,
      files: this.files.size,
      brokenFiles: this.files.paths().filter((f) => this.files.isBroken(f)).length,
      conflicts: this.conflicts.length,
      scans: this.scans,
    };
  }

  /**
   * What keeps the initial sync from finishing: the directory unreadable, or
   * a file that never parsed. Its objects are unknown, and finishing would
   * let the tables prune what that file defined (on a restart: services the
   * datapath is serving), so the sync waits for it to parse or go away.
   */
  private syncBlocker(): string | undefined {
    if (this.dirProblem !== undefined) return `${this.dir} to be readable`;
    const files = this.files.neverParsed();
    return files.length === 0 ? undefined : `${files.join(', ')} to parse`;
  }

  /** After a scan: completes the initializer once nothing blocks it (once). */
  private finishSyncIfReady(): void {
    if (this.isSynced || this.syncing || this.stopped !== undefined) return;
    const blocker = this.syncBlocker();
    if (blocker !== undefined) {
      if (blocker !== this.lastBlocker) this.logger.warn({ waitingFor: blocker }, `initial sync waits for ${blocker}; nothing is pruned meanwhile`);
      this.lastBlocker = blocker;
      return;
    }
    this.syncing = true;
    void this.writer.completeInitializer(this.initializer).then((done) => {
      this.syncing = false;
      if (!done) return;
      this.isSynced = true;
      this.logger.info({ objects: this.applied.size }, 'initial scan applied; initializer done');
      this.resolveSynced(true);
    });
  }

  private watchDir(): void {
    try {
      this.watcher = watch(this.dir, { persistent: true }, () => this.changed());
      this.watcher.on('error', (err) => {
        this.logger.warn({ dir: this.dir, err: errorMessage(err) }, 'directory watch failed; relying on rescans');
        this.watcher?.close();
        this.watcher = undefined;
        this.requestScan();
      });
    } catch (err) {
      this.watcher = undefined;
      this.logger.warn({ dir: this.dir, err: errorMessage(err) }, 'cannot watch directory; relying on rescans');
    }
  }

  /** A change event: rescan after `debounceMs` of quiet, but at most 10 debounce periods after the first event. */
  private changed(): void {
    if (this.stopped !== undefined) return;
    const now = Date.now();
    if (this.debounce === undefined) this.firstEventAt = now;
    clearTimeout(this.debounce);
    const wait = Math.max(0, Math.min(this.debounceMs, this.firstEventAt + 10 * this.debounceMs - now));
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      this.requestScan();
    }, wait);
  }

  private requestScan(): void {
    if (this.stopped !== undefined) return;
    if (this.scanning !== undefined) {
      this.scanAgain = true;
      return;
    }
    this.scansStarted++;
    let completed = false;
    this.scanning = this.scan()
      .then(() => void (completed = true))
      .catch((err: unknown) => {
        this.errors++;
        this.lastError = { message: `scan failed: ${errorMessage(err)}`, at: new Date() };
        this.logger.error({ err: errorMessage(err) }, 'scan failed');
      })
      .finally(() => {
        this.scansFinished++;
        this.scanning = undefined;
        if (completed) this.finishSyncIfReady();
        if (this.scanAgain) {
          this.scanAgain = false;
          this.requestScan();
        }
      });
  }

  private async scan(): Promise<void> {
    let names: string[];
    try {
      names = (await readdir(this.dir)).filter((n) => YAML_FILE.test(n) && !n.startsWith('.'));
      this.dirProblem = undefined;
    } catch (err) {
      this.dirProblem = { kind: 'directory', file: this.dir, message: `cannot read directory: ${errorMessage(err)}` };
      this.report();
      return;
    }
    const seen = new Set<string>();
    for (const name of names) {
      if (this.stopped !== undefined) return;
      const file = join(this.dir, name);
      if (await this.readOne(file)) seen.add(file);
    }
    for (const file of this.files.paths()) if (!seen.has(file)) this.files.remove(file);
    this.scans++;
    this.lastScanAt = new Date();
    this.applyDifference();
    this.report();
  }

  /** Reads and records one file; false when it is not (or no longer) a regular file. */
  private async readOne(file: string): Promise<boolean> {
    let text: Buffer;
    try {
      if (!(await stat(file)).isFile()) return false;
      text = await readFile(file);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return false;
      this.files.failed(file, { kind: 'read', file, message: `cannot read: ${errorMessage(err)}` });
      return true;
    }
    const hash = createHash('sha256').update(text).digest('hex');
    if (hash === this.files.hashOf(file)) return true;
    const parsed = parseObjectFile(file, text.toString('utf8'));
    const wanted = { ...parsed, objects: parsed.objects.filter((o) => this.kinds.includes(o.kind)) };
    for (const o of parsed.objects) {
      if (!this.kinds.includes(o.kind)) {
        this.logger.info({ file, line: o.line, kind: o.kind }, `${file}:${o.line}: ${o.kind} is not read by this source; skipped`);
      }
    }
    for (const s of parsed.skipped) this.logger.info({ file, line: s.line }, formatProblem(s));
    this.files.update(file, hash, wanted);
    return true;
  }

  /** Queues the difference between what the files define and what was applied, as one batch. */
  private applyDifference(): void {
    const { objects, conflicts } = this.files.resolve();
    this.current = objects;
    this.conflicts = conflicts;
    this.removed = new Map();
    let changes = 0;
    for (const [key, obj] of objects) {
      const before = this.applied.get(key);
      if (before !== undefined && before.json === obj.json) {
        this.applied.set(key, obj); // may have moved to another file
        continue;
      }
      this.applied.set(key, obj);
      this.emit({ type: 'upsert', kind: obj.kind, object: obj.object } as KubeChange);
      changes++;
    }
    for (const [key, obj] of this.applied) {
      if (objects.has(key)) continue;
      this.applied.delete(key);
      this.removed.set(key, obj);
      this.emit({ type: 'delete', kind: obj.kind, object: obj.object } as KubeChange);
      changes++;
    }
    if (changes > 0) this.logger.debug({ changes }, 'applying file changes');
    this.writer.flush();
  }

  private emit(change: KubeChange): void {
    this.eventsByKind[change.kind]++;
    this.writer.add(change);
  }

  /** Logs problems that appeared since the last scan, once each, and recoveries. */
  private report(): void {
    const now = new Map(this.problems().map((p) => [formatProblem(p), p]));
    for (const [text, p] of now) {
      if (this.reported.has(text)) continue;
      this.errors++;
      this.lastError = { message: text, at: new Date() };
      this.logger.warn({ file: p.file, line: p.line, column: p.column, problem: p.kind }, text);
    }
    for (const text of this.reported) if (!now.has(text)) this.logger.info(`resolved: ${text}`);
    this.reported = new Set(now.keys());
  }

  /** Log fields naming where a change's object is defined. */
  private place(change: KubeChange): Record<string, unknown> {
    const key = objectKey(refOf(change.kind, change.object));
    const owned = change.type === 'delete' ? this.removed.get(key) : this.current.get(key);
    return owned === undefined ? {} : { file: owned.file, line: owned.line };
  }
}

function conflictProblem(c: Conflict): FileProblem {
  const [winner, ...others] = c.places;
  return {
    kind: 'conflict',
    file: others[0]?.file ?? '',
    line: others[0]?.line,
    message: `${c.ref} is also defined in ${winner?.file}:${winner?.line}, which wins; ${others
      .map((o) => `${o.file}:${o.line}`)
      .join(', ')} ignored`,
  };
}
