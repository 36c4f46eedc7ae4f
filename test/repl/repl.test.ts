// `flagella repl` driven through a pseudo-terminal (tmux): commands and
// their output, Tab completion of commands, tables, options and index
// names, Ctrl-C stopping a watch but not the shell, history kept across
// sessions in $XDG_STATE_HOME, and exit. The data source is the in-process
// demo database (--local); the commands themselves are tested against an
// agent in test/cli.
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BIN } from '../cli/cli-support.js';
import { TmuxSession } from './tmux-session.js';

const home = mkdtempSync(join(tmpdir(), 'flg-repl-'));
const env = { HOME: home, XDG_STATE_HOME: join(home, 'state'), FLAGELLA_BPF_ROOT: join(home, 'no-datapath') };
const historyFile = join(home, 'state', 'flagella', 'history');
const command = `${process.execPath} ${BIN} --local --demo-activity-ms 100 repl`;

/** The prompt at the end of the screen: the REPL waits for input. */
const PROMPT = /flagella>\s*$/;

async function withRepl(fn: (t: TmuxSession) => Promise<void>): Promise<void> {
  const t = new TmuxSession(command, env);
  try {
    await t.waitFor(PROMPT);
    await fn(t);
  } finally {
    t.kill();
  }
}

/** The lines printed since the last `flagella> <line>` echo of `line`. */
function after(screen: string, line: string): string {
  const at = screen.lastIndexOf(`flagella> ${line}`);
  assert.ok(at >= 0, `"${line}" not on the screen:\n${screen}`);
  return screen.slice(at + `flagella> ${line}`.length + 1);
}

// readline treats several keys arriving together as a paste (no completion):
// every Tab is sent on its own.
const repl = suite('flagella repl in a terminal');

repl.after(() => rmSync(home, { recursive: true, force: true }));

repl('commands, short forms, errors that leave the shell running, help', async () => {
  await withRepl(async (t) => {
    const banner = t.screen();
    assert.match(banner, /^flagella \d+\.\d+\.\d+ REPL on the local demo database\. Type "help"/);
    t.send('tables', 'Enter');
    let s = await t.waitFor(/frontends\s+6\s+6[^\n]*\nflagella>\s*$/);
    assert.match(after(s, 'tables'), /^Name\s+Objects\s+Revision\s+Indexes/);
    t.send('get services kube-system/kube-dns -o json', 'Enter');
    await t.waitFor(/"clusterIP": "10\.96\.0\.10"[\s\S]*flagella>\s*$/);
    t.send('db list frontends default/web --index service --columns address', 'Enter');
    s = await t.waitFor(/192\.168\.1\.10:30080\/TCP\nflagella>\s*$/);
    assert.is(after(s, 'db list frontends default/web --index service --columns address').trimEnd(), 'Address\n10.96.0.20:443/TCP\n10.96.0.20:80/TCP\n192.168.1.10:30080/TCP\nflagella>');
    t.send('bogus', 'Enter');
    await t.waitFor(/unknown command "bogus" \(type help for the commands\)\nflagella>\s*$/);
    t.send('show nope', 'Enter');
    await t.waitFor(/table "nope" not found[^\n]*\nflagella>\s*$/);
    t.send('lb', 'Enter');
    await t.waitFor(/no load-balancing maps under [^\n]*no-datapath[\s\S]*flagella>\s*$/);
    t.send('repl', 'Enter');
    await t.waitFor(/repl: already in the REPL\nflagella>\s*$/);
    t.send('help', 'Enter');
    s = await t.waitFor(/Ctrl-C stops the running command[^\n]*\nflagella>\s*$/);
    assert.match(after(s, 'help'), /^Commands \(each is also a flagella command line/);
    t.send('help watch', 'Enter');
    await t.waitFor(/Usage: flagella db watch \[options\] <table>[\s\S]*flagella>\s*$/);
    t.send("show 'fron", 'Enter');
    await t.waitFor(/unterminated quote\nflagella>\s*$/);
  });
});

repl('Tab completes commands, table names, options, option values and index names', async () => {
  await withRepl(async (t) => {
    t.type('sh');
    t.send('Tab');
    await t.waitFor(/flagella> show$/m);
    t.type('fr');
    t.send('Tab');
    await t.waitFor(/flagella> show frontends$/m);
    t.type('-o ');
    await t.doubleTab();
    await t.waitFor(/json\s+table\s+yaml/);
    t.type('y');
    t.send('Tab');
    await t.waitFor(/flagella> show frontends -o yaml$/m);
    t.send('Enter');
    // The completed line runs: YAML documents.
    await t.waitFor(/\naddress: 192\.168\.1\.10:30080\/TCP\n[\s\S]*flagella>\s*$/);
    t.type('list frontends default/web --i');
    t.send('Tab');
    await t.waitFor(/flagella> list frontends default\/web --index$/m);
    await t.doubleTab();
    await t.waitFor(/\naddress\s+service\n/);
    t.type('se');
    t.send('Tab');
    await t.waitFor(/flagella> list frontends default\/web --index service$/m);
    t.send('Enter');
    const s = await t.waitFor(/192\.168\.1\.10:30080\/TCP[^\n]*\nflagella>\s*$/);
    assert.match(s, /10\.96\.0\.20:443\/TCP\s+ClusterIP\s+default\/web/);
    t.type('lo');
    t.send('Tab');
    await t.waitFor(/flagella> lowerbound$/m);
  });
});

repl('Ctrl-C stops a watch, not the shell; at the prompt it drops the line', async () => {
  await withRepl(async (t) => {
    t.send('watch frontends', 'Enter');
    // The demo database changes a frontend every 100 ms: wait for changes past the replay.
    await t.waitFor(/\n(?:\d+\s+(?:upsert|delete)[^\n]*\n){8}/);
    t.send('C-c');
    await t.waitFor(PROMPT);
    const stopped = t.screen();
    await new Promise((r) => setTimeout(r, 500));
    assert.is(t.screen(), stopped, 'nothing more printed after Ctrl-C');
    t.type('show serv');
    t.send('C-c');
    await t.waitFor(/\^C\nflagella>\s*$/);
    t.send('tables', 'Enter');
    await t.waitFor(/\nfrontends\s+\d+[^\n]*\nflagella>\s*$/);
  });
});

repl('history: kept in $XDG_STATE_HOME across sessions (mode 0600), Up recalls it; exit and Ctrl-D leave with status 0', async () => {
  rmSync(join(home, 'state'), { recursive: true, force: true });
  const first = new TmuxSession(command, env);
  try {
    await first.waitFor(PROMPT);
    first.send('show services --columns name', 'Enter');
    await first.waitFor(/shop\/checkout\nflagella>\s*$/);
    first.send('tables', 'Enter');
    await first.waitFor(/frontends\s+6[^\n]*\nflagella>\s*$/);
    first.send('exit', 'Enter');
    assert.is(await first.exitStatus(), 0);
  } finally {
    first.kill();
  }
  assert.is(readFileSync(historyFile, 'utf8'), 'show services --columns name\ntables\nexit\n');
  assert.is(statSync(historyFile).mode & 0o777, 0o600);

  const second = new TmuxSession(command, env);
  try {
    await second.waitFor(PROMPT);
    second.send('Up');
    await second.waitFor(/flagella> exit$/m);
    second.send('Up', 'Up');
    await second.waitFor(/flagella> show services --columns name$/m);
    second.send('Enter');
    await second.waitFor(/shop\/checkout\nflagella>\s*$/);
    second.send('C-d');
    assert.is(await second.exitStatus(), 0);
  } finally {
    second.kill();
  }
  assert.is(readFileSync(historyFile, 'utf8'), 'show services --columns name\ntables\nexit\nshow services --columns name\n');
});

repl.run();
