// The `flagella db` commands end to end on the in-process demo database
// (--local): spawns bin/flagella.js and checks output, exit codes and
// messages, streaming, and clean endings on a closed pipe or Ctrl-C. The
// same commands against a running agent: agent.test.ts.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parseAllDocuments } from 'yaml';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = join(root, 'bin', 'flagella.js');

interface Result {
  code: number | null;
  stdout: string;
  stderr: string;
}

function flagella(...args: string[]): Result {
  const r = spawnSync(process.execPath, [bin, '--local', ...args], { cwd: root, encoding: 'utf8', timeout: 30_000 });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Runs a bash pipeline (bounded by `timeout`), returning flagella's exit status and what came out of the pipe. */
function pipeline(command: string): { status: number; out: string } {
  const r = spawnSync('bash', ['-c', `timeout 20 ${command}; echo "status=\${PIPESTATUS[0]}"`], {
    cwd: root,
    encoding: 'utf8',
    timeout: 30_000,
  });
  const m = /status=(\d+)\s*$/.exec(r.stdout);
  assert.ok(m, `no status in ${JSON.stringify(r.stdout)} ${r.stderr}`);
  return { status: Number(m[1]), out: r.stdout.slice(0, m.index) };
}

function noStack(r: Result): void {
  assert.not.match(r.stderr, /^\s+at /m, `no stack trace: ${r.stderr}`);
}

const FRONTENDS_TABLE = [
  'Address                  Type        Service                Backends   Status',
  '10.96.0.10:53/TCP        ClusterIP   kube-system/kube-dns   2          Done',
  '10.96.0.10:53/UDP        ClusterIP   kube-system/kube-dns   2          Done',
  '10.96.0.20:443/TCP       ClusterIP   default/web            3          Done',
  '10.96.0.20:80/TCP        ClusterIP   default/web            3          Done',
  '10.96.0.30:8080/TCP      ClusterIP   shop/checkout          1          Pending',
  '192.168.1.10:30080/TCP   NodePort    default/web            3          Done',
  '',
].join('\n');

const basics = suite('flagella: help and version');

basics('--version prints the package version', () => {
  const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
  const r = flagella('--version');
  assert.is(r.code, 0);
  assert.is(r.stdout, `${pkg.version}\n`);
});

basics('--help on the root and on every command, exit 0; the root documents the source and exit codes', () => {
  const r = flagella('--help');
  assert.is(r.code, 0);
  assert.match(r.stdout, /Usage: flagella/);
  assert.match(r.stdout, /--local +read the in-process demo database/);
  assert.match(r.stdout, /--api-socket <path>\s+the agent's API socket \(default:\s+"\/run\/flagella\/api\.sock"/);
  for (const code of ['0  success', '1  runtime failure', '2  usage error', '3  not found', '4  agent not running']) {
    assert.ok(r.stdout.includes(code), code);
  }
  for (const cmd of ['db', 'db tables', 'db show', 'db get', 'db list', 'db prefix', 'db lowerbound', 'db watch']) {
    const h = flagella(...cmd.split(' '), '--help');
    assert.is(h.code, 0, cmd);
    assert.match(h.stdout, new RegExp(`Usage: flagella ${cmd}`), cmd);
  }
  for (const cmd of ['lb dump', 'policy dump', 'ct list', 'status', 'monitor', 'repl']) {
    const h = flagella(...cmd.split(' '), '--help');
    assert.is(h.code, 0, cmd);
    assert.match(h.stdout, new RegExp(`Usage: flagella ${cmd}`), cmd);
  }
  for (const cmd of ['policy dump', 'ct list', 'monitor', 'repl']) assert.match(flagella(...cmd.split(' '), '--help').stdout, /--bpf-root <dir>/, cmd);
  assert.match(flagella('monitor', '--help').stdout, /--direct/);
  assert.match(flagella('repl', '--help').stdout, /--history-file <path>/);
  assert.match(flagella('db', 'get', '--help').stdout, /--index <name>/);
  assert.match(flagella('db', 'watch', '--help').stdout, /--count <n>/);
});

basics('usage errors exit 2 with a message on stderr', () => {
  for (const args of [['nope'], ['db'], ['db', 'show'], ['db', 'show', 'frontends', '--bogus'], ['db', 'show', 'frontends', '-o', 'xml'], ['db', 'watch', 'frontends', '--count', '0']]) {
    const r = flagella(...args);
    assert.is(r.code, 2, args.join(' '));
    assert.ok(r.stderr.length > 0, args.join(' '));
    noStack(r);
  }
});

basics.run();

const db = suite('flagella db: tables, show and queries');

db('db tables in every format', () => {
  const r = flagella('db', 'tables');
  assert.is(r.code, 0);
  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^Name\s+Objects\s+Revision\s+Indexes/);
  assert.match(lines[1]!, /^services\s+3\s+3\s+name \(primary\), namespace \(non-unique\)/);
  assert.match(lines[2]!, /^frontends\s+6\s+6\s+address \(primary\), service \(non-unique\)/);
  const json = JSON.parse(flagella('db', 'tables', '-o', 'json').stdout) as { name: string; objects: number }[];
  assert.equal(
    json.map((t) => [t.name, t.objects]),
    [
      ['services', 3],
      ['frontends', 6],
    ],
  );
  const yaml = parseAllDocuments(flagella('db', 'tables', '-o', 'yaml').stdout).map((d) => (d.toJS() as { name: string }).name);
  assert.equal(yaml, ['services', 'frontends']);
  assert.is(flagella('db', 'tables', '--columns', 'name,objects').stdout, 'Name        Objects\nservices    3\nfrontends   6\n');
});

db('db show: aligned table, JSON, YAML and selected columns', () => {
  assert.is(flagella('db', 'show', 'frontends').stdout, FRONTENDS_TABLE);
  const rows = JSON.parse(flagella('db', 'show', 'frontends', '-o', 'json').stdout) as { address: string; backends: number }[];
  assert.is(rows.length, 6);
  assert.equal(rows[0], { address: '10.96.0.10:53/TCP', service: 'kube-system/kube-dns', type: 'ClusterIP', backends: 2, status: 'Done' });
  const docs = parseAllDocuments(flagella('db', 'show', 'services', '-o', 'yaml').stdout).map((d) => d.toJS() as { name: string });
  assert.equal(
    docs.map((d) => d.name),
    ['default/web', 'kube-system/kube-dns', 'shop/checkout'],
  );
  assert.is(
    flagella('db', 'show', 'services', '--columns', 'ports,NAME').stdout,
    [
      'Ports             Name',
      '80/TCP, 443/TCP   default/web',
      '53/UDP, 53/TCP    kube-system/kube-dns',
      '8080/TCP          shop/checkout',
      '',
    ].join('\n'),
  );
});

db('db get, list, prefix and lowerbound, on the primary and a secondary index', () => {
  const get = flagella('db', 'get', 'frontends', '10.96.0.10:53/UDP', '-o', 'json');
  assert.is(get.code, 0);
  assert.is((JSON.parse(get.stdout) as { service: string }).service, 'kube-system/kube-dns');
  const list = flagella('db', 'list', 'frontends', 'default/web', '--index', 'service', '--columns', 'address');
  assert.is(list.stdout, 'Address\n10.96.0.20:443/TCP\n10.96.0.20:80/TCP\n192.168.1.10:30080/TCP\n');
  const prefix = flagella('db', 'prefix', 'frontends', '10.96.0.1', '--columns', 'address');
  assert.is(prefix.stdout, 'Address\n10.96.0.10:53/TCP\n10.96.0.10:53/UDP\n');
  const lower = flagella('db', 'lowerbound', 'services', 'kube', '-o', 'json');
  assert.equal(
    (JSON.parse(lower.stdout) as { name: string }[]).map((s) => s.name),
    ['kube-system/kube-dns', 'shop/checkout'],
  );
  const byRevision = flagella('db', 'lowerbound', 'frontends', '6', '-i', '__revision__', '--columns', 'address');
  assert.is(byRevision.stdout, 'Address\n192.168.1.10:30080/TCP\n');
  const none = flagella('db', 'list', 'frontends', 'nobody/none', '--index', 'service');
  assert.is(none.code, 0, 'an empty list is an answer');
  assert.is(none.stdout, 'Address   Type   Service   Backends   Status\n');
});

db('not found and bad requests: exit codes and messages naming the problem', () => {
  const table = flagella('db', 'show', 'nope');
  assert.is(table.code, 3);
  assert.is(table.stderr, 'flagella: table "nope" not found; the tables are: services, frontends\n');
  const miss = flagella('db', 'get', 'frontends', '1.2.3.4:5/TCP');
  assert.is(miss.code, 3);
  assert.match(miss.stderr, /no row with key "1\.2\.3\.4:5\/TCP" in the primary index/);
  assert.is(miss.stdout, '');
  const index = flagella('db', 'list', 'frontends', 'x', '--index', 'port');
  assert.is(index.code, 2);
  assert.is(index.stderr, 'flagella: table "frontends": invalid index "port"; the indexes are: address, service\n');
  const key = flagella('db', 'lowerbound', 'frontends', 'ten', '--index', '__revision__');
  assert.is(key.code, 2);
  assert.match(key.stderr, /table "frontends": bad key "ten" for index "__revision__": /);
  const column = flagella('db', 'show', 'frontends', '--columns', 'port');
  assert.is(column.code, 2);
  assert.match(column.stderr, /unknown column "port"; the columns are: Address, Type, Service, Backends, Status/);
  const mixed = flagella('db', 'show', 'frontends', '-o', 'json', '--columns', 'address');
  assert.is(mixed.code, 2);
  assert.match(mixed.stderr, /--columns applies to table output only/);
  for (const r of [table, miss, index, key, column, mixed]) noStack(r);
});

db.run();

const stream = suite('flagella db watch and closed pipes');

stream('watch replays the rows, then streams changes (a delete included) and stops after --count', () => {
  const r = flagella('db', 'watch', 'frontends', '--count', '9', '--demo-activity-ms', '20', '-o', 'json');
  assert.is(r.code, 0, r.stderr);
  const changes = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as { revision: number; deleted: boolean; object: { address: string } });
  assert.is(changes.length, 9);
  assert.equal(
    changes.map((c) => c.revision),
    [1, 2, 3, 4, 5, 6, 7, 8, 9],
  );
  assert.equal(
    changes.slice(6).map((c) => [c.object.address, c.deleted]),
    [
      ['10.96.0.30:8080/TCP', false],
      ['10.96.0.30:8080/TCP', true],
      ['10.96.0.30:8080/TCP', false],
    ],
  );
  const table = flagella('db', 'watch', 'services', '-n', '3');
  assert.is(table.stdout.split('\n')[0], 'Revision   Op       Name                   ClusterIP    Ports');
  assert.is(table.stdout.trimEnd().split('\n').length, 4);
  const yaml = flagella('db', 'watch', 'services', '-n', '2', '-o', 'yaml');
  assert.equal(
    parseAllDocuments(yaml.stdout).map((d) => (d.toJS() as { revision: number }).revision),
    [1, 2],
  );
  const unknown = flagella('db', 'watch', 'nope', '-n', '1');
  assert.is(unknown.code, 3);
});

stream('| head -1 ends show and an endless watch cleanly with status 0', () => {
  const show = pipeline(`node ${bin} --local db show frontends | head -1`);
  assert.equal(show, { status: 0, out: `${FRONTENDS_TABLE.split('\n')[0]!}\n` });
  const yaml = pipeline(`node ${bin} --local db show frontends -o yaml | head -1`);
  assert.is(yaml.status, 0);
  const watch = pipeline(`node ${bin} --local db watch frontends --demo-activity-ms 10 | head -2`);
  assert.is(watch.status, 0, 'not 124 (timeout) nor an error');
  assert.is(watch.out.split('\n').length, 3);
});

stream('Ctrl-C ends a watch with status 0', async () => {
  const proc = spawn(process.execPath, [bin, '--local', 'db', 'watch', 'services'], { cwd: root, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  try {
    let out = '';
    let err = '';
    proc.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => proc.on('exit', (code) => resolve(code)));
    await new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no output in 20 s: ${err}`)), 20_000);
      proc.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.split('\n').length > 4) {
          clearTimeout(t);
          resolve();
        }
      });
    });
    proc.kill('SIGINT');
    const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
    assert.is(code, 0, err);
    assert.match(out, /^Revision\s+Op\s+Name/);
  } finally {
    if (proc.exitCode === null && proc.signalCode === null) process.kill(-proc.pid!, 'SIGKILL');
  }
});

stream.run();
