// Start-up environment checks: a full report as root; missing capabilities reported
// clearly from children with reduced privileges (setpriv); bpffs detection and mounting.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { checkEnvironment, EnvironmentError, type EnvironmentReport } from '../../datapath/index.js';
import { privilegesOf } from '../../datapath/kernel/environment.js';
import { onExit, repoRoot, scratchDir, tempPinRoot } from './fixtures/kernel-fixtures.js';

const env = suite('kernel environment checks');

env('as root everything is present: bpffs, capabilities, every probed feature', () => {
  const pinRoot = tempPinRoot();
  const report = checkEnvironment({ pinRoot });
  assert.ok(report.ok, report.problems.join('\n'));
  assert.equal(report.problems, []);
  assert.equal([report.bpffs.ok, report.bpffs.mountPoint, report.bpffs.mountedNow], [true, '/sys/fs/bpf', false]);
  assert.ok(existsSync(pinRoot), 'the pin root is created');
  assert.ok(report.privileges.ok && report.privileges.capBpf && report.privileges.capNetAdmin);
  assert.is(report.privileges.uid, 0);
  for (const [name, probe] of Object.entries(report.features)) assert.ok(probe.ok, `${name}: ${probe.detail}`);
  assert.equal(Object.keys(report.features).sort(), ['batchOps', 'hashMap', 'hashOfMaps', 'lpmTrie', 'lruHash', 'perCpuArray', 'ringBuffer', 'schedClsProgram', 'tcxLinks', 'xdpProgram']);
  // idempotent
  assert.ok(checkEnvironment({ pinRoot }).ok);
});

/** Runs checkEnvironment in a child under setpriv and returns its report and error message. */
function checkAs(setprivArgs: string[]): { report: EnvironmentReport; message: string; isEnvironmentError: boolean } {
  const dir = scratchDir('setpriv');
  const script = join(dir, 'check.ts');
  const pinRoot = `/sys/fs/bpf/flagella-setpriv-${process.pid}`;
  onExit(() => rmSync(pinRoot, { recursive: true, force: true }));
  writeFileSync(
    script,
    [
      `import { checkEnvironment, EnvironmentError } from ${JSON.stringify(join(repoRoot, 'datapath', 'index.js'))};`,
      'try {',
      `  checkEnvironment({ pinRoot: ${JSON.stringify(pinRoot)}, mount: false });`,
      "  console.log(JSON.stringify({ message: 'no error' }));",
      '} catch (err) {',
      '  const e = err as EnvironmentError;',
      '  console.log(JSON.stringify({ message: e.message, isEnvironmentError: e instanceof EnvironmentError, report: e.report }));',
      '}',
      '',
    ].join('\n'),
  );
  const res = spawnSync('setpriv', [...setprivArgs, process.execPath, '--import', 'tsx', script], {
    cwd: repoRoot,
    encoding: 'utf8',
    timeout: 60_000,
    env: { ...process.env, HOME: dir },
  });
  assert.is(res.status, 0, `child failed: ${res.stderr}`);
  const out = JSON.parse(res.stdout.trim().split('\n').pop()!) as { report: EnvironmentReport; message: string; isEnvironmentError: boolean };
  return out;
}

// The children run as root with a reduced capability set, which reads the
// checkout wherever it lives (CI may clone into a 0700 temp directory).
const NO_CAPS = ['--bounding-set=-all', '--inh-caps=-all'];

env('root without capabilities gets an EnvironmentError naming them and how to grant them', () => {
  const { report, message, isEnvironmentError } = checkAs(NO_CAPS);
  assert.ok(isEnvironmentError, message);
  assert.is(report.ok, false);
  assert.equal([report.privileges.uid, report.privileges.capBpf, report.privileges.capNetAdmin, report.privileges.ok], [0, false, false, false]);
  assert.match(message, /^flagella cannot drive the kernel datapath here:\n/);
  assert.match(message, /missing CAP_BPF and CAP_NET_ADMIN \(uid 0\): root here lacks them; grant CAP_BPF and CAP_NET_ADMIN/);
  assert.is(report.features.hashMap.ok, false);
  assert.match(report.features.hashMap.detail ?? '', /map create flg_probe: EPERM/);
  assert.match(message, /kernel feature hashMap unavailable: .*EPERM.* \(probably the missing capabilities above\)/);
});

env('a non-root user is told to run as root or grant the capabilities (from its /proc status)', () => {
  // A real non-root child cannot import the checkout from a 0700 directory
  // (access(2) ignores capabilities for non-root), so this reads a status text.
  const problems: string[] = [];
  const status = 'Name:\tnode\nCapInh:\t0000000000000000\nCapEff:\t0000000000000000\nCapBnd:\t000001ffffffffff\n';
  const p = privilegesOf(status, 65534, problems);
  assert.equal(p, { uid: 65534, capBpf: false, capNetAdmin: false, capSysAdmin: false, ok: false });
  assert.match(problems.join('\n'), /missing CAP_BPF and CAP_NET_ADMIN \(uid 65534\): run as root, or grant CAP_BPF and CAP_NET_ADMIN/);
  // CAP_SYS_ADMIN stands in for CAP_BPF (kernels before 5.8); CAP_NET_ADMIN (12) is still needed.
  const sysAdminOnly: string[] = [];
  assert.equal(privilegesOf('CapEff:\t0000000000200000\n', 65534, sysAdminOnly).capSysAdmin, true);
  assert.match(sysAdminOnly.join(), /missing CAP_NET_ADMIN \(uid 65534\)/);
  const both: string[] = [];
  assert.is(privilegesOf('CapEff:\t0000008000001000\n', 65534, both).ok, true);
  assert.equal(both, []);
});

env('with CAP_BPF alone, only CAP_NET_ADMIN is reported missing and XDP loading fails', () => {
  const { report, message } = checkAs(['--bounding-set=-all,+bpf', '--inh-caps=-all']);
  assert.equal([report.privileges.capBpf, report.privileges.capNetAdmin], [true, false]);
  assert.match(message, /missing CAP_NET_ADMIN \(uid 0\)/);
  assert.not.match(message, /missing CAP_BPF/);
  assert.ok(report.features.hashMap.ok, report.features.hashMap.detail);
  assert.is(report.features.xdpProgram.ok, false);
});

env('a pin root that is not on bpffs is detected, and mounted when allowed', () => {
  const dir = join(scratchDir('bpffs'), 'pins');
  const refused = checkEnvironment({ pinRoot: dir, mount: false, throwOnProblem: false });
  assert.is(refused.bpffs.ok, false);
  assert.is(refused.ok, false);
  assert.match(refused.problems.join('\n'), new RegExp(`${dir} is not on a bpf filesystem \\(it is on \\S+ at \\S+\\): run 'mount -t bpf bpf /sys/fs/bpf'`));
  const mounted = checkEnvironment({ pinRoot: dir, mount: true });
  onExit(() => spawnSync('umount', [dir], { stdio: 'ignore' }));
  assert.equal([mounted.bpffs.ok, mounted.bpffs.mountedNow, mounted.bpffs.mountPoint], [true, true, dir]);
  assert.match(readFileSync('/proc/mounts', 'utf8'), new RegExp(`^bpf ${dir} bpf `, 'm'));
  const again = checkEnvironment({ pinRoot: dir });
  assert.is(again.bpffs.mountedNow, false, 'a second check finds the mount');
  assert.is(spawnSync('umount', [dir]).status, 0);
});

env('EnvironmentError carries the report', () => {
  try {
    checkEnvironment({ pinRoot: join(scratchDir('bpffs2'), 'x'), mount: false });
    assert.unreachable('must throw');
  } catch (err) {
    assert.instance(err, EnvironmentError);
    assert.is((err as EnvironmentError).report.bpffs.ok, false);
  }
});

env.run();
