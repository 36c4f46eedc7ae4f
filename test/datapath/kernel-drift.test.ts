// Layout drift: when a C struct changes (a field moves, changes size or is renamed)
// and the TypeScript side is not regenerated, the mismatch is caught: the generated
// layouts differ in exactly the affected fields, TypeScript using a renamed field no
// longer compiles, and verifyLayouts refuses to load the changed object.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfObject, diffLayouts, LayoutDriftError, layoutsFromObject, verifyLayouts } from '../../datapath/index.js';
import { compileBpf, generateInto, scratchDir, tempPinRoot, typecheck } from './fixtures/kernel-fixtures.js';

const base = compileBpf('kernel-fixture.c');
const moved = compileBpf('kernel-fixture.c', { FLG_DRIFT: 1 });
const resized = compileBpf('kernel-fixture.c', { FLG_DRIFT: 2 });
const renamed = compileBpf('kernel-fixture.c', { FLG_DRIFT: 3 });
const baseLayouts = layoutsFromObject(base);

/** Lines of generated source that differ between two files (by position-independent set difference). */
function changedLines(a: string, b: string): { removed: string[]; added: string[] } {
  const left = a.split('\n');
  const right = b.split('\n');
  const rightSet = new Set(right);
  const leftSet = new Set(left);
  return { removed: left.filter((l) => !rightSet.has(l)), added: right.filter((l) => !leftSet.has(l)) };
}

const drift = suite('kernel layouts: drift between C and TypeScript');

drift('an unchanged object has no differences and verifies', () => {
  assert.equal(diffLayouts(baseLayouts, layoutsFromObject(base)), []);
  verifyLayouts(base, baseLayouts);
});

drift('a moved field: the difference names the field (and the one it swapped with)', () => {
  assert.equal(diffLayouts(baseLayouts, layoutsFromObject(moved)), [
    'struct fx_service: field count offset 4 → 6',
    'struct fx_service: field rev_nat_index offset 6 → 4',
  ]);
});

drift('a resized field: the difference names its size and what it pushed along', () => {
  assert.equal(diffLayouts(baseLayouts, layoutsFromObject(resized)), [
    'struct fx_backend: size 12 → 16',
    'struct fx_backend: field cluster_id size 2 → 4',
    'struct fx_backend: field cluster_id type __u16 → __u32',
    'struct fx_backend: field zone offset 10 → 12',
    'struct fx_backend: field pad offset 11 → 13',
    // fx_entry embeds fx_backend[2]: the change propagates, and the diff says so
    'struct fx_entry: size 80 → 88',
    'struct fx_entry: field last size 24 → 32',
    'struct fx_entry: field client offset 72 → 80',
    'map fx_backends: valueSize 12 → 16',
    'map fx_ct: valueSize 80 → 88',
  ]);
});

drift('a renamed field: exactly that field differs, in the layouts and in the generated TypeScript', () => {
  assert.equal(diffLayouts(baseLayouts, layoutsFromObject(renamed)), [
    'struct fx_key: field backend_slot is gone',
    'struct fx_key: new field slot (__u16 at 6)',
  ]);
  const before = readFileSync(generateInto(base, scratchDir('drift-a')), 'utf8');
  const after = readFileSync(generateInto(renamed, scratchDir('drift-b')), 'utf8');
  const { removed, added } = changedLines(before, after);
  assert.ok(removed.length > 0 && added.length > 0);
  for (const line of removed) assert.match(line, /backend_?[sS]lot/, `only backend_slot lines change: ${line}`);
  for (const line of added) assert.match(line, /\bslot\b/, `only slot lines change: ${line}`);
});

drift('TypeScript still using the old field name fails tsc against the regenerated layouts', () => {
  const dir = scratchDir('probe');
  const probe = [
    "import { FxKeyCodec, type FxKey } from './layouts.generated.js';",
    'const key: FxKey = { address: 0x0a60000a, dport: 80, backendSlot: 1, proto: 6, scope: 0 };',
    'FxKeyCodec.encode(key, Buffer.alloc(FxKeyCodec.size), 0);',
    'export const slot: number = FxKeyCodec.decode(Buffer.alloc(12), 0).backendSlot;',
    '',
  ].join('\n');
  writeFileSync(join(dir, 'probe.ts'), probe);
  generateInto(base, dir);
  const ok = typecheck(dir, ['probe.ts']);
  assert.is(ok.status, 0, `the probe compiles against the matching layouts:\n${ok.output}`);
  generateInto(renamed, dir);
  const broken = typecheck(dir, ['probe.ts']);
  assert.is.not(broken.status, 0, 'the probe must not compile after the rename');
  assert.match(broken.output, /probe\.ts\(2,\d+\): error TS2353: .*'backendSlot' does not exist in type 'FxKey'/);
  assert.match(broken.output, /probe\.ts\(4,\d+\): error TS2339: Property 'backendSlot' does not exist/);
});

drift('verifyLayouts refuses an object whose structs drifted, listing every difference', () => {
  for (const [object, expected] of [
    [moved, /struct fx_service: field count offset 4 → 6/],
    [resized, /struct fx_backend: field cluster_id size 2 → 4/],
    [renamed, /struct fx_key: field backend_slot is gone/],
  ] as const) {
    try {
      verifyLayouts(object, baseLayouts);
      assert.unreachable(`${object} must not verify`);
    } catch (err) {
      assert.instance(err, LayoutDriftError);
      const e = err as LayoutDriftError;
      assert.match(e.message, /^layouts generated at build time do not match the BTF of .*; rebuild so scripts\/gen-layouts\.ts regenerates them:/);
      assert.match(e.message, expected);
      assert.ok(e.differences.length > 0);
    }
  }
});

drift('BpfObject.load with the generated layouts refuses a drifted object before creating anything', () => {
  const pinRoot = tempPinRoot();
  assert.throws(() => BpfObject.load(resized, { pinRoot, layouts: baseLayouts }), (e: unknown) => e instanceof LayoutDriftError);
  BpfObject.load(base, { pinRoot, layouts: baseLayouts }).close();
});

drift('a map missing from the object is drift too', () => {
  const expected = structuredClone(baseLayouts);
  expected.maps.fx_extra = { ...expected.maps.fx_ct!, name: 'fx_extra' };
  assert.equal(diffLayouts(expected, layoutsFromObject(base)), ['map fx_extra is missing from the object']);
});

drift.run();
