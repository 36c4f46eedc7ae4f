// Per-reason packet and byte counters from flg_metrics (per-CPU array),
// summed over CPUs.
import type { TypedMap } from '../kernel/index.js';
import type { FlgMetricsValue } from '../maps/layouts.generated.js';
import { REASON_MAX, Reason, type ReasonName } from './reasons.js';

export interface Counter {
  packets: number;
  bytes: number;
}

export type Counters = Record<ReasonName, Counter>;

/** Reads every reason's counter, summed over CPUs. Throws BpfError on a map failure. */
export function readCounters(metrics: TypedMap<number, FlgMetricsValue>): Counters {
  const out = {} as Counters;
  for (const [name, index] of Object.entries(Reason) as [ReasonName, number][]) {
    if (index >= REASON_MAX) continue;
    const perCpu = metrics.getPerCpu(index) ?? [];
    let packets = 0n;
    let bytes = 0n;
    for (const v of perCpu) {
      packets += v.packets;
      bytes += v.bytes;
    }
    out[name] = { packets: Number(packets), bytes: Number(bytes) };
  }
  return out;
}

/** What changed between two readings (after - before), per reason. */
export function diffCounters(after: Counters, before: Counters): Counters {
  const out = {} as Counters;
  for (const name of Object.keys(after) as ReasonName[]) {
    out[name] = { packets: after[name].packets - before[name].packets, bytes: after[name].bytes - before[name].bytes };
  }
  return out;
}
