// The README's quick start must keep working as printed.
import { spawnSync } from 'node:child_process';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('examples/quick-start runs and reconciles both routes into its target', () => {
  const res = spawnSync(process.execPath, ['--conditions=source', '--import', 'tsx', 'examples/quick-start/main.ts'], {
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.is(res.status, 0, res.stderr);
  assert.equal(res.stdout.trim().split('\n'), [
    '10.0.0.0/8 eth0 done',
    '192.168.0.0/16 eth1 done',
    "target: { '10.0.0.0/8': 'eth0', '192.168.0.0/16': 'eth1' }",
  ]);
});

test.run();
