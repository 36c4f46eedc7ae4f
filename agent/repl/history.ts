// Persistent REPL history: one line per entry in a file that only its
// owner can read (commands may name keys worth keeping private), appended
// as lines are entered, trimmed at start-up. Failures to read or write it
// are reported once and never stop the REPL.
import { appendFileSync, chmodSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';

export const HISTORY_SIZE = 1000;

/**
 * Where history lives: `explicit` (--history-file) if given, else
 * $FLAGELLA_HISTORY_FILE, else $XDG_STATE_HOME/flagella/history when
 * XDG_STATE_HOME is set, else ~/.flagella_history.
 */
export function historyPath(env: NodeJS.ProcessEnv = process.env, explicit?: string, home = homedir()): string {
  if (explicit !== undefined && explicit !== '') return explicit;
  if (env.FLAGELLA_HISTORY_FILE) return env.FLAGELLA_HISTORY_FILE;
  if (env.XDG_STATE_HOME) return join(env.XDG_STATE_HOME, 'flagella', 'history');
  return join(home, '.flagella_history');
}

export class History {
  private warned = false;
  private last: string | undefined;

  constructor(
    readonly path: string,
    private readonly warn: (line: string) => void,
    private readonly size = HISTORY_SIZE,
  ) {}

  /** The saved lines, newest first (readline's order); [] when there is no file yet. Trims the file when it grew past twice the size. */
  load(): string[] {
    let lines: string[];
    try {
      lines = readFileSync(this.path, 'utf8').split('\n').filter((l) => l.trim() !== '');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'ENOENT') this.report('read', e);
      return [];
    }
    const kept = lines.slice(-this.size);
    if (lines.length > 2 * this.size) {
      try {
        writeFileSync(this.path, `${kept.join('\n')}\n`, { mode: 0o600 });
      } catch (e) {
        this.report('trim', e);
      }
    }
    this.last = kept[kept.length - 1];
    return kept.reverse();
  }

  /** Appends a line (not blank ones, nor a repeat of the previous line). */
  add(line: string): void {
    if (line.trim() === '' || line === this.last) return;
    this.last = line;
    try {
      mkdirSync(dirname(this.path), { recursive: true, mode: 0o700 });
      appendFileSync(this.path, `${line.replace(/\n/g, ' ')}\n`, { mode: 0o600 });
      chmodSync(this.path, 0o600);
    } catch (e) {
      this.report('write', e);
    }
  }

  private report(what: string, e: unknown): void {
    if (this.warned) return;
    this.warned = true;
    this.warn(`history: cannot ${what} ${this.path}: ${e instanceof Error ? e.message : String(e)} (history is kept for this session only)`);
  }
}
