// A progress bar on stderr for long work (the initial sync: objects read
// and reconciled into the maps). Only on a terminal: when stderr is a file
// or a pipe nothing is drawn, so logs stay clean.
import cliProgress from 'cli-progress';

/** One reading of the work: how much is done out of how much, and a short note. */
export interface ProgressReading {
  readonly value: number;
  readonly total: number;
  /** Shown after the numbers, e.g. "sources 2/3". */
  readonly note: string;
  /** True ends the bar. */
  readonly finished: boolean;
}

export interface ProgressBarHandle {
  /** Stops polling and removes the bar (idempotent). */
  stop(): void;
}

export interface ProgressOptions {
  readonly title: string;
  /** Read every `intervalMs` (default 200). A throw is shown as a note and reading goes on. */
  read(): ProgressReading;
  readonly intervalMs?: number;
  /** Default process.stderr. */
  readonly stream?: NodeJS.WriteStream;
}

/** Starts a polled bar, or does nothing (returns a no-op handle) when the stream is not a TTY. */
export function startProgress(opts: ProgressOptions): ProgressBarHandle {
  const stream = opts.stream ?? process.stderr;
  if (stream.isTTY !== true) return { stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: `${opts.title} [{bar}] {value}/{total} {note}`,
      hideCursor: true,
      clearOnComplete: true,
      barsize: 30,
      noTTYOutput: false,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(1, 0, { note: '' });
  let stopped = false;
  const tick = () => {
    let r: ProgressReading;
    try {
      r = opts.read();
    } catch (err) {
      r = { value: 0, total: 1, note: `(${err instanceof Error ? err.message : String(err)})`, finished: false };
    }
    bar.setTotal(Math.max(1, r.total));
    bar.update(r.value, { note: r.note });
    if (r.finished) stop();
  };
  const timer = setInterval(tick, opts.intervalMs ?? 200);
  timer.unref();
  const stop = () => {
    if (stopped) return;
    stopped = true;
    clearInterval(timer);
    bar.stop();
  };
  return { stop };
}
