// examples/custom-agent: the custom agent run as a process twice on one
// unique pin root: limits reconciled into its pinned BPF map, a bad entry
// refused and a bad rate in error while the others apply, the second run
// adopting the map (update, prune of a removed client), and the usage,
// file and pin-root errors.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { TypedMap } from '../../datapath/index.js';
import { RATE_LIMIT_MAP } from '../../examples/custom-agent/rate-limit-map.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const main = join(root, 'examples', 'custom-agent', 'main.ts');
const pinRoot = `/sys/fs/bpf/flg-example-${process.pid}`;
const tmp = mkdtempSync(join(tmpdir(), 'flg-custom-agent-'));

function run(limits: unknown, extra: string[] = []): { code: number | null; stdout: string; stderr: string } {
  const file = join(tmp, 'limits.json');
  writeFileSync(file, typeof limits === 'string' ? limits : JSON.stringify(limits));
  const r = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', main, '--pin-root', pinRoot, '--limits', file, ...extra], {
    cwd: root,
    encoding: 'utf8',
    timeout: 60_000,
  });
  if (r.error) throw r.error;
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The pinned map's contents, read back independently of the agent. */
function pinnedEntries(): Record<string, [number, number]> {
  const map = TypedMap.openPinned(RATE_LIMIT_MAP, join(pinRoot, 'rate_limits'));
  try {
    return Object.fromEntries([...map.entries()].map(([k, v]) => [k, [v.packetsPerSecond, v.burst]]));
  } finally {
    map.close();
  }
}

const agent = suite('examples/custom-agent');

agent.after(() => {
  rmSync(pinRoot, { recursive: true, force: true });
  rmSync(tmp, { recursive: true, force: true });
});

agent('first run: the limits land in the pinned map; a bad address is refused, a bad rate is that row\'s error', () => {
  const r = run({ '10.0.0.2': { pps: 200, burst: 50 }, '10.0.0.1': 100, 'not-an-ip': 5, '10.0.0.3': -1 });
  assert.is(r.code, 1, r.stderr);
  assert.is(r.stdout, '10.0.0.1 100 pps burst 0\n10.0.0.2 200 pps burst 50\nDegraded: 1 error(s): update "10.0.0.3": packetsPerSecond -1 is not a u32\n');
  assert.match(r.stderr, /"not-an-ip" is not an IPv4 address \(skipped\)/);
  assert.match(r.stderr, /10\.0\.0\.3: packetsPerSecond -1 is not a u32/);
  assert.equal(pinnedEntries(), { '10.0.0.1': [100, 0], '10.0.0.2': [200, 50] });
});

agent('second run adopts the pinned map: updates one client and prunes the one no longer listed', () => {
  const r = run({ '10.0.0.1': 150, '10.0.0.4': { pps: 10, burst: 1 } });
  assert.is(r.code, 0, r.stderr);
  assert.is(r.stdout, '10.0.0.1 150 pps burst 0\n10.0.0.4 10 pps burst 1\nOK, 2 object(s)\n');
  assert.equal(pinnedEntries(), { '10.0.0.1': [150, 0], '10.0.0.4': [10, 1] });
});

agent('an empty file empties the map (prune); errors in usage, the file or the pin root exit 2', () => {
  assert.is(run({}).code, 0);
  assert.equal(pinnedEntries(), {});
  const notJson = run('{ nope');
  assert.is(notJson.code, 2);
  assert.match(notJson.stderr, /limits\.json: limits file is not JSON/);
  const list = run([1, 2]);
  assert.is(list.code, 2);
  const notBpffs = run({ '10.0.0.1': 1 }, ['--pin-root', join(tmp, 'pins')]);
  assert.is(notBpffs.code, 2);
  assert.match(notBpffs.stderr, /is not on a bpf filesystem/);
  const usage = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', main], { cwd: root, encoding: 'utf8', timeout: 60_000 });
  assert.is(usage.status, 2);
  assert.match(usage.stderr, /usage: main\.ts/);
});

agent.run();
