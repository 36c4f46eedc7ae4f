// The test command installs with `npm ci` on a fresh machine. npm refuses a
// lock that is out of step with package.json (for instance after an
// `npm install` against a registry mirror that lacks other platforms'
// optional packages, which then go missing from the lock), and that would
// only show in CI. Check it here with npm's own dry run.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';

test('npm ci accepts package.json and package-lock.json as committed', () => {
  const dir = mkdtempSync(join(tmpdir(), 'flagella-lock-'));
  try {
    copyFileSync('package.json', join(dir, 'package.json'));
    copyFileSync('package-lock.json', join(dir, 'package-lock.json'));
    const res = spawnSync('npm', ['ci', '--dry-run', '--ignore-scripts', '--no-audit', '--no-fund'], {
      cwd: dir,
      encoding: 'utf8',
      timeout: 120_000,
    });
    const errors = `${res.stderr}`.split('\n').filter((l) => l.startsWith('npm error')).slice(0, 8).join('\n');
    assert.is(res.status, 0, `npm ci would fail on a fresh machine:\n${errors}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test.run();
