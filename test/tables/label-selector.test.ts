// Label selectors: every operator, empty selectors, validation messages,
// and agreement with a naive interpreter of the raw API object.
import type { V1LabelSelector } from '@kubernetes/client-node';
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { FieldError, formatLabelSelector, parseLabelSelector, selectorMatches, selectsAll, type Labels } from '../../tables/index.js';

function matches(sel: V1LabelSelector | undefined, labels: Labels): boolean {
  return selectorMatches(parseLabelSelector(sel, 'sel'), labels);
}

const ops = suite('operators');
const web = { app: 'web', tier: 'front' };
const db = { app: 'db' };
const none = {};
const table: [string, V1LabelSelector | undefined, [Labels, boolean][]][] = [
  ['undefined selects all', undefined, [[web, true], [none, true]]],
  ['{} selects all', {}, [[web, true], [none, true]]],
  ['matchLabels', { matchLabels: { app: 'web' } }, [[web, true], [db, false], [none, false]]],
  ['matchLabels, two keys', { matchLabels: { app: 'web', tier: 'front' } }, [[web, true], [{ app: 'web' }, false]]],
  ['In', { matchExpressions: [{ key: 'app', operator: 'In', values: ['web', 'api'] }] }, [[web, true], [{ app: 'api' }, true], [db, false], [none, false]]],
  ['NotIn matches a missing key', { matchExpressions: [{ key: 'app', operator: 'NotIn', values: ['db'] }] }, [[web, true], [db, false], [none, true]]],
  ['Exists', { matchExpressions: [{ key: 'tier', operator: 'Exists' }] }, [[web, true], [db, false], [{ tier: '' }, true]]],
  ['DoesNotExist', { matchExpressions: [{ key: 'tier', operator: 'DoesNotExist' }] }, [[web, false], [db, true], [none, true]]],
  [
    'labels and expressions are ANDed',
    { matchLabels: { app: 'web' }, matchExpressions: [{ key: 'tier', operator: 'NotIn', values: ['back'] }] },
    [[web, true], [{ app: 'web', tier: 'back' }, false], [db, false]],
  ],
  ['empty value', { matchLabels: { flag: '' } }, [[{ flag: '' }, true], [{ flag: 'x' }, false], [none, false]]],
];
for (const [what, sel, cases] of table) {
  ops(what, () => {
    for (const [labels, expected] of cases) assert.is(matches(sel, labels), expected, `${JSON.stringify(labels)}`);
  });
}
ops('prototype keys are labels like any other', () => {
  assert.is(matches({ matchExpressions: [{ key: 'constructor', operator: 'Exists' }] }, {}), false);
  assert.is(matches({ matchExpressions: [{ key: 'toString', operator: 'DoesNotExist' }] }, {}), true);
});
ops('selectsAll and text form', () => {
  assert.ok(selectsAll(parseLabelSelector({}, 's')));
  assert.not.ok(selectsAll(parseLabelSelector({ matchLabels: { a: 'b' } }, 's')));
  const sel = parseLabelSelector(
    {
      matchLabels: { app: 'web' },
      matchExpressions: [
        { key: 'tier', operator: 'In', values: ['b', 'a', 'a'] },
        { key: 'legacy', operator: 'DoesNotExist' },
        { key: 'env', operator: 'Exists' },
        { key: 'zone', operator: 'NotIn', values: ['x'] },
      ],
    },
    's',
  );
  assert.is(formatLabelSelector(sel), 'app=web,env,!legacy,tier in (a,b),zone notin (x)');
  assert.is(formatLabelSelector(parseLabelSelector(undefined, 's')), '<all>');
});

const errors = suite('validation');
const bad: [V1LabelSelector, string][] = [
  [{ matchExpressions: [{ key: 'app', operator: 'Equals', values: ['x'] }] }, 'spec.podSelector.matchExpressions[0].operator: must be In, NotIn, Exists or DoesNotExist (got "Equals")'],
  [{ matchExpressions: [{ key: 'app', operator: 'In', values: [] }] }, 'spec.podSelector.matchExpressions[0].values: must not be empty for operator In'],
  [{ matchExpressions: [{ key: 'app', operator: 'NotIn' }] }, 'spec.podSelector.matchExpressions[0].values: must not be empty for operator NotIn'],
  [{ matchExpressions: [{ key: 'app', operator: 'Exists', values: ['x'] }] }, 'spec.podSelector.matchExpressions[0].values: must be empty for operator Exists (got ["x"])'],
  [{ matchExpressions: [{ key: 'bad key!', operator: 'Exists' }] }, 'spec.podSelector.matchExpressions[0].key: is not a valid label key (got "bad key!")'],
  [{ matchExpressions: [{ key: 'a', operator: 'In', values: ['ok', '-bad'] }] }, 'spec.podSelector.matchExpressions[0].values[1]: is not a valid label value (got "-bad")'],
  [{ matchLabels: { app: 'x'.repeat(64) } }, `spec.podSelector.matchLabels["app"]: is not a valid label value (got "${'x'.repeat(64)}")`],
  [{ matchLabels: { 'Example.com/app': 'x' } }, 'spec.podSelector.matchLabels["Example.com/app"]: is not a valid label key (got "Example.com/app")'],
];
for (const [sel, message] of bad) {
  errors(message.slice(0, 70), () => {
    try {
      parseLabelSelector(sel, 'spec.podSelector');
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, FieldError);
      assert.is((err as Error).message, message);
    }
  });
}
errors('valid keys with prefixes', () => {
  for (const key of ['app', 'app.kubernetes.io/name', 'example.com/a_b.c-d', 'A9']) {
    assert.ok(matches({ matchExpressions: [{ key, operator: 'DoesNotExist' }] }, {}), key);
  }
});

/** The raw API semantics, read directly off the object. */
function naive(sel: V1LabelSelector, labels: Labels): boolean {
  for (const [k, v] of Object.entries(sel.matchLabels ?? {})) if (labels[k] !== v || !(k in labels)) return false;
  for (const e of sel.matchExpressions ?? []) {
    const has = Object.prototype.hasOwnProperty.call(labels, e.key);
    const vals = e.values ?? [];
    if (e.operator === 'In' && !(has && vals.includes(labels[e.key]!))) return false;
    if (e.operator === 'NotIn' && has && vals.includes(labels[e.key]!)) return false;
    if (e.operator === 'Exists' && !has) return false;
    if (e.operator === 'DoesNotExist' && has) return false;
  }
  return true;
}

const props = suite('properties');
props('agrees with a naive interpreter', () => {
  const key = fc.constantFrom('a', 'b', 'c', 'd');
  const value = fc.constantFrom('', 'x', 'y', 'z');
  const labels = fc.dictionary(key, value, { maxKeys: 4 });
  const expr = fc.oneof(
    fc.record({ key, operator: fc.constantFrom('In', 'NotIn'), values: fc.array(value, { minLength: 1, maxLength: 3 }) }),
    fc.record({ key, operator: fc.constantFrom('Exists', 'DoesNotExist') }),
  );
  const selector = fc.record({ matchLabels: fc.dictionary(key, value, { maxKeys: 2 }), matchExpressions: fc.array(expr, { maxLength: 3 }) });
  fc.assert(
    fc.property(selector, fc.array(labels, { minLength: 1, maxLength: 8 }), (sel, labelSets) => {
      const parsed = parseLabelSelector(sel, 's');
      for (const l of labelSets) assert.is(selectorMatches(parsed, l), naive(sel, l));
    }),
    { numRuns: 2000 },
  );
});
props('parsed selectors are plain JSON and re-match after a round trip', () => {
  const sel = parseLabelSelector({ matchLabels: { a: 'x' }, matchExpressions: [{ key: 'b', operator: 'NotIn', values: ['y'] }] }, 's');
  const copy = JSON.parse(JSON.stringify(sel)) as typeof sel;
  assert.equal(copy, sel);
  assert.is(selectorMatches(copy, { a: 'x', b: 'z' }), true);
  assert.is(selectorMatches(copy, { a: 'x', b: 'y' }), false);
});

ops.run();
errors.run();
props.run();
