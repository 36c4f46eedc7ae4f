// The custom agent's model: one row per client address with the packet
// rate it may send, and the row's reconciliation status. Writers insert
// rows with Status.pending(); the reconciler writes done or error back.
import { Keys, uniqueIndex } from 'flagella/statedb';
import type { DB } from 'flagella/statedb';
import { Status, statusProperty } from 'flagella/reconcilers';

export interface RateLimit {
  /** IPv4 address of the client, canonical ("10.0.0.1"). */
  readonly client: string;
  readonly packetsPerSecond: number;
  /** Extra packets allowed in a burst. */
  readonly burst: number;
  readonly status: Status;
}

/** A limit to reconcile (a new version of the row). */
export function rateLimit(client: string, packetsPerSecond: number, burst = 0): RateLimit {
  return { client, packetsPerSecond, burst, status: Status.pending() };
}

/** The rate-limits table, keyed by client address (an `ip` key: sorted and queried as addresses). */
export function rateLimitTable(db: DB) {
  return db.newTable({
    name: 'rate-limits',
    primary: uniqueIndex('client', Keys.ip, (r: RateLimit) => r.client),
    header: ['Client', 'PacketsPerSecond', 'Burst', 'Status'],
    row: (r: RateLimit) => [r.client, String(r.packetsPerSecond), String(r.burst), r.status.format()],
  });
}

/** Where the status lives on the row. */
export const rateLimitStatus = statusProperty<RateLimit, 'status'>('status');

/** A limits file that cannot be used as a whole. */
export class LimitsFileError extends Error {
  override readonly name = 'LimitsFileError';
}

/** A dotted-quad IPv4 address in canonical form (no leading zeros). */
export function isIPv4(text: string): boolean {
  const parts = text.split('.');
  return parts.length === 4 && parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) <= 255);
}

export interface ParsedLimits {
  readonly limits: RateLimit[];
  /** Entries refused before reaching the table, one message each. */
  readonly problems: string[];
}

/**
 * Parses the limits file: a JSON object mapping a client IPv4 address to
 * `{"pps": N, "burst": N}` or to a bare N (packets per second). Throws
 * LimitsFileError for a file that is not such an object. An entry whose
 * key is not an IPv4 address is refused here (it cannot be a row); a bad
 * rate is left to the map's codec, so it becomes that row's error status.
 * Either way the other entries still apply, as a real agent treats one bad
 * object.
 */
export function parseLimits(text: string): ParsedLimits {
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (e) {
    throw new LimitsFileError(`limits file is not JSON: ${(e as Error).message}`);
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new LimitsFileError('limits file must be a JSON object of client -> limit');
  const limits: RateLimit[] = [];
  const problems: string[] = [];
  for (const [client, v] of Object.entries(doc as Record<string, unknown>)) {
    if (!isIPv4(client)) {
      problems.push(`${JSON.stringify(client)} is not an IPv4 address`);
      continue;
    }
    if (typeof v === 'number') {
      limits.push(rateLimit(client, v));
      continue;
    }
    const limit = (typeof v === 'object' && v !== null ? v : {}) as { pps?: unknown; burst?: unknown };
    limits.push(rateLimit(client, typeof limit.pps === 'number' ? limit.pps : NaN, typeof limit.burst === 'number' ? limit.burst : 0));
  }
  return { limits, problems };
}
