// `flagella lb dump`: every entry of the load-balancing maps, one line per
// entry, sorted as byte strings (the format, after Cilium's
// DumpLBMaps), or the same entries as objects for JSON.
import { formatHostPort, serviceFlagNames } from '../../tables/index.js';
import {
  AFFINITY_TIMEOUT_MASK,
  BACKEND_STATE_NAMES,
  LB_ALGORITHM_NAMES,
  LB_ALGORITHM_SHIFT,
  numberToIPv4,
  protocolOf,
  SCOPE_INTERNAL,
  type Lb4Key,
  type Lb4Service,
  type LBMaps,
} from './lb-maps.js';
import { sourceRangeCIDR } from './lb-state.js';
import { maglevOccupancy } from './maglev.js';

const L7_LOAD_BALANCER_BIT = 1 << 10;

/** One map entry, as `-o json` prints it. */
export type LBDumpEntry =
  | {
      readonly type: 'SVC';
      readonly id: number;
      readonly address: string;
      readonly slot: 0;
      readonly lbAlgorithm: string;
      readonly affinityTimeout: number;
      readonly l7ProxyPort?: number;
      readonly count: number;
      readonly qcount: number;
      readonly flags: readonly string[];
    }
  | {
      readonly type: 'SVC';
      readonly id: number;
      readonly address: string;
      readonly slot: number;
      readonly backendId: number;
      readonly count: number;
      readonly qcount: number;
      readonly flags: readonly string[];
    }
  | { readonly type: 'BE'; readonly id: number; readonly address: string; readonly state: string }
  | { readonly type: 'REV'; readonly id: number; readonly address: string }
  | { readonly type: 'AFF'; readonly id: number; readonly backendId: number }
  | { readonly type: 'SRCRANGE'; readonly id: number; readonly cidr: string }
  | { readonly type: 'MAGLEV'; readonly id: number; readonly inner: readonly { readonly backendId: number; readonly slots: number }[] };

/** An entry with its line. */
export interface LBDumpLine {
  readonly line: string;
  readonly entry: LBDumpEntry;
}

function protoName(num: number): string {
  return protocolOf(num) ?? `PROTO(${num})`;
}

function serviceLine(key: Lb4Key, value: Lb4Service): LBDumpLine {
  const address = `${formatHostPort(numberToIPv4(key.address), key.dport)}/${protoName(key.proto)}${key.scope === SCOPE_INTERNAL ? '/i' : ''}`;
  const bits = value.flags | (value.flags2 << 8);
  const flags = serviceFlagNames(bits, key.backendSlot !== 0);
  const head = `SVC: ID=${value.revNatIndex} ADDR=${address} SLOT=${key.backendSlot}`;
  const tail = `COUNT=${value.count} QCOUNT=${value.qcount} FLAGS=${flags.join('+')}`;
  if (key.backendSlot !== 0) {
    return {
      line: `${head} BEID=${value.backendId} ${tail}`,
      entry: { type: 'SVC', id: value.revNatIndex, address, slot: key.backendSlot, backendId: value.backendId, count: value.count, qcount: value.qcount, flags },
    };
  }
  if (bits & L7_LOAD_BALANCER_BIT) {
    return {
      line: `${head} L7Proxy=${value.backendId} ${tail}`,
      entry: { type: 'SVC', id: value.revNatIndex, address, slot: 0, lbAlgorithm: 'undef', affinityTimeout: 0, l7ProxyPort: value.backendId, count: value.count, qcount: value.qcount, flags },
    };
  }
  const algorithm = LB_ALGORITHM_NAMES[value.backendId >>> LB_ALGORITHM_SHIFT] ?? `ALG(${value.backendId >>> LB_ALGORITHM_SHIFT})`;
  const affinityTimeout = value.backendId & AFFINITY_TIMEOUT_MASK;
  return {
    line: `${head} LBALG=${algorithm} AFFTimeout=${affinityTimeout} ${tail}`,
    entry: { type: 'SVC', id: value.revNatIndex, address, slot: 0, lbAlgorithm: algorithm, affinityTimeout, count: value.count, qcount: value.qcount, flags },
  };
}

/** Every entry of the maps with its line, sorted by line (bytewise). Reads each map once. Throws the maps' read errors. */
export function dumpLBMaps(maps: LBMaps): LBDumpLine[] {
  const out: LBDumpLine[] = [];
  for (const [key, value] of maps.services.entries()) out.push(serviceLine(key, value));
  for (const [id, be] of maps.backends.entries()) {
    const address = `${formatHostPort(numberToIPv4(be.address), be.port)}/${protoName(be.proto)}`;
    const state = BACKEND_STATE_NAMES[be.flags] ?? `STATE(${be.flags})`;
    out.push({ line: `BE: ID=${id} ADDR=${address} STATE=${state}`, entry: { type: 'BE', id, address, state } });
  }
  for (const [id, rn] of maps.revNat.entries()) {
    const address = formatHostPort(numberToIPv4(rn.address), rn.port);
    out.push({ line: `REV: ID=${id} ADDR=${address}`, entry: { type: 'REV', id, address } });
  }
  for (const [key] of maps.affinityMatch.entries()) {
    out.push({ line: `AFF: ID=${key.revNatId} BEID=${key.backendId}`, entry: { type: 'AFF', id: key.revNatId, backendId: key.backendId } });
  }
  for (const [key] of maps.sourceRange.entries()) {
    const cidr = sourceRangeCIDR(key);
    out.push({ line: `SRCRANGE: ID=${key.revNatId} CIDR=${cidr}`, entry: { type: 'SRCRANGE', id: key.revNatId, cidr } });
  }
  for (const id of maps.maglev.ids()) {
    const table = maps.maglev.get(id);
    if (table === undefined) continue; // removed meanwhile
    const inner = maglevOccupancy(table).map((o) => ({ backendId: o.id, slots: o.count }));
    const text = inner.map((o) => `${o.backendId}(${o.slots})`).join(', ');
    out.push({ line: `MAGLEV: ID=${id} INNER=[${text}]`, entry: { type: 'MAGLEV', id, inner } });
  }
  return out.sort((a, b) => (a.line < b.line ? -1 : a.line > b.line ? 1 : 0));
}

/** The dump as text: one line per entry, each ending in a newline (empty maps: empty string). */
export function formatLBDump(maps: LBMaps): string {
  return dumpLBMaps(maps)
    .map((l) => `${l.line}\n`)
    .join('');
}
