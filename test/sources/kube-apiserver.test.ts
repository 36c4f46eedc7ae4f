// The loopback API server's own contract (test/support/kube-apiserver.ts),
// which later agent tests rely on: list and watch shapes, resourceVersion
// replay, compaction, injected failures, discovery, auth, field selectors.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { KubernetesObjectApi } from '@kubernetes/client-node';
import { loadKubeConfig } from '../../agent/index.js';
import { KubeApiServer } from '../support/kube-apiserver.js';
import { service, tempDir } from './fixtures.js';

interface WatchEvent {
  type: string;
  object: { metadata?: { name?: string; resourceVersion?: string }; code?: number };
}

/** Reads `count` events of a watch (bounded), then disconnects. */
async function readWatch(url: string, count: number): Promise<WatchEvent[]> {
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(), 5000);
  const events: WatchEvent[] = [];
  try {
    const res = await fetch(url, { signal: ac.signal });
    assert.is(res.status, 200);
    const decoder = new TextDecoder();
    let buffered = '';
    for await (const chunk of res.body!) {
      buffered += decoder.decode(chunk as Uint8Array, { stream: true });
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        events.push(JSON.parse(buffered.slice(0, nl)) as WatchEvent);
        buffered = buffered.slice(nl + 1);
      }
      if (events.length >= count) break;
    }
    return events;
  } finally {
    clearTimeout(timer);
    ac.abort();
  }
}

const describe = (events: WatchEvent[]) => events.map((e) => `${e.type} ${e.object.metadata?.name ?? e.object.code}`);

test('list: items without kind, the list resourceVersion, namespace paths and single objects', async () => {
  const s = await KubeApiServer.start();
  try {
    s.create(service('a'));
    s.create(service('b', 'prod'));
    const all = (await (await fetch(`${s.url}/api/v1/services`)).json()) as { kind: string; metadata: { resourceVersion: string }; items: { kind?: string; metadata: { name: string; resourceVersion: string; uid: string } }[] };
    assert.is(all.kind, 'ServiceList');
    assert.is(all.metadata.resourceVersion, String(s.resourceVersion));
    assert.equal(all.items.map((i) => i.metadata.name).sort(), ['a', 'b']);
    assert.is(all.items[0]!.kind, undefined);
    assert.type(all.items[0]!.metadata.uid, 'string');
    const prod = (await (await fetch(`${s.url}/api/v1/namespaces/prod/services`)).json()) as { items: unknown[] };
    assert.is(prod.items.length, 1);
    const one = await fetch(`${s.url}/api/v1/namespaces/prod/services/b`);
    assert.is(((await one.json()) as { kind: string }).kind, 'Service');
    assert.is((await fetch(`${s.url}/api/v1/namespaces/prod/services/zz`)).status, 404);
    assert.is((await fetch(`${s.url}/api/v1/widgets`)).status, 404);
    assert.throws(() => s.create(service('a')), /already exists/);
    assert.throws(() => s.update(service('zz')), /does not exist/);
  } finally {
    await s.close();
  }
});

test('paged lists: limit/continue over the first page\'s snapshot; compaction expires the token', async () => {
  const s = await KubeApiServer.start();
  try {
    for (const name of ['a', 'b', 'c', 'd', 'e']) s.create(service(name));
    type Page = { kind: string; metadata: { resourceVersion: string; continue?: string }; items: { metadata: { name: string } }[] };
    const get = async (query: string) => (await (await fetch(`${s.url}/api/v1/services?${query}`)).json()) as Page;
    const first = await get('limit=2');
    const rv = first.metadata.resourceVersion;
    s.create(service('f'));
    s.delete('Service', 'default', 'a');
    const names: string[] = first.items.map((i) => i.metadata.name);
    let page = first;
    while (page.metadata.continue !== undefined) {
      page = await get(`limit=2&continue=${page.metadata.continue}`);
      assert.is(page.kind, 'ServiceList');
      assert.is(page.metadata.resourceVersion, rv, 'every page is of the first page\'s snapshot');
      names.push(...page.items.map((i) => i.metadata.name));
    }
    assert.equal(names, ['a', 'b', 'c', 'd', 'e'], 'neither the later create nor the delete shows');
    assert.is((await get('limit=10')).metadata.continue, undefined, 'one page when everything fits');
    const again = await get('limit=2');
    s.compact();
    const expired = await fetch(`${s.url}/api/v1/services?limit=2&continue=${again.metadata.continue!}`);
    assert.is(expired.status, 410);
    assert.match(((await expired.json()) as { message: string }).message, /continue parameter is too old/);
    assert.is((await fetch(`${s.url}/api/v1/services?limit=2&continue=garbage`)).status, 400);
  } finally {
    await s.close();
  }
});

test('watch: replay after a resourceVersion, then live; rv 0 starts from the current state', async () => {
  const s = await KubeApiServer.start();
  try {
    s.create(service('a'));
    const rv = s.resourceVersion;
    s.create(service('b'));
    s.update({ ...service('a'), spec: { clusterIP: '10.96.0.99' } });
    s.delete('Service', 'default', 'b');
    const replay = await readWatch(`${s.url}/api/v1/services?watch=true&resourceVersion=${rv}`, 3);
    assert.equal(describe(replay), ['ADDED b', 'MODIFIED a', 'DELETED b']);
    assert.ok(Number(replay[2]!.object.metadata!.resourceVersion) === s.resourceVersion, 'a delete takes a new rv');
    const fresh = readWatch(`${s.url}/api/v1/services?watch=true&resourceVersion=0`, 2);
    await new Promise((r) => setTimeout(r, 50));
    s.create(service('c'));
    assert.equal(describe(await fresh), ['ADDED a', 'ADDED c']);
  } finally {
    await s.close();
  }
});

test('compact: open watches end with a 410 ERROR event; older resourceVersions get HTTP 410', async () => {
  const s = await KubeApiServer.start();
  try {
    s.create(service('a'));
    const rv = s.resourceVersion;
    const open = readWatch(`${s.url}/api/v1/services?watch=true&resourceVersion=${rv}`, 1);
    await new Promise((r) => setTimeout(r, 50));
    s.compact();
    assert.equal(describe(await open), ['ERROR 410']);
    s.create(service('b'));
    const stale = await fetch(`${s.url}/api/v1/services?watch=true&resourceVersion=${rv - 1}`);
    assert.is(stale.status, 410);
    assert.match(((await stale.json()) as { message: string }).message, /too old resource version/);
  } finally {
    await s.close();
  }
});

test('failNext answers the next N matching requests with the status; then normal service resumes', async () => {
  const s = await KubeApiServer.start();
  try {
    s.failNext('/api/v1/pods', 2, { on: 'list' });
    const ac = new AbortController();
    const watch = await fetch(`${s.url}/api/v1/pods?watch=true&resourceVersion=0`, { signal: ac.signal });
    assert.is(watch.status, 200, 'watches are not counted by a list failure');
    ac.abort();
    assert.is((await fetch(`${s.url}/api/v1/pods`)).status, 500);
    assert.is((await fetch(`${s.url}/api/v1/pods`)).status, 500);
    assert.is((await fetch(`${s.url}/api/v1/pods`)).status, 200);
    s.failNext('/api/v1/nodes', 1, { status: 503 });
    assert.is((await fetch(`${s.url}/api/v1/nodes`)).status, 503);
    assert.equal(s.requestsFor('/api/v1/pods', false).map((r) => r.status), [500, 500, 200]);
  } finally {
    await s.close();
  }
});

test('field selectors filter lists and turn watch updates into ADDED/DELETED transitions', async () => {
  const s = await KubeApiServer.start();
  try {
    const pod = (name: string, nodeName: string) => ({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default' }, spec: { nodeName } });
    s.create(pod('p', ''));
    const rv = s.resourceVersion;
    s.update(pod('p', 'n1'));
    s.update(pod('p', 'n2'));
    const events = await readWatch(`${s.url}/api/v1/pods?watch=true&resourceVersion=${rv}&fieldSelector=spec.nodeName%3Dn1`, 2);
    assert.equal(describe(events), ['ADDED p', 'DELETED p']);
    const list = (await (await fetch(`${s.url}/api/v1/pods?fieldSelector=spec.nodeName!%3Dn2`)).json()) as { items: unknown[] };
    assert.is(list.items.length, 0);
    assert.is((await fetch(`${s.url}/api/v1/pods?fieldSelector=%3D%3D`)).status, 400);
  } finally {
    await s.close();
  }
});

test('discovery serves what the generic client needs; a token, when set, is required', async () => {
  const s = await KubeApiServer.start({ token: 'secret' });
  const tmp = tempDir('apiserver');
  try {
    assert.is((await fetch(`${s.url}/api/v1/services`)).status, 401);
    s.create({ apiVersion: 'networking.k8s.io/v1', kind: 'NetworkPolicy', metadata: { name: 'deny', namespace: 'default' }, spec: { podSelector: {} } });
    const { config } = loadKubeConfig({ kubeconfigPath: s.writeKubeconfig(`${tmp.dir}/kc`), env: {} });
    const client = KubernetesObjectApi.makeApiClient(config);
    const list = await client.list('networking.k8s.io/v1', 'NetworkPolicy');
    assert.equal(list.items.map((i) => i.metadata?.name), ['deny']);
    const groups = (await (await fetch(`${s.url}/apis`, { headers: { authorization: 'Bearer secret' } })).json()) as { groups: { name: string }[] };
    assert.equal(groups.groups.map((g) => g.name).sort(), ['discovery.k8s.io', 'networking.k8s.io']);
  } finally {
    await s.close();
    tmp.cleanup();
  }
});

test.run();
