// The TypeScript mirror of enum flg_reason must match the C header: counters
// and events are decoded by these values.
import { readFileSync } from 'node:fs';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { REASON_DROP_FIRST, REASON_MAX, Reason } from '../../datapath/index.js';

const header = readFileSync(new URL('../../bpf/include/flagella/events.h', import.meta.url), 'utf8');

function cEnum(name: string): Map<string, number> {
  const body = new RegExp(`enum ${name} \\{([\\s\\S]*?)\\};`).exec(header)?.[1];
  if (!body) throw new Error(`enum ${name} not found in events.h`);
  const out = new Map<string, number>();
  for (const m of body.matchAll(/^\s*(FLG_REASON_\w+)\s*=\s*(\d+)\s*,/gm)) out.set(m[1]!, Number(m[2]));
  return out;
}

test('every C reason has the same value in TypeScript, and no other exists', () => {
  const c = cEnum('flg_reason');
  const special = new Set(['FLG_REASON_DROP_FIRST', 'FLG_REASON_MAX']);
  const fromC = [...c].filter(([k]) => !special.has(k)).map(([k, v]) => [k.replace(/^FLG_REASON_/, ''), v]);
  assert.ok(fromC.length >= 10, 'parsed the enum');
  assert.equal(Object.fromEntries(fromC), { ...Reason });
  assert.is(c.get('FLG_REASON_DROP_FIRST'), REASON_DROP_FIRST);
  assert.is(c.get('FLG_REASON_MAX'), REASON_MAX);
});

test('reason values fit the counters map and drops come last', () => {
  for (const [name, value] of Object.entries(Reason)) {
    assert.ok(value < REASON_MAX, `${name} < REASON_MAX`);
    assert.is(name.startsWith('DROP_'), value >= REASON_DROP_FIRST, name);
  }
});

test.run();
