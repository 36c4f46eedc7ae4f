import { mkdirSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { join } from 'node:path';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KubernetesSource, loadKubeConfig, RecordingSink, SERVICE_ACCOUNT_DIR, SourceConfigError } from '../../agent/index.js';
import { KubeApiServer, selfSignedCert } from '../support/kube-apiserver.js';
import { captureLogger, service, tempDir } from './fixtures.js';

const kubeconfig = (server: string, context: string) =>
  `apiVersion: v1\nkind: Config\nclusters:\n- name: ${context}\n  cluster: {server: "${server}", insecure-skip-tls-verify: true}\nusers:\n- name: u\n  user: {}\ncontexts:\n- name: ${context}\n  context: {cluster: ${context}, user: u}\ncurrent-context: ${context}\n`;

test('the client imports on Node 20 thanks to the undici override (undici 7, not 8)', async () => {
  const client = await import('@kubernetes/client-node');
  assert.type(client.ListWatch, 'function');
  const undiciVersion = (createRequire(import.meta.url)('undici/package.json') as { version: string }).version;
  assert.match(undiciVersion, /^7\./);
  assert.ok(Number(process.versions.node.split('.')[0]) >= 20);
});

test('an explicit kubeconfig file wins over $KUBECONFIG', () => {
  const tmp = tempDir('kubeconfig');
  try {
    const a = join(tmp.dir, 'a.yaml');
    const b = join(tmp.dir, 'b.yaml');
    writeFileSync(a, kubeconfig('http://127.0.0.1:1', 'first'));
    writeFileSync(b, kubeconfig('http://127.0.0.1:2', 'second'));
    const loaded = loadKubeConfig({ kubeconfigPath: a, env: { KUBECONFIG: b } });
    assert.is(loaded.origin, 'kubeconfig');
    assert.is(loaded.config.getCurrentCluster()?.server, 'http://127.0.0.1:1');
  } finally {
    tmp.cleanup();
  }
});

test('$KUBECONFIG lists files that are merged; the first one sets the context', () => {
  const tmp = tempDir('kubeconfig');
  try {
    const a = join(tmp.dir, 'a.yaml');
    const b = join(tmp.dir, 'b.yaml');
    writeFileSync(a, kubeconfig('http://127.0.0.1:1', 'first'));
    writeFileSync(b, kubeconfig('http://127.0.0.1:2', 'second'));
    const loaded = loadKubeConfig({ env: { KUBECONFIG: `${a}:${b}` } });
    assert.is(loaded.origin, 'KUBECONFIG');
    assert.equal(loaded.config.getContexts().map((c) => c.name).sort(), ['first', 'second']);
    assert.is(loaded.config.getCurrentCluster()?.server, 'http://127.0.0.1:1');
  } finally {
    tmp.cleanup();
  }
});

test('bad or missing configuration fails with a SourceConfigError saying what is wrong', () => {
  const tmp = tempDir('kubeconfig');
  try {
    const plain = join(tmp.dir, 'plain.yaml');
    writeFileSync(plain, kubeconfig('http://127.0.0.1:1', 'x').replace(', insecure-skip-tls-verify: true', ''));
    const cases: [Parameters<typeof loadKubeConfig>[0], RegExp][] = [
      [{ env: {} }, /no Kubernetes configuration/],
      [{ kubeconfigPath: join(tmp.dir, 'missing.yaml'), env: {} }, /missing\.yaml/],
      [{ kubeconfigPath: plain, env: {} }, /plain http:\/\//],
      [{ env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: '443' }, inClusterPathPrefix: tmp.dir }, /token .* is missing/],
    ];
    for (const [opts, message] of cases) {
      assert.throws(() => loadKubeConfig(opts), (e: unknown) => e instanceof SourceConfigError && message.test(e.message));
    }
  } finally {
    tmp.cleanup();
  }
});

test('in-cluster: the service-account token and CA under an injectable mount reach a TLS API server', async () => {
  const tmp = tempDir('incluster');
  const tls = selfSignedCert();
  const server = await KubeApiServer.start({ tls, token: 'sa-token-123' });
  let source: KubernetesSource | undefined;
  try {
    const mount = join(tmp.dir, SERVICE_ACCOUNT_DIR);
    mkdirSync(mount, { recursive: true });
    writeFileSync(join(mount, 'token'), 'sa-token-123');
    writeFileSync(join(mount, 'ca.crt'), tls.cert);
    writeFileSync(join(mount, 'namespace'), 'kube-system');
    const port = new URL(server.url).port;
    const loaded = loadKubeConfig({
      env: { KUBERNETES_SERVICE_HOST: '127.0.0.1', KUBERNETES_SERVICE_PORT: port },
      inClusterPathPrefix: tmp.dir,
    });
    assert.is(loaded.origin, 'in-cluster');
    assert.is(loaded.from, `https://127.0.0.1:${port}`);
    server.create(service('web'));
    const sink = new RecordingSink();
    source = new KubernetesSource({ sink, config: loaded.config, kinds: ['Service'], logger: captureLogger().logger });
    await source.start();
    assert.ok(await source.synced);
    assert.equal(sink.names(), ['Service default/web']);
    assert.ok(server.requests.every((r) => r.status !== 401), 'every request carried the token');
  } finally {
    await source?.stop();
    await server.close();
    tmp.cleanup();
  }
});

test.run();
