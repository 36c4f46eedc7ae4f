import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { formatProblem, parseObjectFile } from '../../agent/index.js';

const doc = (kind: string, name: string, extra = '') =>
  `apiVersion: ${kind === 'EndpointSlice' ? 'discovery.k8s.io/v1' : kind === 'NetworkPolicy' ? 'networking.k8s.io/v1' : 'v1'}\nkind: ${kind}\nmetadata:\n  name: ${name}\n${extra}`;

test('multi-document files give every object with its line; empty documents and comments are skipped', () => {
  const text = ['# services', doc('Service', 'a'), '---', '# nothing here', '---', doc('NetworkPolicy', 'deny', '  namespace: prod\n'), '---', doc('Node', 'n1')].join('\n');
  const parsed = parseObjectFile('svc.yaml', text);
  assert.equal(parsed.problems, []);
  assert.equal(parsed.objects.map((o) => [o.key, o.line]), [
    ['Service/default/a', 2],
    ['NetworkPolicy/prod/deny', 10],
    ['Node//n1', 17],
  ]);
});

test('namespaced objects default to namespace "default"; cluster-scoped ones lose a namespace', () => {
  const parsed = parseObjectFile('f.yaml', `${doc('Pod', 'p')}---\n${doc('Namespace', 'ns', '  namespace: oops\n')}`);
  assert.is(parsed.objects[0]!.object.metadata?.namespace, 'default');
  assert.is(parsed.objects[1]!.object.metadata?.namespace, undefined);
  assert.is(parsed.objects[1]!.key, 'Namespace//ns');
});

test('a YAML syntax error is reported with file, line and column', () => {
  const text = `${doc('Service', 'a')}---\napiVersion: v1\nkind: Service\nmetadata:\n  name: [b\n  x: 1\n`;
  const parsed = parseObjectFile('broken.yaml', text);
  assert.ok(parsed.problems.length >= 1);
  const p = parsed.problems[0]!;
  assert.is(p.kind, 'parse');
  assert.is(p.file, 'broken.yaml');
  assert.ok(p.line !== undefined && p.line >= 9 && p.line <= 10, `line ${p.line}`);
  assert.match(formatProblem(p), /^broken\.yaml:\d+:\d+: /);
});

test('objects missing kind, apiVersion or name, or with a wrong apiVersion, are errors at their line', () => {
  const cases: [string, RegExp, number][] = [
    ['apiVersion: v1\nmetadata:\n  name: a\n', /without kind/, 1],
    ['kind: Service\nmetadata:\n  name: a\n', /Service without apiVersion/, 1],
    ['apiVersion: v1\nkind: Service\nmetadata: {}\n', /without metadata\.name/, 1],
    ['apiVersion: v1\nkind: Service\n', /without metadata$/, 1],
    ['apiVersion: v2\nkind: Service\nmetadata:\n  name: a\n', /must have apiVersion v1 \(got v2\)/, 1],
    ['- a\n- b\n', /must be a mapping/, 1],
    ['\n\n---\napiVersion: v1\nkind: Pod\nmetadata:\n  name: 7\n', /Pod without metadata\.name/, 4],
  ];
  for (const [text, message, line] of cases) {
    const { problems, objects } = parseObjectFile('bad.yaml', text);
    assert.is(objects.length, 0, text);
    assert.is(problems.length, 1, text);
    assert.match(problems[0]!.message, message);
    assert.is(problems[0]!.line, line, text);
  }
});

test('duplicate keys in a mapping are a parse error', () => {
  const { problems } = parseObjectFile('dup.yaml', 'apiVersion: v1\nkind: Service\nkind: Pod\nmetadata:\n  name: a\n');
  assert.is(problems.length, 1);
  assert.match(problems[0]!.message, /unique/);
});

test('unsupported kinds are skipped with a note, not an error', () => {
  const parsed = parseObjectFile('mixed.yaml', `apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n---\n${doc('Service', 'a')}`);
  assert.equal(parsed.problems, []);
  assert.is(parsed.objects.length, 1);
  assert.is(parsed.skipped.length, 1);
  assert.match(parsed.skipped[0]!.message, /apps\/v1 Deployment is not read/);
});

test('a v1 List expands into its items, each with its own line', () => {
  const text = 'apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n  metadata: {name: a}\n- apiVersion: v1\n  kind: Service\n  metadata: {name: b}\n';
  const parsed = parseObjectFile('list.yaml', text);
  assert.equal(parsed.problems, []);
  assert.equal(parsed.objects.map((o) => [o.object.metadata?.name, o.line]), [['a', 4], ['b', 7]]);
});

test('alias bombs are refused rather than expanded', () => {
  const lines = ['a: &a [x, x, x, x, x, x, x, x, x, x]'];
  for (let i = 0; i < 8; i++) lines.push(`${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [*${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}, *${String.fromCharCode(97 + i)}]`);
  const { problems, objects } = parseObjectFile('bomb.yaml', lines.join('\n'));
  assert.is(objects.length, 0);
  assert.is(problems.length, 1);
});

test('an empty file has no objects and no problems', () => {
  assert.equal(parseObjectFile('e.yaml', ''), { objects: [], problems: [], skipped: [] });
  assert.equal(parseObjectFile('e.yaml', '# just a comment\n').objects, []);
});

test.run();
