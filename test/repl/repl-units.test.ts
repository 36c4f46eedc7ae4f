// The REPL's pure parts: splitting lines like a shell, the short forms,
// completion against the real command program, and the history file.
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { buildProgram } from '../../agent/index.js';
import type { CliContext } from '../../agent/index.js';
import { complete, expand, History, historyPath, quoteWord, resolveLine, splitLine } from '../../agent/repl/index.js';

const words = suite('repl: line splitting and short forms');

words('whitespace, quotes and escapes as a shell splits them', () => {
  assert.equal(splitLine('  show   frontends ').words, ['show', 'frontends']);
  assert.equal(splitLine(`get svc 'a b' "c \\"d\\"" e\\ f`).words, ['get', 'svc', 'a b', 'c "d"', 'e f']);
  assert.equal(splitLine(`list t ''`).words, ['list', 't', '']);
  assert.is(splitLine(`show 'open`).unterminated, true);
  assert.is(splitLine('show x').unterminated, false);
  assert.is(splitLine('show fr').lastWordStart, 5);
  assert.is(splitLine('show ').lastWordStart, 5);
  assert.is(quoteWord('default/web'), 'default/web');
  assert.is(quoteWord('a b'), `'a b'`);
  assert.is(quoteWord(`it's`), `'it'\\''s'`);
});

words('short forms expand to CLI words; exit, help and refused commands', () => {
  assert.equal(expand(['show', 'frontends', '-o', 'json']), ['db', 'show', 'frontends', '-o', 'json']);
  assert.equal(expand(['tables']), ['db', 'tables']);
  assert.equal(expand(['lb']), ['lb', 'dump']);
  assert.equal(expand(['policy', '-o', 'json']), ['policy', 'dump', '-o', 'json']);
  assert.equal(expand(['ct', 'list', '--kind', 'reply']), ['ct', 'list', '--kind', 'reply']);
  assert.equal(expand(['db', 'get', 'x', 'y']), ['db', 'get', 'x', 'y']);
  assert.equal(resolveLine([]), { kind: 'empty' });
  assert.equal(resolveLine(['quit']), { kind: 'exit' });
  assert.equal(resolveLine(['help', 'show']), { kind: 'help', topic: ['show'] });
  assert.is(resolveLine(['agent', '--once']).kind, 'refused');
  assert.is(resolveLine(['repl']).kind, 'refused');
});

words.run();

const completion = suite('repl: completion from the command program');

function ctx(): CliContext {
  return {
    out: { write: () => {}, closed: false },
    warn: () => {},
    source: () => Promise.reject(new Error('unused')),
    api: () => {
      throw new Error('unused');
    },
    signal: new AbortController().signal,
    settings: { bpfRoot: '/sys/fs/bpf/flagella', interactive: true },
  };
}
const program = buildProgram(ctx(), { stdout: process.stdout, stderr: process.stderr });
const tables = [
  { name: 'frontends', indexes: ['address', 'service'] },
  { name: 'backends', indexes: ['key', 'address'] },
];
const source = { program, tables: () => Promise.resolve(tables) };
const failing = { program, tables: () => Promise.reject(new Error('agent not running')) };

completion('first words, subcommands, tables, indexes, options and choices', async () => {
  assert.equal(await complete('', source), [['ct', 'db', 'exit', 'get', 'help', 'lb', 'list', 'lowerbound', 'monitor', 'policy', 'prefix', 'show', 'status', 'tables', 'watch'], '']);
  assert.equal(await complete('sh', source), [['show '], 'sh']);
  assert.equal(await complete('l', source), [['lb', 'list', 'lowerbound'], 'l']);
  assert.equal(await complete('db ', source), [['get', 'list', 'lowerbound', 'prefix', 'show', 'tables', 'watch'], '']);
  assert.equal(await complete('lb ', source), [['dump '], '']);
  assert.equal(await complete('show ', source), [['backends', 'frontends'], '']);
  assert.equal(await complete('db watch f', source), [['frontends '], 'f']);
  assert.equal(await complete('show frontends ', source), [[], ''], 'the table is given');
  assert.equal(await complete('list frontends x --index ', source), [['address', 'service'], '']);
  assert.equal(await complete('list frontends x -i s', source), [['service '], 's']);
  assert.equal(await complete('show frontends -o ', source), [['json', 'table', 'yaml'], '']);
  assert.equal(await complete('lb -o ', source), [['json', 'text'], '']);
  assert.equal(await complete('ct list --kind r', source), [['reply '], 'r']);
  assert.equal(await complete('show frontends --c', source), [['--columns '], '--c']);
  assert.equal(await complete('help w', source), [['watch '], 'w']);
  assert.equal(await complete('show ', failing), [[], ''], 'no tables when the agent does not answer');
});

completion.run();

const history = suite('repl: history file');

history('the path: --history-file, $FLAGELLA_HISTORY_FILE, $XDG_STATE_HOME, ~/.flagella_history', () => {
  assert.is(historyPath({}, '/x/h', '/home/u'), '/x/h');
  assert.is(historyPath({ FLAGELLA_HISTORY_FILE: '/e/h', XDG_STATE_HOME: '/s' }, undefined, '/home/u'), '/e/h');
  assert.is(historyPath({ XDG_STATE_HOME: '/s' }, undefined, '/home/u'), '/s/flagella/history');
  assert.is(historyPath({}, undefined, '/home/u'), '/home/u/.flagella_history');
});

history('appends lines (not blanks, not a repeat), loads newest first, trims past twice the size, reports a failure once', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flg-hist-'));
  try {
    const file = join(dir, 'sub', 'history');
    const warnings: string[] = [];
    const h = new History(file, (l) => warnings.push(l), 3);
    assert.equal(h.load(), []);
    for (const line of ['a', 'b', 'b', '  ', 'c']) h.add(line);
    assert.is(readFileSync(file, 'utf8'), 'a\nb\nc\n');
    assert.is(statSync(file).mode & 0o777, 0o600);
    assert.equal(new History(file, () => {}, 3).load(), ['c', 'b', 'a']);
    writeFileSync(file, ['1', '2', '3', '4', '5', '6', '7', ''].join('\n'));
    assert.equal(new History(file, () => {}, 3).load(), ['7', '6', '5']);
    assert.is(readFileSync(file, 'utf8'), '5\n6\n7\n', 'trimmed to the size');
    const bad = new History(join(file, 'not-a-dir', 'h'), (l) => warnings.push(l));
    bad.add('x');
    bad.add('y');
    assert.is(warnings.length, 1);
    assert.match(warnings[0]!, /history: cannot write .* \(history is kept for this session only\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

history.run();
