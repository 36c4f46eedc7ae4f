// The agent's configuration: what `flagella agent` flags set, defaults, and
// parsers for flag values. A parser throws ConfigValueError naming the flag,
// the value and what was expected; the command turns it into a usage error.
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import { MAGLEV_TABLE_SIZES } from '../../datapath/index.js';
import { canonicalIP } from '../../tables/index.js';
import { parseListenAddress, type ListenAddress, type LogFormat, type LogLevel } from '../observability/index.js';

export type LBAlgorithmName = 'random' | 'maglev';
export type AttachModeName = 'tcx' | 'xdp';
export type XdpModeName = 'native' | 'generic' | 'auto';

export interface AgentConfig {
  /** File source directory; undefined: no file source. */
  readonly sourceDir: string | undefined;
  /** Kubernetes source: a kubeconfig file, or in-cluster when `k8s` is set without one. */
  readonly kubeconfig: string | undefined;
  readonly k8s: boolean;
  /** Directory of the durable store (LMDB). */
  readonly stateDir: string;
  /** fsync every durable commit (default true); false survives a killed agent, not an OS crash. */
  readonly stateSync: boolean;
  /** Pin root of maps, programs and links (bpffs). */
  readonly bpfRoot: string;
  readonly apiSocket: string;
  /** Devices to attach to (none: maps are written, nothing is attached). */
  readonly devices: readonly string[];
  readonly attachMode: AttachModeName;
  readonly xdpMode: XdpModeName;
  readonly forceXdpOnVeth: boolean;
  readonly nodeName: string;
  /** Node addresses; undefined: the devices' IPv4 addresses. */
  readonly nodeAddresses: readonly string[] | undefined;
  readonly lbAlgorithm: LBAlgorithmName;
  readonly maglevTableSize: number;
  /** Health endpoint; null: not served. */
  readonly healthAddr: ListenAddress | null;
  readonly metricsAddr: ListenAddress | null;
  /** Allow non-loopback health and metrics addresses. */
  readonly allowRemoteObservability: boolean;
  readonly once: boolean;
  /** How long --once waits for convergence. */
  readonly onceTimeoutMs: number;
  readonly logLevel: LogLevel;
  /** undefined: text on a terminal, JSON otherwise. */
  readonly logFormat: LogFormat | undefined;
}

export const DEFAULT_STATE_DIR = '/var/lib/flagella';
export const DEFAULT_BPF_ROOT = '/sys/fs/bpf/flagella';
export const DEFAULT_API_SOCKET = '/run/flagella/api.sock';
export const DEFAULT_HEALTH_ADDR = '127.0.0.1:9879';
export const DEFAULT_METRICS_ADDR = '127.0.0.1:9962';
export const DEFAULT_MAGLEV_TABLE_SIZE = 16381;
export const DEFAULT_ONCE_TIMEOUT_MS = 60_000;

/** A configuration with every default; `overrides` replace fields. */
export function agentConfig(overrides: Partial<AgentConfig> = {}): AgentConfig {
  return {
    sourceDir: undefined,
    kubeconfig: undefined,
    k8s: false,
    stateDir: DEFAULT_STATE_DIR,
    stateSync: true,
    bpfRoot: DEFAULT_BPF_ROOT,
    apiSocket: DEFAULT_API_SOCKET,
    devices: [],
    attachMode: 'tcx',
    xdpMode: 'native',
    forceXdpOnVeth: false,
    nodeName: hostname(),
    nodeAddresses: undefined,
    lbAlgorithm: 'random',
    maglevTableSize: DEFAULT_MAGLEV_TABLE_SIZE,
    healthAddr: parseListenAddress(DEFAULT_HEALTH_ADDR),
    metricsAddr: parseListenAddress(DEFAULT_METRICS_ADDR),
    allowRemoteObservability: false,
    once: false,
    onceTimeoutMs: DEFAULT_ONCE_TIMEOUT_MS,
    logLevel: 'info',
    logFormat: undefined,
    ...overrides,
  };
}

/** A flag's value is unusable. */
export class ConfigValueError extends Error {
  override readonly name = 'ConfigValueError';
  constructor(
    readonly flag: string,
    readonly value: string,
    readonly expected: string,
  ) {
    super(`${flag} ${JSON.stringify(value)}: ${expected}`);
  }
}

function list(value: string): string[] {
  return value
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
}

/** `a,b`: device names (1-15 characters, no '/', ':' or space); duplicates refused. */
export function parseDevices(value: string): string[] {
  const names = list(value);
  for (const n of names) {
    if (!/^[^\s/:]{1,15}$/.test(n)) throw new ConfigValueError('--devices', value, `"${n}" is not a network device name (1-15 characters, no '/', ':' or spaces)`);
  }
  if (new Set(names).size !== names.length) throw new ConfigValueError('--devices', value, 'a device is listed twice');
  return names;
}

/** `ip,ip`: IPv4 or IPv6 addresses, canonicalized; at least one. */
export function parseNodeAddresses(value: string): string[] {
  const ips = list(value);
  if (ips.length === 0) throw new ConfigValueError('--node-addresses', value, 'expected at least one IP address');
  for (const ip of ips) if (isIP(ip) === 0) throw new ConfigValueError('--node-addresses', value, `"${ip}" is not an IP address`);
  return [...new Set(ips.map((ip) => canonicalIP(ip)))];
}

/** A node name as Kubernetes allows it (DNS subdomain). */
export function parseNodeName(value: string): string {
  if (!/^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/.test(value)) {
    throw new ConfigValueError('--node-name', value, 'expected a DNS subdomain (lower-case letters, digits, "-" and ".")');
  }
  return value;
}

/** `host:port`, or `off` (not served). */
export function parseAddressFlag(flag: string, value: string): ListenAddress | null {
  if (value === 'off' || value === '') return null;
  try {
    return parseListenAddress(value);
  } catch (err) {
    throw new ConfigValueError(flag, value, `${(err as Error).message}; expected host:port or "off"`);
  }
}

export function parseChoice<T extends string>(flag: string, value: string, choices: readonly T[]): T {
  if ((choices as readonly string[]).includes(value)) return value as T;
  throw new ConfigValueError(flag, value, `expected one of ${choices.join(', ')}`);
}

/** One of the Maglev table sizes the datapath accepts. */
export function parseMaglevTableSize(value: string): number {
  const n = Number(value);
  if (!MAGLEV_TABLE_SIZES.includes(n)) throw new ConfigValueError('--maglev-table-size', value, `expected one of ${MAGLEV_TABLE_SIZES.join(', ')}`);
  return n;
}

/** A positive duration in seconds (fractions allowed) -> ms. */
export function parseSeconds(flag: string, value: string): number {
  const n = Number(value);
  if (!/^\d+(\.\d+)?$/.test(value) || !(n > 0)) throw new ConfigValueError(flag, value, 'expected a positive number of seconds');
  return Math.round(n * 1000);
}

/** A non-empty path. */
export function parsePath(flag: string, value: string): string {
  if (value.trim() === '') throw new ConfigValueError(flag, value, 'expected a path');
  return value;
}
