// `flagella status` as text: the agent's /v1/status document as a short
// outline. Scalars become "Title: value" lines, lists of records aligned
// tables, nested records indented sections, so new fields the agent adds
// show up without a CLI change; durations and health get a friendlier form.
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

/** The status document as an indented outline ending in a newline. */
export function formatStatus(status: unknown): string {
  if (!isRecord(status)) return `${JSON.stringify(status)}\n`;
  return `${section(status, 0).join('\n')}\n`;
}
