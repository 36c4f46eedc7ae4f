// Running bin/flagella.js from the CLI tests: synchronously with a bound,
// asynchronously with stdout/stderr collected, and as a long-running
// process that can be waited on and interrupted. Not a test file.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as assert from 'uvu/assert';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'flagella.js');

export interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs flagella to completion (30 s bound) with `env` added. */
export function flagella(args: readonly string[], env: Record<string, string> = {}): Result {
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000, env: { ...process.env, ...env } });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a bash pipeline (bounded by 20 s), returning the first command's exit status and what came out of the pipe. */
export function pipeline(command: string, env: Record<string, string> = {}): { status: number; out: string } {
  const r = spawnSync('bash', ['-c', `timeout 20 ${command}; echo "status=\${PIPESTATUS[0]}"`], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 30_000,
    env: { ...process.env, ...env },
  });
  const m = /status=(\d+)\s*$/.exec(r.stdout);
  assert.ok(m, `no status in ${JSON.stringify(r.stdout)} ${r.stderr}`);
  return { status: Number(m[1]), out: r.stdout.slice(0, m.index) };
}

export function noStack(r: Result): void {
  assert.not.match(r.stderr, /^\s+at /m, `no stack trace: ${r.stderr}`);
}

/** flagella as a long-running child in its own process group, output collected. */
export class Running {
  stdout = '';
  stderr = '';
  readonly exited: Promise<number | null>;
  readonly child: ChildProcess;

  constructor(args: readonly string[], env: Record<string, string> = {}) {
    this.child = spawn(process.execPath, [BIN, ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], detached: true, env: { ...process.env, ...env } });
    this.child.stdout!.on('data', (d: Buffer) => (this.stdout += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.stderr += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  /** Waits (bounded) until `pattern` shows in stdout or stderr. */
  async waitFor(pattern: RegExp, where: 'stdout' | 'stderr' = 'stdout', timeoutMs = 20_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this[where])) {
      if (this.child.exitCode !== null) throw new Error(`flagella exited (${this.child.exitCode}) before ${pattern}: ${this.stderr}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern} in ${where}: ${JSON.stringify(this[where].slice(-500))} ${this.stderr}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** The exit code, or 'still running' after `timeoutMs`. */
  async exit(timeoutMs = 15_000): Promise<number | null | 'still running'> {
    let timer: NodeJS.Timeout | undefined;
    const r = await Promise.race([this.exited, new Promise<'still running'>((resolve) => (timer = setTimeout(() => resolve('still running'), timeoutMs)))]);
    clearTimeout(timer);
    return r;
  }

  /** Kills the process group if it still runs. */
  kill(): void {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      try {
        process.kill(-this.child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }
}
