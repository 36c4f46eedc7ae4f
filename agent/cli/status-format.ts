// `flagella status` as text. The agent's /v1/status document (see
// agent/runtime/agent-status.ts) as a short summary: who and how long, health,
// sources, rejected objects, reconcilers, datapath (devices, the non-zero
// packet counters, map entries), tables. A document of another shape (an
// agent of another version) falls back to a generic outline: scalars as
// "Title: value", lists of records as tables, nested records indented.
import { renderTable } from '../../statedb/index.js';

type Json = null | boolean | number | string | Json[] | { [k: string]: Json };

const isRecord = (v: unknown): v is Record<string, Json> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** "nodeName" -> "Node name", "pendingCount" -> "Pending count". */
export function titleOf(key: string): string {
  const words = key
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_-]+/g, ' ')
    .trim()
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

/** 3725 -> "1h2m5s". */
export function durationText(seconds: number): string {
  let s = Math.max(0, Math.floor(seconds));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  return `${d > 0 ? `${d}d` : ''}${d + h > 0 ? `${h}h` : ''}${d + h + m > 0 ? `${m}m` : ''}${s}s`;
}

function scalarText(key: string, v: null | boolean | number | string): string {
  if (v === null) return '-';
  if (typeof v === 'boolean') return v ? 'yes' : 'no';
  if (typeof v === 'number' && /uptime|duration|age/i.test(key)) {
    if (/ms$/i.test(key)) return durationText(v / 1000);
    return durationText(v);
  }
  return typeof v === 'number' ? String(v) : v;
}

// A cell: scalars as text, small records as k=v, lists joined.
function cellText(key: string, v: Json): string {
  if (Array.isArray(v)) return v.length === 0 ? '-' : v.map((x) => cellText(key, x)).join(', ');
  if (isRecord(v)) {
    const parts = Object.entries(v).map(([k, x]) => `${k}=${cellText(k, x)}`);
    return parts.length === 0 ? '-' : parts.join(' ');
  }
  return scalarText(key, v);
}

function tableOf(rows: Record<string, Json>[]): string {
  const keys: string[] = [];
  for (const r of rows) for (const k of Object.keys(r)) if (!keys.includes(k)) keys.push(k);
  return renderTable({ header: keys.map(titleOf), rows: rows.map((r) => keys.map((k) => (k in r ? cellText(k, r[k]!) : ''))) });
}

function indentLines(text: string, by: string): string[] {
  return text
    .trimEnd()
    .split('\n')
    .map((l) => `${by}${l}`);
}

function section(record: Record<string, Json>, depth: number): string[] {
  const pad = '  '.repeat(depth);
  const scalars = Object.entries(record).filter(([, v]) => !isRecord(v) && !(Array.isArray(v) && v.some(isRecord)));
  const width = Math.max(0, ...scalars.map(([k]) => titleOf(k).length + 1));
  const out: string[] = [];
  for (const [k, v] of Object.entries(record)) {
    if (Array.isArray(v) && v.some(isRecord)) {
      out.push(`${pad}${titleOf(k)}:`);
      out.push(...indentLines(tableOf(v.filter(isRecord)), `${pad}  `));
    } else if (isRecord(v)) {
      if (Object.keys(v).length === 0) {
        out.push(`${pad}${`${titleOf(k)}:`.padEnd(width + 1)} -`);
        continue;
      }
      // A record of records (e.g. counters by name) reads best as a table.
      const values = Object.values(v);
      if (values.every(isRecord) && values.length > 0) {
        out.push(`${pad}${titleOf(k)}:`);
        out.push(...indentLines(tableOf(Object.entries(v).map(([name, r]) => ({ name, ...(r as Record<string, Json>) }))), `${pad}  `));
      } else {
        out.push(`${pad}${titleOf(k)}:`);
        out.push(...section(v, depth + 1));
      }
    } else {
      out.push(`${pad}${`${titleOf(k)}:`.padEnd(width + 1)} ${cellText(k, v)}`);
    }
  }
  return out;
}

/** The status document as a generic indented outline ending in a newline. */
export function formatOutline(status: unknown): string {
  if (!isRecord(status)) return `${JSON.stringify(status)}\n`;
  return `${section(status, 0).join('\n')}\n`;
}

interface AgentStatusDoc {
  version: string;
  nodeName: string;
  startedAt: string;
  uptimeSeconds: number;
  health: { status: string; problems: string[] };
  nodeAddresses: { ip: string; primary: boolean; device: string }[];
  sources: { name: string; health: string; synced: boolean; problems: string[]; counters: { changesApplied?: number; objectErrors?: number } }[];
  rejectedObjects: { source: string; object: string; error: string }[];
  reconcilers: { name: string; table: string; health: string; message: string; objects: number; pending: number; errored: number }[];
  datapath: { pinRoot: string; devices: { device: string; hook: string }[]; counters: Record<string, { packets: number; bytes: number }>; mapEntries: Record<string, number> };
  tables: { name: string; objects: number; initialized: boolean; pendingInitializers: string[] }[];
}

function looksLikeAgentStatus(doc: unknown): doc is AgentStatusDoc {
  if (!isRecord(doc)) return false;
  const d = doc as Record<string, unknown>;
  return (
    typeof d.version === 'string' &&
    isRecord(d.health) &&
    Array.isArray(d.sources) &&
    Array.isArray(d.reconcilers) &&
    Array.isArray(d.rejectedObjects) &&
    Array.isArray(d.tables) &&
    isRecord(d.datapath) &&
    Array.isArray((d.datapath as Record<string, unknown>).devices) &&
    isRecord((d.datapath as Record<string, unknown>).counters)
  );
}

/** 1536 -> "1.5 KiB". */
export function bytesText(n: number): string {
  if (n < 1024) return `${n} B`;
  const units = ['KiB', 'MiB', 'GiB', 'TiB'];
  let v = n / 1024;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(1)} ${units[i]}`;
}

const list = (items: readonly string[], none = 'none'): string => (items.length === 0 ? none : items.join(', '));

function summary(d: AgentStatusDoc): string[] {
  const out: string[] = [];
  const field = (title: string, value: string) => out.push(`${`${title}:`.padEnd(14)}${value}`);
  const block = (title: string, text: string) => {
    out.push(`${title}:`);
    out.push(...indentLines(text, '  '));
  };
  field('Agent', `flagella ${d.version} on node ${d.nodeName}, up ${durationText(d.uptimeSeconds)} (since ${d.startedAt})`);
  field('Health', d.health.problems.length === 0 ? d.health.status : `${d.health.status}: ${d.health.problems.join('; ')}`);
  field('Node IPs', list(d.nodeAddresses.map((a) => `${a.ip} (${a.device}${a.primary ? ', primary' : ''})`)));
  block(
    'Sources',
    renderTable({
      header: ['Name', 'Health', 'Synced', 'Changes', 'Errors', 'Problems'],
      rows: d.sources.map((s) => [s.name, s.health, s.synced ? 'yes' : 'no', String(s.counters.changesApplied ?? 0), String(s.counters.objectErrors ?? 0), list(s.problems, '-')]),
    }),
  );
  if (d.rejectedObjects.length === 0) field('Rejected', 'none');
  else block('Rejected objects', renderTable({ header: ['Source', 'Object', 'Error'], rows: d.rejectedObjects.map((r) => [r.source, r.object, r.error]) }));
  block(
    'Reconcilers',
    renderTable({
      header: ['Name', 'Table', 'Health', 'Objects', 'Pending', 'Errored', 'Message'],
      rows: d.reconcilers.map((r) => [r.name, r.table, r.health, String(r.objects), String(r.pending), String(r.errored), r.message]),
    }),
  );
  const devices = new Map<string, string[]>();
  for (const dev of d.datapath.devices) devices.set(dev.device, [...(devices.get(dev.device) ?? []), dev.hook]);
  out.push('Datapath:');
  out.push(`  ${'Pin root:'.padEnd(14)}${d.datapath.pinRoot}`);
  out.push(`  ${'Devices:'.padEnd(14)}${list([...devices].map(([dev, hooks]) => `${dev} (${hooks.join(', ')})`), 'none (maps are written, nothing is attached)')}`);
  const counters = Object.entries(d.datapath.counters).filter(([, c]) => c.packets > 0);
  out.push(`  ${'Packets:'.padEnd(14)}${list(counters.map(([reason, c]) => `${reason} ${c.packets} (${bytesText(c.bytes)})`), 'none counted yet')}`);
  if (isRecord(d.datapath.mapEntries)) {
    out.push(`  ${'Map entries:'.padEnd(14)}${list(Object.entries(d.datapath.mapEntries).map(([m, n]) => `${m} ${n}`))}`);
  }
  const objects = d.tables.reduce((n, t) => n + t.objects, 0);
  const waiting = d.tables.filter((t) => !t.initialized).map((t) => `${t.name} (waiting for ${list(t.pendingInitializers, '?')})`);
  field('Tables', `${d.tables.length} tables, ${objects} objects; ${waiting.length === 0 ? 'all initialized' : `not initialized: ${waiting.join(', ')}`}`);
  return out;
}

/** The status document as text: the summary for the agent's status shape, else the generic outline. Ends in a newline. */
export function formatStatus(status: unknown): string {
  if (!looksLikeAgentStatus(status)) return formatOutline(status);
  return `${summary(status).join('\n')}\n`;
}
