// Network-namespace topologies for end-to-end tests, benchmarks and the demo:
// namespaces, veth pairs, addresses, routes, forwarding, checksum offload,
// and processes run inside namespaces. Everything created is recorded and
// removed by destroy(), which also runs at process exit if a test crashed
// before its finally block. Names carry the pid, so parallel runs never meet.
//
// Processes enter a namespace with `nsenter --net=/var/run/netns/<ns>`,
// never `ip netns exec`: that remounts /sys and hides /sys/fs/bpf.
import { execFileSync, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface Netns {
  /** Full namespace name, as in /var/run/netns. */
  readonly name: string;
  readonly path: string;
}

export interface VethEnd {
  ns: Netns;
  /** Interface name (at most 15 characters). */
  name: string;
  /** Address with prefix length, e.g. "10.200.1.1/24". */
  address?: string;
}

export interface VethOptions {
  /** Turn off tx checksum offload on both ends, so the receiving stack
   * verifies full checksums (veths otherwise pass CHECKSUM_PARTIAL and hide
   * a wrong L4 checksum). Default true. */
  txChecksumOff?: boolean;
}

export class CommandError extends Error {
  constructor(
    readonly command: string,
    readonly stderr: string,
  ) {
    super(`${command} failed: ${stderr.trim()}`);
    this.name = 'CommandError';
  }
}

function run(cmd: string, args: readonly string[], timeoutMs = 30_000): string {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: timeoutMs });
  } catch (err) {
    const e = err as { stderr?: string | Buffer; message: string };
    throw new CommandError(`${cmd} ${args.join(' ')}`, e.stderr ? String(e.stderr) : e.message);
  }
}

const liveTopologies = new Set<NetTopology>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.on('exit', () => {
    for (const t of liveTopologies) t.destroy();
  });
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      for (const t of liveTopologies) t.destroy();
      process.exit(128 + (signal === 'SIGINT' ? 2 : 15));
    });
  }
}

/** A set of namespaces and the processes running in them, removed together. */
export class NetTopology {
  /** Unique prefix of every namespace and interface name: "f<pid>". */
  readonly prefix: string;
  private readonly namespaces: Netns[] = [];
  private readonly children = new Set<ChildProcess>();
  private destroyed = false;
  private vethCount = 0;

  constructor(tag = '') {
    this.prefix = `f${process.pid}${tag}`;
    installExitHook();
    liveTopologies.add(this);
  }

  /** Creates namespace `<prefix>-<short>` with loopback up. */
  namespace(short: string): Netns {
    const name = `${this.prefix}-${short}`;
    if (existsSync(`/var/run/netns/${name}`)) run('ip', ['netns', 'delete', name]);
    run('ip', ['netns', 'add', name]);
    const ns: Netns = { name, path: `/var/run/netns/${name}` };
    this.namespaces.push(ns);
    this.exec(ns, 'ip', ['link', 'set', 'lo', 'up']);
    return ns;
  }

  /** Runs a command inside a namespace and returns its stdout. */
  exec(ns: Netns, cmd: string, args: readonly string[], timeoutMs?: number): string {
    return run('nsenter', [`--net=${ns.path}`, cmd, ...args], timeoutMs);
  }

  /** Creates a veth pair with one end in each namespace, addressed and up. */
  veth(a: VethEnd, b: VethEnd, opts: VethOptions = {}): void {
    for (const end of [a, b]) {
      if (end.name.length > 15) throw new Error(`interface name too long (max 15): ${end.name}`);
    }
    // Created in a's namespace with a temporary peer name, so two pairs can
    // both name their far end "eth0" without colliding anywhere.
    const tmpPeer = `${this.prefix}p${this.vethCount++}`.slice(-15);
    this.exec(a.ns, 'ip', ['link', 'add', a.name, 'type', 'veth', 'peer', 'name', tmpPeer]);
    this.exec(a.ns, 'ip', ['link', 'set', tmpPeer, 'netns', b.ns.path]);
    this.exec(b.ns, 'ip', ['link', 'set', tmpPeer, 'name', b.name]);
    for (const end of [a, b]) {
      if (end.address) this.exec(end.ns, 'ip', ['addr', 'add', end.address, 'dev', end.name]);
      if (opts.txChecksumOff ?? true) this.exec(end.ns, 'ethtool', ['-K', end.name, 'tx', 'off']);
      this.exec(end.ns, 'ip', ['link', 'set', end.name, 'up']);
    }
  }

  /** Adds a route, e.g. route(ns, 'default', '10.200.1.1'). */
  route(ns: Netns, destination: string, via: string): void {
    this.exec(ns, 'ip', ['route', 'add', destination, 'via', via]);
  }

  /** Sets a sysctl inside the namespace (net.* keys are per namespace). */
  sysctl(ns: Netns, key: string, value: string | number): void {
    this.exec(ns, 'sysctl', ['-qw', `${key}=${value}`]);
  }

  /** IPv4 forwarding on, reverse-path filtering off (NATed replies would fail it). */
  enableForwarding(ns: Netns): void {
    this.sysctl(ns, 'net.ipv4.ip_forward', 1);
    this.sysctl(ns, 'net.ipv4.conf.all.rp_filter', 0);
    this.sysctl(ns, 'net.ipv4.conf.default.rp_filter', 0);
  }

  /** The ifindex of an interface inside a namespace. */
  ifindex(ns: Netns, ifname: string): number {
    const out = this.exec(ns, 'cat', [`/sys/class/net/${ifname}/ifindex`]);
    return Number(out.trim());
  }

  /**
   * Starts a process inside the namespace (null: this process's namespace),
   * in its own process group (killed with its children by kill() or
   * destroy()). stdio defaults to pipes.
   */
  spawn(ns: Netns | null, cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
    const [file, argv] = ns ? ['nsenter', [`--net=${ns.path}`, cmd, ...args]] : [cmd, [...args]];
    const child = spawn(file, argv, {
      stdio: ['pipe', 'pipe', 'pipe'],
      ...opts,
      detached: true,
    });
    this.children.add(child);
    child.once('exit', () => this.children.delete(child));
    return child;
  }

  /** Kills a spawned process group and waits (bounded) for the exit. */
  async kill(child: ChildProcess, signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 5000): Promise<void> {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    killGroup(child, signal);
    const timer = setTimeout(() => killGroup(child, 'SIGKILL'), timeoutMs);
    await exited;
    clearTimeout(timer);
  }

  /** Kills every process and deletes every namespace (and so every veth in
   * them). Idempotent; never throws. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    liveTopologies.delete(this);
    for (const child of this.children) killGroup(child, 'SIGKILL');
    this.children.clear();
    for (const ns of this.namespaces.reverse()) {
      try {
        run('ip', ['netns', 'delete', ns.name]);
      } catch {
        /* already gone */
      }
    }
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    /* already gone */
  }
}

/** Runs fn with a fresh topology and destroys it afterwards, also on failure. */
export async function withTopology<T>(fn: (topo: NetTopology) => Promise<T>, tag = ''): Promise<T> {
  const topo = new NetTopology(tag);
  try {
    return await fn(topo);
  } finally {
    topo.destroy();
  }
}

/** Waits until a line matching `pattern` appears on the child's stdout (bounded). */
export function waitForLine(child: ChildProcess, pattern: RegExp, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    let stderr = '';
    const onData = (d: Buffer) => {
      buffered += d.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        if (pattern.test(line)) {
          cleanup();
          resolve(line);
          return;
        }
      }
    };
    const onErr = (d: Buffer) => {
      stderr += d.toString();
    };
    const onExit = (code: number | null) => {
      cleanup();
      reject(new Error(`process exited (${code}) before printing ${pattern}: ${stderr.trim()}`));
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${pattern}: ${stderr.trim()}`));
    }, timeoutMs);
    const cleanup = () => {
      clearTimeout(timer);
      child.stdout?.off('data', onData);
      child.stderr?.off('data', onErr);
      child.off('exit', onExit);
    };
    child.stdout?.on('data', onData);
    child.stderr?.on('data', onErr);
    child.once('exit', onExit);
  });
}

export interface LbTopology {
  /** The namespace the datapath attaches in (a router between the others). */
  host: Netns;
  client: { ns: Netns; address: string; hostIf: string };
  backends: { ns: Netns; address: string; hostIf: string }[];
}

/**
 * The load-balancing topology: a client namespace and `backendCount` backend
 * namespaces, each joined by a veth pair to a host namespace that forwards
 * between them. Each leaf's interface is eth0 with a default route to the
 * host side; the host-side interfaces are "to-client" and "to-b<i>".
 * Addresses: client 10.201.0.2, backend i (1-based) 10.201.<i>.2, host
 * sides .1. tx checksum offload is off everywhere, so a wrong NAT checksum
 * is dropped by the receiving stack instead of hidden.
 */
export function createLbTopology(topo: NetTopology, backendCount = 2): LbTopology {
  const host = topo.namespace('host');
  topo.enableForwarding(host);
  const leaf = (short: string, subnet: number, hostIf: string) => {
    const ns = topo.namespace(short);
    topo.veth({ ns: host, name: hostIf, address: `10.201.${subnet}.1/24` }, { ns, name: 'eth0', address: `10.201.${subnet}.2/24` });
    topo.route(ns, 'default', `10.201.${subnet}.1`);
    return { ns, address: `10.201.${subnet}.2`, hostIf };
  };
  const client = leaf('client', 0, 'to-client');
  const backends = Array.from({ length: backendCount }, (_, i) => leaf(`b${i + 1}`, i + 1, `to-b${i + 1}`));
  return { host, client, backends };
}

// ---- TCP clients and servers inside namespaces (tcp-client.ts, tcp-server.ts) ----

const TCP_CLIENT = fileURLToPath(new URL('./tcp-client.ts', import.meta.url));
const TCP_SERVER = fileURLToPath(new URL('./tcp-server.ts', import.meta.url));
const TSX_ARGS = ['--import', 'tsx'];

/** One connection's outcome as tcp-client.ts prints it. */
export interface TcpResult {
  ok: boolean;
  local?: string;
  remote?: string;
  /** The server's line: `<server name> <client ip:port> <request>`. */
  reply?: string;
  error?: string;
}

/** The server name in a tcp-server.ts reply ('' when there is none). */
export function serverName(reply: string | undefined): string {
  return (reply ?? '').split(' ')[0] ?? '';
}

/** Starts tcp-server.ts named `name` on `port` inside ns and waits until it listens. */
export async function startTcpServer(topo: NetTopology, ns: Netns, name: string, port: number): Promise<ChildProcess> {
  const server = topo.spawn(ns, process.execPath, [...TSX_ARGS, TCP_SERVER, name, String(port)]);
  await waitForLine(server, /^listening/);
  return server;
}

/**
 * Opens `count` one-shot connections from ns, one after another (each
 * bounded by the client's 3 s timeouts), and resolves with one result per
 * connection. Rejects when the client does not print them all.
 */
export async function connectMany(topo: NetTopology, ns: Netns, host: string, port: number, count: number): Promise<TcpResult[]> {
  const child = topo.spawn(ns, process.execPath, [...TSX_ARGS, TCP_CLIENT, host, String(port), 'once', String(count)]);
  let out = '';
  child.stdout?.on('data', (d: Buffer) => (out += d.toString()));
  const code = await new Promise<number | null>((resolve) => {
    const timer = setTimeout(() => void topo.kill(child, 'SIGKILL'), 10_000 + count * 7000);
    child.once('exit', (c) => {
      clearTimeout(timer);
      resolve(c);
    });
  });
  const results = out
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as TcpResult);
  if (results.length !== count) throw new Error(`tcp client exited ${code} with ${results.length} of ${count} results: ${out}`);
  return results;
}

/** A long-lived connection from a namespace, driven one request line at a time. */
export class TcpSession {
  private readonly pending: ((r: TcpResult) => void)[] = [];
  private buffered = '';

  private constructor(
    private readonly topo: NetTopology,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d: Buffer) => {
      this.buffered += d.toString();
      let nl: number;
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl);
        this.buffered = this.buffered.slice(nl + 1);
        const parsed = JSON.parse(line) as TcpResult & { connected?: string };
        if (parsed.connected === undefined) this.pending.shift()?.(parsed);
      }
    });
  }

  /** Connects from ns to host:port; rejects when the connection is not up within 10 s. */
  static async open(topo: NetTopology, ns: Netns, host: string, port: number): Promise<TcpSession> {
    const child = topo.spawn(ns, process.execPath, [...TSX_ARGS, TCP_CLIENT, host, String(port), 'session']);
    await waitForLine(child, /"connected"/);
    return new TcpSession(topo, child);
  }

  /** Sends one line and resolves with the reply (or the failure); rejects after 5 s without either. */
  request(line: string): Promise<TcpResult> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no reply to ${line} within 5 s`)), 5000);
      this.pending.push((r) => {
        clearTimeout(timer);
        resolve(r);
      });
      this.child.stdin?.write(`${line}\n`);
    });
  }

  /** Closes the connection and ends the client. */
  async close(): Promise<void> {
    this.child.stdin?.end();
    await this.topo.kill(this.child);
  }
}
