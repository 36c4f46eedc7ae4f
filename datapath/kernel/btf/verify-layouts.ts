// Load-time guard: the layouts compiled into the agent must match the BTF of the object
// actually being loaded, or map entries would be written with the wrong offsets.
import type { FieldLayout, LayoutSet, MapLayout, StructLayout } from './layout-types.js';
import { layoutsFromObject } from './object-model.js';

export class LayoutDriftError extends Error {
  override readonly name = 'LayoutDriftError';
  constructor(
    readonly objectPath: string,
    readonly differences: string[],
  ) {
    super(
      `layouts generated at build time do not match the BTF of ${objectPath} ` +
        `(${differences.length} difference${differences.length === 1 ? '' : 's'}); rebuild so scripts/gen-layouts.ts regenerates them:\n` +
        differences.map((d) => `  - ${d}`).join('\n'),
    );
  }
}

/**
 * Compares `expected` (the generated layoutSet) with the layouts in the BTF of the object
 * at objectPath and throws LayoutDriftError listing every difference. Maps' max_entries
 * are not compared: they are configured at load time.
 */
export function verifyLayouts(objectPath: string, expected: LayoutSet): void {
  const differences = diffLayouts(expected, layoutsFromObject(objectPath));
  if (differences.length > 0) throw new LayoutDriftError(objectPath, differences);
}

/** Differences between two layout sets, described field by field ("expected" → "actual"). */
export function diffLayouts(expected: LayoutSet, actual: LayoutSet): string[] {
  const out: string[] = [];
  for (const [name, want] of Object.entries(expected.structs)) {
    const got = actual.structs[name];
    if (!got) out.push(`struct ${name} is missing from the object`);
    else out.push(...diffStruct(want, got));
  }
  for (const [name, want] of Object.entries(expected.maps)) {
    const got = actual.maps[name];
    if (!got) out.push(`map ${name} is missing from the object`);
    else out.push(...diffMap(want, got));
  }
  return out;
}

function diffStruct(want: StructLayout, got: StructLayout): string[] {
  const out: string[] = [];
  const where = `${want.kind} ${want.name}`;
  if (want.kind !== got.kind) out.push(`${where}: is now a ${got.kind}`);
  if (want.size !== got.size) out.push(`${where}: size ${want.size} → ${got.size}`);
  const gotFields = new Map(got.fields.map((f) => [f.name, f]));
  for (const f of want.fields) {
    const g = gotFields.get(f.name);
    if (!g) {
      out.push(`${where}: field ${f.name} is gone`);
      continue;
    }
    for (const prop of ['offset', 'size', 'type', 'bitOffset', 'bitSize'] as const) {
      if (f[prop] !== g[prop]) out.push(`${where}: field ${f.name} ${prop} ${show(f, prop)} → ${show(g, prop)}`);
    }
  }
  const wantNames = new Set(want.fields.map((f) => f.name));
  for (const g of got.fields) if (!wantNames.has(g.name)) out.push(`${where}: new field ${g.name} (${g.type} at ${g.offset})`);
  return out;
}

function show(f: FieldLayout, prop: keyof FieldLayout): string {
  return f[prop] === undefined ? 'none' : String(f[prop]);
}

function diffMap(want: MapLayout, got: MapLayout): string[] {
  const out: string[] = [];
  for (const prop of ['type', 'keySize', 'valueSize', 'flags', 'pinning', 'keyType', 'valueType'] as const) {
    if (want[prop] !== got[prop]) out.push(`map ${want.name}: ${prop} ${String(want[prop])} → ${String(got[prop])}`);
  }
  if (want.inner && got.inner) out.push(...diffMap(want.inner, got.inner));
  else if (want.inner || got.inner) out.push(`map ${want.name}: inner map ${want.inner ? 'is gone' : 'appeared'}`);
  return out;
}
