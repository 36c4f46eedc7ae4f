// Per-CPU map values: the kernel returns one value per *possible* CPU (not online),
// each slot rounded up to 8 bytes.
import { readFileSync } from 'node:fs';

let possible: number | undefined;

/** Parses a CPU list such as `0-3,6,8-9` into the number of CPUs it names. */
export function countCpuList(list: string): number {
  let count = 0;
  for (const part of list.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new Error(`cannot parse CPU list '${list.trim()}'`);
    const first = Number(m[1]);
    const last = m[2] === undefined ? first : Number(m[2]);
    count += last - first + 1;
  }
  return count;
}

/** Number of possible CPUs (/sys/devices/system/cpu/possible), read once. */
export function possibleCpuCount(): number {
  possible ??= countCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return possible;
}

/** Size of one CPU's slot in a per-CPU value buffer. */
export function perCpuStride(valueSize: number): number {
  return (valueSize + 7) & ~7;
}
