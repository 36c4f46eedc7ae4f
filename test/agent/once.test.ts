// `flagella agent --once` and the agent's command line: converge on a
// source directory and exit 0 with a summary, or exit 1 naming the bad
// object, the broken file, the invalid policy or the missing directory;
// bad flag values are usage errors (exit 2) naming the flag and the value.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { KubeApiServer } from '../support/kube-apiserver.js';
import { AgentDirs, BIN, ROOT, runOnce } from './agent-process.js';
import { endpointSlice, networkPolicy, service, yamlDocuments } from './fixtures.js';

const once = suite('flagella agent --once');

function withDirs(tag: string, files: Record<string, string>, fn: (dirs: AgentDirs) => Promise<void>): () => Promise<void> {
  return async () => {
    const dirs = new AgentDirs(tag);
    try {
      mkdirSync(dirs.sourceDir, { recursive: true });
      for (const [name, text] of Object.entries(files)) writeFileSync(join(dirs.sourceDir, name), text);
      await fn(dirs);
    } finally {
      dirs.cleanup();
    }
  };
}

const GOOD = yamlDocuments([service('default', 'web', '10.96.8.10'), endpointSlice('default', 'web-1', 'web', ['10.0.8.1', '10.0.8.2'])]);

once(
  'a good source directory converges: exit 0, a summary of tables, reconcilers and maps',
  withDirs('once-ok', { 'web.yaml': GOOD, 'policy.yaml': yamlDocuments([networkPolicy('default', 'np', 'web')]) }, async (dirs) => {
    const r = await runOnce(dirs, ['--source-dir', dirs.sourceDir, '--node-name', 'n1', '--node-addresses', '192.168.60.1']);
    assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /^converged in [\d.]+ s/);
    assert.match(r.stdout, /^ {2}frontends\s+1\s+\d+\s+yes$/m);
    assert.match(r.stdout, /^ {2}policies\s+1\s+\d+\s+yes$/m);
    assert.match(r.stdout, /^ {2}files\s+ok\s+yes\s+3\s+0$/m);
    assert.match(r.stdout, /^ {2}lb-maps\s+frontends\s+ok\s+1\s+0\s+0$/m);
    assert.match(r.stdout, /^ {2}flg_lb4_services\s+3$/m, 'master and two slots');
    assert.match(r.stdout, /^ {2}flg_lb4_backends\s+2$/m);
    assert.not.match(r.stdout, /Errors/);
    // Logs go to stderr with --once, as JSON lines.
    const logs = r.stderr.split('\n').filter(Boolean).map((l) => JSON.parse(l) as { msg: string });
    assert.ok(logs.some((l) => l.msg === 'stopped'));
    // Once more on the same pins and state: nothing to rewrite.
    const again = await runOnce(dirs, ['--source-dir', dirs.sourceDir, '--node-name', 'n1', '--node-addresses', '192.168.60.1']);
    assert.is(again.code, 0, again.stdout);
    assert.match(again.stdout, /Load-balancing map writes: 0 /);
  }),
);

once(
  'a bad object: exit 1 naming the object and the field; the good ones still apply',
  withDirs('once-bad', { 'web.yaml': GOOD, 'bad.yaml': yamlDocuments([{ ...service('default', 'bad', '10.96.8.20'), spec: { clusterIP: '10.96.8.20', ports: [{ port: 70000, protocol: 'TCP' }] } }]) }, async (dirs) => {
    const r = await runOnce(dirs, ['--source-dir', dirs.sourceDir, '--node-name', 'n1']);
    assert.is(r.code, 1, r.stdout);
    assert.match(r.stdout, /Errors \(1\):\n {2}- Service default\/bad \(source files\): Service default\/bad: spec\.ports\[0\]\.port/);
    assert.match(r.stderr, /flagella: --once: 1 error\(s\): Service default\/bad/);
    assert.match(r.stdout, /^ {2}frontends\s+1\s/m, 'the good service applied');
  }),
);

once(
  'a broken YAML file: exit 1 naming the file and line',
  withDirs('once-yaml', { 'web.yaml': GOOD, 'broken.yaml': 'apiVersion: v1\nkind: Service\nmetadata: {name: x\n  namespace: [\n' }, async (dirs) => {
    const r = await runOnce(dirs, ['--source-dir', dirs.sourceDir, '--node-name', 'n1']);
    assert.is(r.code, 1, r.stdout);
    assert.match(r.stdout, /source files: .*broken\.yaml:\d+:\d+: /);
    assert.match(r.stdout, /did not converge: source files cannot finish its initial sync until .*broken\.yaml to parse \(nothing was pruned\)/);
  }),
);

once(
  'an invalid NetworkPolicy: exit 1 naming it',
  withDirs('once-np', { 'np.yaml': yamlDocuments([{ ...networkPolicy('default', 'np', 'web'), spec: { podSelector: {}, policyTypes: ['Sideways'] } }]) }, async (dirs) => {
    const r = await runOnce(dirs, ['--source-dir', dirs.sourceDir, '--node-name', 'n1']);
    assert.is(r.code, 1, r.stdout);
    assert.match(r.stdout, /NetworkPolicy default\/np \(source files\): NetworkPolicy default\/np: spec\.policyTypes/);
  }),
);

once(
  'a missing source directory and device: exit 1 listing both, nothing loaded',
  withDirs('once-missing', {}, async (dirs) => {
    const r = await runOnce(dirs, ['--source-dir', join(dirs.tmp, 'nope'), '--devices', 'flgnodev0', '--node-name', 'n1']);
    assert.is(r.code, 1);
    assert.match(r.stderr, /flagella: flagella agent cannot start:\n {2}- --source-dir .*nope: no such directory\n {2}- --devices: no device "flgnodev0" in this network namespace/);
    assert.not.ok(existsSync(join(dirs.pinRoot, 'flg_lb4_services')), 'the datapath was not loaded');
  }),
);

once(
  '--kubeconfig: objects from a Kubernetes API server; this node\'s Node gives the node addresses',
  withDirs('once-k8s', {}, async (dirs) => {
    const server = await KubeApiServer.start();
    try {
      server.create({ ...service('default', 'web', '10.96.8.30'), spec: { type: 'NodePort', clusterIP: '10.96.8.30', ports: [{ port: 80, protocol: 'TCP', nodePort: 30080 }] } });
      server.create(endpointSlice('default', 'web-1', 'web', ['10.0.8.5']));
      server.create({ apiVersion: 'v1', kind: 'Node', metadata: { name: 'k8s-node' }, status: { addresses: [{ type: 'InternalIP', address: '192.168.61.5' }] } });
      server.create({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default', labels: { team: 'a' } } });
      const kubeconfig = server.writeKubeconfig(join(dirs.tmp, 'kubeconfig'));
      const r = await runOnce(dirs, ['--kubeconfig', kubeconfig, '--node-name', 'k8s-node']);
      assert.is(r.code, 0, `${r.stdout}\n${r.stderr}`);
      assert.match(r.stdout, /^ {2}k8s\s+ok\s+yes\s+4\s+0$/m);
      assert.match(r.stdout, /^ {2}node-addresses\s+1\s/m, 'from the Node object');
      assert.match(r.stdout, /^ {2}namespaces\s+1\s/m);
      // ClusterIP, the NodePort surrogate: both reconciled.
      assert.match(r.stdout, /^ {2}lb-maps\s+frontends\s+ok\s+2\s+0\s+0$/m);
    } finally {
      await server.close();
    }
  }),
);

const flags = suite('flagella agent: flag values');

function agentArgs(...args: string[]): { code: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, 'agent', ...args], { cwd: ROOT, encoding: 'utf8', timeout: 30_000 });
  return { code: r.status, stderr: r.stderr };
}

for (const [args, pattern] of [
  [['--lb-algorithm', 'roundrobin'], /--lb-algorithm <name>' argument 'roundrobin' is invalid/],
  [['--devices', 'eth0,a/b'], /--devices <a,b>' argument 'eth0,a\/b' is invalid\. "a\/b" is not a network device name/],
  [['--devices', 'eth0,eth0'], /listed twice/],
  [['--node-addresses', '10.0.0.1,banana'], /--node-addresses <ip,ip>' argument '10\.0\.0\.1,banana' is invalid\. "banana" is not an IP address/],
  [['--health-addr', '127.0.0.1'], /--health-addr <host:port>' argument '127\.0\.0\.1' is invalid/],
  [['--metrics-addr', '127.0.0.1:99999'], /--metrics-addr <host:port>' argument '127\.0\.0\.1:99999' is invalid\. port 99999/],
  [['--maglev-table-size', '1000'], /--maglev-table-size <M>' argument '1000' is invalid\. expected one of 251/],
  [['--once-timeout', '-3'], /--once-timeout <seconds>' argument '-3' is invalid/],
  [['--node-name', 'Not_A_Name'], /--node-name <name>' argument 'Not_A_Name' is invalid/],
  [['--attach-mode', 'tc'], /--attach-mode <mode>' argument 'tc' is invalid/],
  [['--log-level', 'loud'], /--log-level <level>' argument 'loud' is invalid/],
  [['--no-such-flag'], /unknown option '--no-such-flag'/],
] as const) {
  flags(`${args.join(' ')} is a usage error (exit 2)`, () => {
    const r = agentArgs(...args);
    assert.is(r.code, 2, r.stderr);
    assert.match(r.stderr, pattern);
  });
}

flags('a non-loopback health address is refused unless allowed (exit 1, before anything starts)', () => {
  const r = agentArgs('--health-addr', '0.0.0.0:0', '--state-dir', '/nonexistent-flagella-test');
  assert.is(r.code, 1, r.stderr);
  assert.match(r.stderr, /--health-addr 0\.0\.0\.0:0 is not a loopback address; pass --allow-remote-observability/);
});

once.run();
flags.run();
