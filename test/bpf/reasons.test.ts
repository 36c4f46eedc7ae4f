// TypeScript mirrors of C definitions the layout generator does not cover
// (it generates map keys and values): enum flg_reason and struct flg_event.
// Both are compared with the BTF of the compiled object, so a change on one
// side that is not made on the other fails here.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { EVENT_FIELDS, EVENT_SIZE, REASON_DROP_FIRST, REASON_MAX, Reason } from '../../datapath/index.js';
import { enumValues, objectBtf, structMembers } from '../support/object-btf.js';

const btf = objectBtf();

test('every C reason has the same value in TypeScript, and no other exists', () => {
  const c = enumValues(btf, 'flg_reason');
  const special = new Set(['FLG_REASON_DROP_FIRST', 'FLG_REASON_MAX']);
  const fromC = [...c].filter(([k]) => !special.has(k)).map(([k, v]) => [k.replace(/^FLG_REASON_/, ''), v]);
  assert.ok(fromC.length >= 10, 'read the enum from BTF');
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

test('the event decoder reads struct flg_event at the offsets clang laid out', () => {
  const members = structMembers(btf, 'flg_event');
  assert.equal(Object.fromEntries(members), Object.fromEntries(Object.entries(EVENT_FIELDS).map(([k, v]) => [k, [...v]])));
  const size = btf.find((t) => t.name === 'flg_event' && t.members)?.sizeOrType;
  assert.is(size, EVENT_SIZE);
});

test.run();
