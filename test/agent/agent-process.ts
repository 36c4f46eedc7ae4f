// `flagella agent` as a child process for tests: its own state directory,
// a unique pin root under /sys/fs/bpf, an API socket in a temporary
// directory, health and metrics on free loopback ports. Collects the JSON
// log lines, waits for "agent ready", talks HTTP over the socket, and is
// killed (its whole process group) and cleaned up also when a test fails.
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadDatapath } from '../../datapath/index.js';
import type { NetTopology, Netns } from '../support/netns.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const BIN = join(ROOT, 'bin', 'flagella.js');

let counter = 0;

/** Directories an agent keeps across restarts: state, pin root, socket. */
export class AgentDirs {
  readonly tmp: string;
  readonly stateDir: string;
  readonly pinRoot: string;
  readonly socket: string;
  readonly sourceDir: string;

  /** `socket`: use this API socket instead of one in the temporary directory. */
  constructor(tag = 'agent', opts: { socket?: string } = {}) {
    counter += 1;
    this.tmp = mkdtempSync(join(tmpdir(), `flg-${tag}-`));
    this.stateDir = join(this.tmp, 'state');
    this.sourceDir = join(this.tmp, 'objects');
    this.socket = opts.socket ?? join(this.tmp, 'run', 'api.sock');
    this.pinRoot = `/sys/fs/bpf/flg-${tag}-${process.pid}-${counter}`;
  }

  /** The flags pointing the agent at these directories. */
  args(): string[] {
    return ['--state-dir', this.stateDir, '--bpf-root', this.pinRoot, '--api-socket', this.socket, '--health-addr', '127.0.0.1:0', '--metrics-addr', '127.0.0.1:0'];
  }

  /** Detaches any pinned links, removes the pins and the temporary directory. Never throws. */
  cleanup(): void {
    try {
      if (existsSync(join(this.pinRoot, 'links'))) {
        const dp = loadDatapath({ pinRoot: this.pinRoot });
        try {
          dp.detachAll();
        } finally {
          dp.close();
        }
      }
    } catch {
      /* best effort */
    }
    rmSync(this.pinRoot, { recursive: true, force: true });
    rmSync(this.tmp, { recursive: true, force: true });
  }
}

export interface LogLine {
  readonly level: string;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface HttpAnswer {
  readonly status: number;
  readonly headers: Record<string, string | string[] | undefined>;
  readonly text: string;
  readonly json: unknown;
}

const live = new Set<ChildProcess>();
process.on('exit', () => {
  for (const c of live) killGroup(c, 'SIGKILL');
});

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* gone */
  }
}

/** One HTTP request over a unix socket; bounded by 10 s. */
export function http(socketPath: string, method: string, path: string, body?: string | Buffer, headers: Record<string, string> = {}): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ socketPath, method, path, headers: body !== undefined ? { 'content-type': 'application/json', ...headers } : headers, timeout: 10_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let json: unknown;
        try {
          json = JSON.parse(text);
        } catch {
          json = undefined;
        }
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json });
      });
    });
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 10 s`)));
    req.on('error', reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

export class AgentProcess {
  readonly logs: LogLine[] = [];
  readonly stderrText: string[] = [];
  private stdoutBuffer = '';
  private readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;

  private constructor(
    readonly child: ChildProcess,
    readonly dirs: AgentDirs,
  ) {
    live.add(child);
    child.stdout?.on('data', (d: Buffer) => {
      this.stdoutBuffer += d.toString();
      const lines = this.stdoutBuffer.split('\n');
      this.stdoutBuffer = lines.pop() ?? '';
      for (const line of lines.filter(Boolean)) {
        try {
          this.logs.push(JSON.parse(line) as LogLine);
        } catch {
          this.logs.push({ level: 'raw', msg: line });
        }
      }
    });
    child.stderr?.on('data', (d: Buffer) => this.stderrText.push(d.toString()));
    this.exited = new Promise((resolve) => child.once('exit', (code, signal) => {
      live.delete(child);
      resolve({ code, signal });
    }));
  }

  /**
   * Spawns the agent (inside `ns` of `topo` when given) with the dirs' flags
   * plus `extra`, and waits for its "agent ready" log line (30 s).
   */
  static async start(dirs: AgentDirs, extra: readonly string[] = [], where?: { topo: NetTopology; ns: Netns }): Promise<AgentProcess> {
    const argv = [BIN, 'agent', ...dirs.args(), '--log-format', 'json', ...extra];
    const child = where ? where.topo.spawn(where.ns, process.execPath, argv, { cwd: ROOT }) : spawn(process.execPath, argv, { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const agent = new AgentProcess(child, dirs);
    await agent.waitForLog((l) => l.msg === 'agent ready', 30_000);
    return agent;
  }

  /** Waits for a log line matching `match` (already seen ones count). Rejects on exit or timeout. */
  async waitForLog(match: (l: LogLine) => boolean, timeoutMs = 10_000): Promise<LogLine> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.logs.find(match);
      if (found !== undefined) return found;
      if (this.child.exitCode !== null || this.child.signalCode !== null) throw new Error(`agent exited (${this.child.exitCode ?? this.child.signalCode}) before the expected log line: ${this.stderrText.join('')}${this.tail()}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for a log line: ${this.tail()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  /** The last log lines, for failure messages. */
  tail(n = 15): string {
    return `\n${this.logs.slice(-n).map((l) => JSON.stringify(l)).join('\n')}`;
  }

  /** An endpoint from the ready line, e.g. the bound health address. */
  endpoint(index: number): string {
    const ready = this.logs.find((l) => l.msg === 'agent ready');
    const endpoints = (ready?.endpoints ?? []) as string[];
    return endpoints[index] ?? '';
  }

  request(method: string, path: string, body?: unknown): Promise<HttpAnswer> {
    const text = body === undefined ? undefined : typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body);
    return http(this.dirs.socket, method, path, text);
  }

  /** Sends `signal` to the process group and waits for the exit (SIGKILL after 15 s). */
  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      killGroup(this.child, signal);
      const timer = setTimeout(() => killGroup(this.child, 'SIGKILL'), 15_000);
      const result = await this.exited;
      clearTimeout(timer);
      return result;
    }
    return this.exited;
  }
}

/** Runs `flagella agent --once` to completion (60 s bound): exit code, stdout (the summary), stderr (logs). */
export function runOnce(dirs: AgentDirs, extra: readonly string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'agent', ...dirs.args(), '--once', '--log-format', 'json', ...extra], { cwd: ROOT, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    live.add(child);
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 60_000);
    child.once('error', reject);
    child.once('exit', (code) => {
      clearTimeout(timer);
      live.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}
