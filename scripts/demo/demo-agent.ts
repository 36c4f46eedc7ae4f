// The agent as the demo runs it: `flagella agent` inside the host
// namespace (nsenter --net only, so /sys/fs/bpf stays visible), the file
// source on the demo's directory, its own state directory, pin root and
// API socket, logs to a file. Readiness and table contents come from its
// API, as any client would see them.
import type { ChildProcess } from 'node:child_process';
import { openSync, readFileSync, closeSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { AgentUnreachableError, ApiClient } from '../../agent/index.js';
import type { NetTopology, Netns } from '../../test/support/netns.js';

export const FLAGELLA_BIN = fileURLToPath(new URL('../../bin/flagella.js', import.meta.url));

export interface DemoAgentOptions {
  readonly host: Netns;
  readonly sourceDir: string;
  readonly workDir: string;
  readonly pinRoot: string;
  readonly devices: readonly string[];
  readonly nodeName: string;
}

/** A table row as GET /v1/tables/{name} returns it. */
export interface ApiRow<T> {
  readonly revision: number;
  readonly object: T;
}

export class DemoAgent {
  readonly api: ApiClient;
  readonly logFile: string;
  readonly socket: string;

  private constructor(
    readonly child: ChildProcess,
    readonly args: readonly string[],
    socket: string,
    logFile: string,
  ) {
    this.socket = socket;
    this.logFile = logFile;
    this.api = new ApiClient(socket, { timeoutMs: 10_000 });
  }

  /** The command line without the node binary, for the narration. */
  static argsFor(opts: DemoAgentOptions): string[] {
    return [
      'agent',
      '--source-dir', opts.sourceDir,
      '--devices', opts.devices.join(','),
      '--node-name', opts.nodeName,
      '--bpf-root', opts.pinRoot,
      '--state-dir', join(opts.workDir, 'state'),
      '--api-socket', join(opts.workDir, 'api.sock'),
      '--health-addr', '127.0.0.1:0',
      '--metrics-addr', '127.0.0.1:0',
      '--log-format', 'json',
    ];
  }

  /** Starts the agent as a child of `topo` (in its own process group; topo.destroy() kills it). */
  static start(topo: NetTopology, opts: DemoAgentOptions): DemoAgent {
    const args = DemoAgent.argsFor(opts);
    const logFile = join(opts.workDir, 'agent.log');
    const log = openSync(logFile, 'a');
    try {
      const child = topo.spawn(opts.host, process.execPath, [FLAGELLA_BIN, ...args], { stdio: ['ignore', log, log] });
      return new DemoAgent(child, args, join(opts.workDir, 'api.sock'), logFile);
    } finally {
      closeSync(log);
    }
  }

  /** The last lines of the agent's log (for failure messages). */
  logTail(lines = 12): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }

  private exited(): boolean {
    return this.child.exitCode !== null || this.child.signalCode !== null;
  }

  /**
   * Polls `check` every 200 ms until it returns true, at most `timeoutMs`.
   * Throws naming `what` (with the agent's last log lines) on timeout or
   * when the agent exits meanwhile. An agent not answering yet counts as
   * "not yet".
   */
  async until(what: string, check: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.exited()) throw new Error(`the agent exited (${this.child.exitCode ?? this.child.signalCode}) while waiting for ${what}:\n${this.logTail()}`);
      try {
        if (await check()) return;
      } catch (e) {
        if (!(e instanceof AgentUnreachableError)) throw e;
      }
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}; the agent's log ends:\n${this.logTail()}`);
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Every row of a table. */
  rows<T>(table: string): Promise<ApiRow<T>[]> {
    return this.api.get<ApiRow<T>[]>(`/v1/tables/${table}`);
  }

  /** SIGTERM and a bounded wait (then SIGKILL): a graceful stop leaves the datapath pinned. */
  async stop(topo: NetTopology): Promise<void> {
    await topo.kill(this.child, 'SIGTERM', 10_000);
  }
}
