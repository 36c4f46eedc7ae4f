// The policy reconcilers on the real datapath maps: ipcache rows become
// flg_ipcache entries, endpoint-policies rows become flg_endpoints entries
// and per-endpoint inner LPM maps, flg_policy_state counts the enforcing
// endpoints; changes are applied (swap or diff), deletes and prune remove
// exactly what no row explains, operations are idempotent, and a bad policy
// changes no map.
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  EndpointPolicyOperations,
  endpointPolicyMapIds,
  PolicyMapFullError,
  IpcacheOperations,
  ipcacheKey,
  ipcacheKeyPrefix,
  ipcacheValue,
  policyMapEntries,
  policyReconcilers,
  readEndpointPolicyMap,
  syncEndpointPolicyMap,
  type Datapath,
  type PolicyMapUpdateMode,
  type PolicyReconcilers,
} from '../../datapath/index.js';
import { Status, type BatchEntry } from '../../reconcilers/index.js';
import type { AnyTable } from '../../statedb/index.js';
import type { EndpointPolicyRow } from '../../tables/index.js';
import { openTestDatapath } from '../support/datapath-fixture.js';
import { cluster, remove, upsert, type Cluster } from './cluster.js';

const OBJECTS = [
  upsert.ns('shop', { team: 'a' }),
  upsert.pod({ ns: 'shop', name: 'web', labels: { app: 'web' }, ip: '10.0.1.1' }),
  upsert.pod({ ns: 'shop', name: 'db', labels: { app: 'db' }, ip: '10.0.1.3' }),
  upsert.pod({ ns: 'shop', name: 'far', labels: { app: 'web' }, ip: '10.0.9.9', node: 'node-b' }),
];

const DB_POLICY = (port: number) => `
metadata: { name: db, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [ { from: [ { podSelector: { matchLabels: { app: web } } }, { ipBlock: { cidr: 192.168.0.0/16 } } ], ports: [ { port: ${port}, endPort: ${port + 10} } ] } ]
`;

interface Ctx {
  c: Cluster;
  dp: Datapath & { dispose(): void };
  rec: PolicyReconcilers;
}

function reconcileSuite(name: string, mode: PolicyMapUpdateMode = 'diff') {
  const s = suite<Ctx>(name, {} as Ctx);
  s.before.each((ctx) => {
    ctx.dp = openTestDatapath();
    ctx.c = cluster();
    ctx.rec = policyReconcilers(ctx.c.db, ctx.c.tables, ctx.dp.maps, { mode, retry: { minMs: 10, maxMs: 50, jitter: 0 } });
    ctx.rec.start();
  });
  s.after.each(async (ctx) => {
    await ctx.rec.stop();
    await ctx.c.controller.stop();
    ctx.dp.dispose();
  });
  return s;
}

/** Steps the controller and waits until both reconcilers have attempted everything committed. */
async function settle({ c, rec }: Ctx): Promise<void> {
  c.controller.step();
  const rev = (t: AnyTable) => t.revision(c.db.readTxn());
  await rec.ipcache.waitUntilReconciled(rev(c.tables.ipcache));
  await rec.endpointPolicies.waitUntilReconciled(rev(c.tables.endpointPolicies));
}

function row(c: Cluster, id: string): EndpointPolicyRow {
  const r = c.tables.endpointPolicies.get(c.db.readTxn(), c.tables.endpointPolicies.primary.query(id));
  if (r === undefined) throw new Error(`no endpoint-policies row for ${id}`);
  return r;
}

function ipcacheDump(dp: Datapath): Record<string, number> {
  return Object.fromEntries(dp.maps.ipcache.getAll().map(([k, v]) => [ipcacheKeyPrefix(k), v.secIdentity]));
}

function mapsDump(dp: Datapath): unknown {
  return {
    ipcache: ipcacheDump(dp),
    endpoints: dp.maps.endpoints.getAll().sort((a, b) => a[0] - b[0]),
    policies: [...dp.maps.policy.keys()].sort().map((id) => [id, [...(readEndpointPolicyMap(dp.maps.policy, id) ?? new Map()).keys()].sort()]),
    state: dp.maps.policyState.get(0),
  };
}

const tablesToMaps = reconcileSuite('tables -> maps');

tablesToMaps('ipcache, endpoints, policy maps and the enforcing count follow the tables', async (ctx) => {
  const { c, dp } = ctx;
  c.apply(...OBJECTS);
  await settle(ctx);
  const rows = Object.fromEntries([...c.tables.ipcache.all(c.db.readTxn())].map(({ object }) => [object.prefix, object.identity]));
  assert.equal(ipcacheDump(dp), rows);
  assert.is(Object.keys(rows).length, 3);
  const db = row(c, 'shop/db');
  assert.equal(dp.maps.endpoints.get(db.ifindex), { endpointId: db.endpointId, secIdentity: db.identity, flags: 0, pad: 0 });
  assert.equal(dp.maps.policyState.get(0)?.enforcingEndpoints, 0, 'nobody enforces yet');

  c.apply(upsert.policy(DB_POLICY(5000)));
  await settle(ctx);
  const enforced = row(c, 'shop/db');
  assert.is(enforced.status.kind, 'done');
  assert.is(dp.maps.endpoints.get(enforced.ifindex)?.flags, 1);
  assert.is(dp.maps.policyState.get(0)?.enforcingEndpoints, 1);
  const inner = readEndpointPolicyMap(dp.maps.policy, enforced.endpointId)!;
  assert.equal([...inner.keys()].sort(), [...policyMapEntries(enforced.entries).keys()].sort());
  assert.is(inner.size, 2 * 3, 'two peers (web identity, the CIDR) x [5000, 5010] = 5000-5007, 5008-5009, 5010');
  assert.ok(ipcacheDump(dp)['192.168.0.0/16'], 'the CIDR is in the ipcache');
});

tablesToMaps('a policy change rewrites the map; removing the policy and the pod clears everything', async (ctx) => {
  const { c, dp } = ctx;
  c.apply(...OBJECTS, upsert.policy(DB_POLICY(5000)));
  await settle(ctx);
  const id = row(c, 'shop/db').endpointId;
  c.apply(upsert.policy(DB_POLICY(6000)));
  await settle(ctx);
  const ports = [...readEndpointPolicyMap(dp.maps.policy, id)!.values()].map((e) => e.key.dport);
  assert.ok(ports.includes(6000) && !ports.includes(5000));
  c.apply(remove.policy('shop', 'db'));
  await settle(ctx);
  assert.is(dp.maps.policyState.get(0)?.enforcingEndpoints, 0);
  assert.is(readEndpointPolicyMap(dp.maps.policy, id)!.size, 0);
  assert.is(ipcacheDump(dp)['192.168.0.0/16'], undefined);
  c.apply(remove.pod('shop', 'db'));
  await settle(ctx);
  assert.is(dp.maps.endpoints.get(id), undefined);
  assert.is(readEndpointPolicyMap(dp.maps.policy, id), undefined);
  assert.is(ipcacheDump(dp)['10.0.1.3/32'], undefined);
});

tablesToMaps('prune removes entries, endpoints and policy maps no row explains, and nothing else', async (ctx) => {
  const { c, dp } = ctx;
  c.apply(...OBJECTS, upsert.policy(DB_POLICY(5000)));
  await settle(ctx);
  const before = mapsDump(dp);
  dp.maps.ipcache.put(ipcacheKey('172.16.0.0/12'), ipcacheValue(77));
  dp.maps.endpoints.put(4242, { endpointId: 4242, secIdentity: 77, flags: 3 });
  syncEndpointPolicyMap(dp.maps.policy, 4242, policyMapEntries([{ direction: 'ingress', peerIdentity: 0, protocol: 0, portLo: 0, portHi: 65535 }]));
  ctx.rec.ipcache.triggerPrune();
  ctx.rec.endpointPolicies.triggerPrune();
  const deadline = Date.now() + 5000;
  while (JSON.stringify(mapsDump(dp)) !== JSON.stringify(before) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
  assert.equal(mapsDump(dp), before);
});

tablesToMaps('an invalid policy changes no map', async (ctx) => {
  const { c, dp } = ctx;
  c.apply(...OBJECTS, upsert.policy(DB_POLICY(5000)));
  await settle(ctx);
  const before = mapsDump(dp);
  const report = c.writer.apply([upsert.policy(DB_POLICY(5000).replace('name: db', 'name: bad').replace('192.168.0.0/16', '192.168.0.0/40'))]);
  assert.equal(report.invalidPolicies, ['shop/bad']);
  await settle(ctx);
  assert.equal(mapsDump(dp), before);
});

const swapMode = reconcileSuite('tables -> maps (swap mode)', 'swap');

/** The kernel id of an endpoint's inner map. */
function innerId(dp: Datapath, endpointId: number): number | undefined {
  const key = Buffer.alloc(4);
  key.writeUInt32LE(endpointId);
  return dp.maps.policy.map.innerMapId(key);
}

tablesToMaps('diff mode (the default) changes the live inner map in place', async (ctx) => {
  const { c, dp } = ctx;
  c.apply(...OBJECTS, upsert.policy(DB_POLICY(5000)));
  await settle(ctx);
  const id = row(c, 'shop/db').endpointId;
  const before = innerId(dp, id);
  c.apply(upsert.policy(DB_POLICY(6000)));
  await settle(ctx);
  assert.is(innerId(dp, id), before, 'same inner map');
  assert.equal([...readEndpointPolicyMap(dp.maps.policy, id)!.keys()].sort(), [...policyMapEntries(row(c, 'shop/db').entries).keys()].sort());
});

swapMode('swap mode installs a fresh inner map holding exactly the new entries', async (ctx) => {
  const { c, dp } = ctx;
  c.apply(...OBJECTS, upsert.policy(DB_POLICY(5000)));
  await settle(ctx);
  const id = row(c, 'shop/db').endpointId;
  const before = innerId(dp, id);
  c.apply(upsert.policy(DB_POLICY(6000)));
  await settle(ctx);
  assert.not.equal(innerId(dp, id), before, 'a new inner map');
  assert.equal([...readEndpointPolicyMap(dp.maps.policy, id)!.keys()].sort(), [...policyMapEntries(row(c, 'shop/db').entries).keys()].sort());
});

const ops = suite('operations');

ops('idempotent: updates repeat, deletes of missing entries succeed, and a restart reads the enforcing count back', () => {
  const dp = openTestDatapath();
  try {
    const txn = cluster().db.readTxn();
    const epOps = new EndpointPolicyOperations(dp.maps);
    const r = { endpoint: 'a/b', endpointId: 7, ifindex: 7, interfaceName: 'v7', identity: 300, enforced: { ingress: true, egress: false }, entries: [{ direction: 'ingress' as const, peerIdentity: 0, protocol: 6, portLo: 80, portHi: 80 }], status: Status.pending() } as EndpointPolicyRow;
    epOps.update(txn, 1, r);
    epOps.update(txn, 1, r);
    assert.is(readEndpointPolicyMap(dp.maps.policy, 7)!.size, 1);
    assert.is(dp.maps.policyState.get(0)?.enforcingEndpoints, 1);
    const again = new EndpointPolicyOperations(dp.maps);
    again.update(txn, 2, { ...r, endpoint: 'a/c', endpointId: 8, ifindex: 8, enforced: { ingress: false, egress: false } });
    assert.is(dp.maps.policyState.get(0)?.enforcingEndpoints, 1, 'the pinned enforcing endpoint still counts');
    epOps.delete(txn, 3, r);
    epOps.delete(txn, 3, r);
    assert.is(dp.maps.endpoints.get(7), undefined);
    const ipOps = new IpcacheOperations(dp.maps.ipcache);
    const ip = { prefix: '10.9.9.9/32', identity: 5, source: 'endpoint', owner: 'a/b' } as never;
    ipOps.update(txn, 1, ip);
    ipOps.update(txn, 1, ip);
    ipOps.delete(txn, 2, ip);
    ipOps.delete(txn, 2, ip);
    assert.equal(dp.maps.ipcache.getAll(), []);
  } finally {
    dp.dispose();
  }
});

ops('batches: 50 new endpoints in one install, one too big for its map fails alone, then all removed in one batch', () => {
  const dp = openTestDatapath();
  try {
    const txn = cluster().db.readTxn();
    const epOps = new EndpointPolicyOperations(dp.maps);
    const make = (i: number, rules = 1): EndpointPolicyRow => ({
      endpoint: `a/p${i}`,
      endpointId: 100 + i,
      ifindex: 100 + i,
      interfaceName: `v${i}`,
      identity: 300 + i,
      enforced: { ingress: true, egress: false },
      entries: Array.from({ length: rules }, (_, r) => ({ direction: 'ingress' as const, peerIdentity: 1000 + r, protocol: 6, portLo: 80, portHi: 80 })),
      status: Status.pending(),
    });
    const entries: BatchEntry<EndpointPolicyRow>[] = Array.from({ length: 50 }, (_, i) => ({ object: make(i), revision: i + 1, error: undefined }));
    entries.push({ object: make(50, 16385), revision: 51, error: undefined });
    epOps.updateBatch(txn, entries);
    assert.equal(entries.slice(0, 50).map((e) => e.error), Array(50).fill(undefined));
    assert.instance(entries[50]!.error, PolicyMapFullError);
    assert.is(dp.maps.endpoints.getAll().length, 50);
    assert.is(endpointPolicyMapIds(dp.maps.policy).length, 50);
    assert.is(dp.maps.policyState.get(0)?.enforcingEndpoints, 50);
    const removals = entries.slice(0, 50).map((e) => ({ ...e, error: undefined }));
    epOps.deleteBatch(txn, removals);
    assert.equal(removals.map((e) => e.error), Array(50).fill(undefined));
    assert.equal([dp.maps.endpoints.getAll().length, endpointPolicyMapIds(dp.maps.policy).length, dp.maps.policyState.get(0)?.enforcingEndpoints], [0, 0, 0]);
  } finally {
    dp.dispose();
  }
});

tablesToMaps.run();
swapMode.run();
ops.run();
