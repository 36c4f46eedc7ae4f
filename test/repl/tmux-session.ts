// A command in a tmux pane, for driving interactive programs in tests: a
// private tmux server (-L, so the user's sessions are never touched), keys
// sent with send-keys, the screen read with capture-pane, bounded waits, and
// kill() for finally blocks. Not a test file.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

let sessions = 0;

export class TmuxSession {
  readonly server: string;
  readonly name = 'main';
  private killed = false;
  private readonly dir: string;

  /**
   * Starts `command` (run by sh, `env` added) in a new 160x50 pane. The
   * shell writes the command's exit status to a file (tmux does not always
   * reap a pane's process promptly, so its own dead-pane status lags).
   */
  constructor(command: string, env: Record<string, string> = {}) {
    sessions += 1;
    this.server = `flg-${process.pid}-${sessions}`;
    this.dir = mkdtempSync(join(tmpdir(), 'flg-tmux-'));
    const exports = Object.entries(env)
      .map(([k, v]) => `${k}=${shellQuote(v)}`)
      .join(' ');
    const statusFile = shellQuote(join(this.dir, 'status'));
    this.tmux('-f', '/dev/null', 'new-session', '-d', '-s', this.name, '-x', '160', '-y', '50', `${exports} ${command}; echo $? > ${statusFile}; sleep 600`);
  }

  private tmux(...args: string[]): string {
    return execFileSync('tmux', ['-L', this.server, ...args], { encoding: 'utf8', timeout: 10_000 });
  }

  /** Sends keys as tmux names them ("Tab", "Enter", "C-c", "Up") or literal text. */
  send(...keys: string[]): void {
    this.tmux('send-keys', '-t', this.name, ...keys);
  }

  /** Two Tabs apart: readline takes keys that arrive together for a paste and does not complete them. */
  async doubleTab(): Promise<void> {
    this.send('Tab');
    await new Promise((r) => setTimeout(r, 300));
    this.send('Tab');
  }

  /** Sends text literally (no key-name lookup). */
  type(text: string): void {
    this.tmux('send-keys', '-t', this.name, '-l', '--', text);
  }

  /** The screen and scrollback, trailing blank lines dropped. */
  screen(): string {
    return this.tmux('capture-pane', '-p', '-J', '-S', '-200', '-t', this.name).replace(/\s+$/, '');
  }

  /** Waits (bounded) until the screen matches; returns it. */
  async waitFor(pattern: RegExp, timeoutMs = 20_000): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const text = this.screen();
      if (pattern.test(text)) return text;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}; the screen:\n${text}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** The command's exit status once it has exited (bounded wait). */
  async exitStatus(timeoutMs = 15_000): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      let status: string | undefined;
      try {
        status = readFileSync(join(this.dir, 'status'), 'utf8').trim();
      } catch {
        status = undefined;
      }
      if (status !== undefined && status !== '') return Number(status);
      if (Date.now() > deadline) throw new Error(`the command still runs after ${timeoutMs} ms; the screen:\n${this.screen()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /** Kills the private tmux server and everything in it (idempotent, never throws). */
  kill(): void {
    if (this.killed) return;
    this.killed = true;
    try {
      this.tmux('kill-server');
    } catch {
      /* already gone */
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

function shellQuote(s: string): string {
  return `'${s.replace(/'/g, `'\\''`)}'`;
}
