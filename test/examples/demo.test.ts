// The demo (npm run demo) shortened (--short: fewer connections): it runs
// end to end (the policy drops show in flagella monitor) and leaves nothing
// behind; interrupted by Ctrl-C (SIGINT to its process group, as a terminal
// sends it) once the agent runs, it removes everything it created (agent
// and pod processes, namespaces, pins, temporary files) and exits 130.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

class DemoRun {
  out = '';
  readonly exited: Promise<number | null>;
  readonly child: ChildProcess;

  constructor() {
    this.child = spawn(process.execPath, [join(root, 'scripts', 'demo.mjs'), '--short'], { cwd: root, detached: true, stdio: ['ignore', 'pipe', 'pipe'] });
    this.child.stdout!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.child.stderr!.on('data', (d: Buffer) => (this.out += d.toString()));
    this.exited = new Promise((resolve) => this.child.on('exit', (code) => resolve(code)));
  }

  async waitFor(pattern: RegExp, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!pattern.test(this.out)) {
      if (this.child.exitCode !== null) throw new Error(`the demo ended (${this.child.exitCode}) before ${pattern}:\n${this.out}`);
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${pattern}:\n${this.out}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async exit(timeoutMs: number): Promise<number | null> {
    let timer: NodeJS.Timeout | undefined;
    const code = await Promise.race([this.exited, new Promise<'timeout'>((r) => (timer = setTimeout(() => r('timeout'), timeoutMs)))]);
    clearTimeout(timer);
    if (code === 'timeout') throw new Error(`the demo still runs after ${timeoutMs} ms:\n${this.out}`);
    return code;
  }

  /** What the demo says it creates: "(created: namespaces P-*, pin root R, files in D)". */
  created(): { prefix: string; pinRoot: string; workDir: string } {
    const m = /\(created: namespaces (\S+)-\*, pin root (\S+), files in (\S+)\)/.exec(this.out);
    assert.ok(m, `the demo names what it creates:\n${this.out}`);
    return { prefix: m[1]!, pinRoot: m[2]!, workDir: m[3]! };
  }

  kill(): void {
    try {
      process.kill(-this.child.pid!, 'SIGKILL');
    } catch {
      /* ended */
    }
  }
}

/** Nothing the demo created is left: namespaces, pins, files, processes naming its pin root. */
function assertNothingLeft(c: { prefix: string; pinRoot: string; workDir: string }): void {
  const namespaces = execFileSync('ip', ['netns', 'list'], { encoding: 'utf8' })
    .split('\n')
    .filter((l) => l.startsWith(`${c.prefix}-`));
  assert.equal(namespaces, [], 'no namespace left');
  assert.not.ok(existsSync(c.pinRoot), `pin root ${c.pinRoot} removed`);
  assert.not.ok(existsSync(c.workDir), `work dir ${c.workDir} removed`);
  const processes = readdirSync('/proc')
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        const cmdline = readFileSync(`/proc/${p}/cmdline`, 'utf8');
        return cmdline.includes(c.pinRoot) || cmdline.includes(c.workDir);
      } catch {
        return false;
      }
    });
  assert.equal(processes, [], 'no agent or pod process left');
}

const demo = suite('npm run demo (shortened)');

demo('runs end to end: spread, policy taking effect, the tables and maps; leaves nothing behind', async () => {
  const run = new DemoRun();
  try {
    assert.is(await run.exit(180_000), 0, run.out);
    assert.match(run.out, /== 4\. connections to the virtual IP 10\.96\.100\.10:80 are spread over the backends/);
    assert.match(run.out, /shop {5}9 connections -> web-\d \d/);
    assert.match(run.out, /scraper {2}3 connections -> timed out 3/);
    assert.match(run.out, /\$ flagella monitor --type drop[^\n]*\n {3}\d\d:\d\d:\d\d\.\d{3} {2}drop {3}DROP_POLICY_INGRESS {2}tc-egress to-web\d \(ifindex \d+\) {2}TCP 10\.202\.2\.2:\d+ -> 10\.202\.1\d\.2:8080 {2}identity \d+ -> \d+/);
    assert.match(run.out, /\$ flagella db show frontends\n {3}Address\s+Type[^\n]*\n {3}10\.96\.100\.10:80\/TCP\s+ClusterIP\s+demo\/web/);
    assert.match(run.out, /\$ flagella lb dump\n(?: {3}[A-Z]+: [^\n]*\n)*? {3}SVC: ID=\d+ ADDR=10\.96\.100\.10:80\/TCP SLOT=3 BEID=\d+/);
    assert.match(run.out, /removed: the agent and pod processes, the namespaces, the pins, the temporary files\n\ndemo done\n$/);
    assertNothingLeft(run.created());
  } finally {
    run.kill();
  }
});

demo('Ctrl-C while the agent runs: everything removed, exit 130', async () => {
  const run = new DemoRun();
  try {
    await run.waitFor(/== 4\. connections/, 120_000);
    const created = run.created();
    assert.ok(existsSync(created.pinRoot), 'the agent pinned its datapath');
    process.kill(-run.child.pid!, 'SIGINT');
    assert.is(await run.exit(60_000), 130, run.out);
    assert.match(run.out, /interrupted: removing what the demo created\n {3}removed: the agent and pod processes, the namespaces, the pins, the temporary files/);
    assertNothingLeft(created);
  } finally {
    run.kill();
  }
});

demo.run();
