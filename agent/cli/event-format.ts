// Datapath drop and trace events as `flagella monitor` prints them: one
// line each, like `cilium monitor`: time, type and reason, hook and
// interface, the tuple, and the identities (policy drops) or the service
// and backend (load-balancing traces).
import { identityText } from './map-access.js';

const PROTOCOLS: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP', 58: 'ICMPv6', 132: 'SCTP' };

/** An event as the agent streams it (the kernel timestamp as a decimal string) or as read directly. */
export interface MonitorEvent {
  readonly type: string;
  readonly reason: number;
  readonly reasonName: string;
  readonly hook: string;
  readonly timestampNs: string;
  readonly ifindex: number;
  readonly length: number;
  readonly proto: number;
  readonly saddr: string;
  readonly daddr: string;
  readonly sport: number;
  readonly dport: number;
  readonly backendId: number;
  readonly revNatIndex: number;
  readonly srcIdentity: number;
  readonly dstIdentity: number;
}

const num = (v: unknown): number => (typeof v === 'number' && Number.isFinite(v) ? v : 0);
const str = (v: unknown, fallback = ''): string => (typeof v === 'string' ? v : fallback);

/** Reads an event from JSON leniently (missing fields are zero or empty). */
export function monitorEventOf(item: unknown): MonitorEvent {
  const e = (typeof item === 'object' && item !== null ? item : {}) as Record<string, unknown>;
  const ts = e.timestampNs;
  return {
    type: str(e.type, 'unknown'),
    reason: num(e.reason),
    reasonName: str(e.reasonName, `REASON_${num(e.reason)}`),
    hook: str(e.hook, 'unknown'),
    timestampNs: typeof ts === 'string' || typeof ts === 'number' || typeof ts === 'bigint' ? String(ts) : '0',
    ifindex: num(e.ifindex),
    length: num(e.length),
    proto: num(e.proto),
    saddr: str(e.saddr),
    daddr: str(e.daddr),
    sport: num(e.sport),
    dport: num(e.dport),
    backendId: num(e.backendId),
    revNatIndex: num(e.revNatIndex),
    srcIdentity: num(e.srcIdentity),
    dstIdentity: num(e.dstIdentity),
  };
}

/** Wall-clock time of a kernel monotonic timestamp (same machine), as HH:MM:SS.mmm local time. */
export function eventClock(timestampNs: string, nowMonoNs = process.hrtime.bigint(), nowMs = Date.now()): string {
  let ts: bigint;
  try {
    ts = BigInt(timestampNs);
  } catch {
    ts = nowMonoNs;
  }
  const d = new Date(nowMs - Number((nowMonoNs - ts) / 1_000_000n));
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}.${p(d.getMilliseconds(), 3)}`;
}

/** One line (no newline) for an event; `names` maps ifindex to interface names where known. */
export function formatEvent(e: MonitorEvent, names: ReadonlyMap<number, string>, clock = eventClock(e.timestampNs)): string {
  const name = names.get(e.ifindex);
  const where = name === undefined ? `ifindex ${e.ifindex}` : `${name} (ifindex ${e.ifindex})`;
  const proto = PROTOCOLS[e.proto] ?? `PROTO(${e.proto})`;
  const ports = e.proto === 6 || e.proto === 17 || e.proto === 132;
  const tuple = ports ? `${e.saddr}:${e.sport} -> ${e.daddr}:${e.dport}` : `${e.saddr} -> ${e.daddr}`;
  const parts = [clock, e.type.padEnd(5), e.reasonName, `${e.hook} ${where}`, `${proto} ${tuple}`];
  if (e.srcIdentity !== 0 || e.dstIdentity !== 0) parts.push(`identity ${identityText(e.srcIdentity, '0')} -> ${identityText(e.dstIdentity, '0')}`);
  if (e.revNatIndex !== 0) parts.push(`service ${e.revNatIndex}`);
  if (e.backendId !== 0) parts.push(`backend ${e.backendId}`);
  parts.push(`len ${e.length}`);
  return parts.join('  ');
}
