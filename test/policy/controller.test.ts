// The policy controller over real tables: identities, ipcache and
// endpoint-policies follow endpoints, namespaces and policies; a change
// recomputes exactly the endpoints it can affect; invalid policies enforce
// nothing and change nothing else; identities survive a restore; nothing is
// final before the inputs are initialized; incremental equals full.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { DB, openStore } from '../../statedb/index.js';
import { CIDR_IDENTITY_MIN, newPolicyTables, POD_IDENTITY_MIN, type PolicyTables } from '../../tables/index.js';
import { cluster, NODE, remove, upsert, type Cluster } from './cluster.js';

const BASE = [
  upsert.ns('shop', { team: 'a' }),
  upsert.ns('dev', { team: 'b' }),
  upsert.pod({ ns: 'shop', name: 'web-1', labels: { app: 'web' }, ip: '10.0.1.1', ports: [{ name: 'http', port: 8080 }] }),
  upsert.pod({ ns: 'shop', name: 'web-2', labels: { app: 'web' }, ip: '10.0.1.2', ports: [{ name: 'http', port: 8080 }] }),
  upsert.pod({ ns: 'shop', name: 'db', labels: { app: 'db' }, ip: '10.0.1.3', ports: [{ name: 'pg', port: 5432 }] }),
  upsert.pod({ ns: 'dev', name: 'client', labels: { app: 'client' }, ip: '10.0.2.1' }),
  upsert.pod({ ns: 'dev', name: 'remote', labels: { app: 'client' }, ip: '10.0.9.9', node: 'node-b' }),
];

const DB_INGRESS = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: db-ingress, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress:
    - from: [ { podSelector: { matchLabels: { app: web } } } ]
      ports: [ { port: 5432 } ]
`;

const DEV_EGRESS = `
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: client-egress, namespace: dev }
spec:
  podSelector: { matchLabels: { app: client } }
  policyTypes: [Egress]
  egress:
    - to: [ { namespaceSelector: { matchLabels: { team: a } } } ]
`;

function identityOf(c: Cluster, id: string): number {
  return c.tables.endpoints.get(c.db.readTxn(), c.tables.endpoints.primary.query(id))?.identity ?? -1;
}

function endpointPolicy(c: Cluster, id: string) {
  return c.tables.endpointPolicies.getEntry(c.db.readTxn(), c.tables.endpointPolicies.primary.query(id));
}

function ipcache(c: Cluster): Record<string, number> {
  return Object.fromEntries([...c.tables.ipcache.all(c.db.readTxn())].map(({ object }) => [object.prefix, object.identity]));
}

/** The computed tables as plain data, statuses left out. */
function outputs(t: PolicyTables, db: DB): unknown {
  const txn = db.readTxn();
  const strip = <T extends object>(rows: Iterable<{ object: T }>) => [...rows].map(({ object }) => ({ ...object, status: undefined }));
  return {
    identities: [...t.identities.all(txn)].map((e) => e.object),
    ipcache: strip(t.ipcache.all(txn)),
    endpointPolicies: strip(t.endpointPolicies.all(txn)),
    endpoints: [...t.endpoints.all(txn)].map((e) => e.object),
  };
}

function fresh(): Cluster {
  const c = cluster();
  c.apply(...BASE);
  c.controller.step();
  return c;
}

// ------------------------------------------------------------ identities and ipcache
const model = suite('identities and ipcache');

model('one identity per label set and namespace; endpoints, identities and ipcache follow', () => {
  const c = fresh();
  const web = identityOf(c, 'shop/web-1');
  assert.ok(web >= POD_IDENTITY_MIN);
  assert.is(identityOf(c, 'shop/web-2'), web);
  assert.is(identityOf(c, 'dev/remote'), identityOf(c, 'dev/client'), 'same labels and namespace, other node');
  assert.not.equal(identityOf(c, 'shop/db'), web);
  assert.not.equal(identityOf(c, 'dev/client'), web);
  assert.equal(ipcache(c), {
    '10.0.1.1/32': web,
    '10.0.1.2/32': web,
    '10.0.1.3/32': identityOf(c, 'shop/db'),
    '10.0.2.1/32': identityOf(c, 'dev/client'),
    '10.0.9.9/32': identityOf(c, 'dev/client'),
  });
  const txn = c.db.readTxn();
  const row = c.tables.identities.get(txn, c.tables.identities.primary.query(web));
  assert.is(row?.labels, 'k8s:app=web,k8s:io.cilium.k8s.namespace.labels.kubernetes.io/metadata.name=shop,k8s:io.cilium.k8s.namespace.labels.team=a,k8s:io.kubernetes.pod.namespace=shop');
  assert.is(c.tables.identities.get(txn, c.tables.identities.primary.query(2))?.labels, 'reserved:world');
  assert.is(c.tables.identities.get(txn, c.tables.identities.primary.query(1))?.labels, 'reserved:host');
  assert.is(c.tables.identities.get(txn, c.tables.identities.primary.query(3))?.labels, 'reserved:unmanaged');
});

model('local pods with an interface get endpoint-policies rows (ifindex = endpoint id); remote pods do not', () => {
  const c = fresh();
  const rows = [...c.tables.endpointPolicies.all(c.db.readTxn())].map((e) => e.object);
  assert.equal(rows.map((r) => r.endpoint).sort(), ['dev/client', 'shop/db', 'shop/web-1', 'shop/web-2']);
  for (const r of rows) {
    assert.is(r.endpointId, r.ifindex);
    assert.ok(r.ifindex > 0);
    assert.equal(r.enforced, { ingress: false, egress: false });
    assert.is(r.status.kind, 'pending');
  }
});

model('host addresses are the host identity in the ipcache', () => {
  const c = cluster({ hostAddresses: ['192.0.2.10'] });
  c.controller.step();
  assert.equal(ipcache(c), { '192.0.2.10/32': 1 });
});

model('ipBlock CIDRs (and excepts) get CIDR identities and ipcache entries while a policy uses them', () => {
  const c = fresh();
  c.apply(
    upsert.policy(`
metadata: { name: from-lan, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [ { from: [ { ipBlock: { cidr: 192.168.0.0/16, except: [192.168.1.0/24] } } ] } ]
`),
  );
  c.controller.step();
  const cache = ipcache(c);
  const lan = cache['192.168.0.0/16']!;
  const except = cache['192.168.1.0/24']!;
  assert.ok(lan >= CIDR_IDENTITY_MIN && except >= CIDR_IDENTITY_MIN && lan !== except);
  const entries = endpointPolicy(c, 'shop/db')!.object.entries;
  assert.equal(entries, [{ direction: 'ingress', peerIdentity: lan, protocol: 0, portLo: 0, portHi: 65535 }]);
  c.apply(remove.policy('shop', 'from-lan'));
  c.controller.step();
  assert.is(ipcache(c)['192.168.0.0/16'], undefined);
  assert.is(c.tables.identities.get(c.db.readTxn(), c.tables.identities.primary.query(lan)), undefined, 'identity released');
});

model('deleting a pod removes its rows and releases its identity with the last holder', () => {
  const c = fresh();
  const db = identityOf(c, 'shop/db');
  c.apply(remove.pod('shop', 'db'));
  const report = c.controller.step();
  assert.is(report.endpointPoliciesDeleted, 1);
  assert.is(endpointPolicy(c, 'shop/db'), undefined);
  assert.is(ipcache(c)['10.0.1.3/32'], undefined);
  assert.is(c.tables.identities.get(c.db.readTxn(), c.tables.identities.primary.query(db)), undefined);
  const web = identityOf(c, 'shop/web-1');
  c.apply(remove.pod('shop', 'web-2'));
  c.controller.step();
  assert.ok(c.tables.identities.get(c.db.readTxn(), c.tables.identities.primary.query(web)), 'web-1 still holds it');
});

model('a local pod whose interface is unknown gets no row until it is known', () => {
  const c = fresh();
  c.apply({ kind: 'Pod', op: 'upsert', object: { metadata: { namespace: 'shop', name: 'late', labels: { app: 'db' } }, spec: { nodeName: NODE, containers: [] }, status: { podIP: '10.0.1.9' } } });
  c.controller.step();
  assert.is(endpointPolicy(c, 'shop/late'), undefined);
  assert.ok(ipcache(c)['10.0.1.9/32'], 'it is still a peer');
  c.apply(upsert.pod({ ns: 'shop', name: 'late', labels: { app: 'db' }, ip: '10.0.1.9' }));
  const report = c.controller.step();
  assert.equal([...report.recomputed], ['shop/late']);
  assert.ok(endpointPolicy(c, 'shop/late'));
});

// ------------------------------------------------------------ incremental recompute
const incremental = suite('incremental recompute');

incremental('a policy change recomputes exactly the endpoints it selects (before and after)', () => {
  const c = fresh();
  const webRevision = endpointPolicy(c, 'shop/web-1')!.revision;
  c.apply(upsert.policy(DB_INGRESS));
  let report = c.controller.step();
  assert.equal([...report.recomputed], ['shop/db']);
  assert.is(report.endpointPoliciesWritten, 1);
  assert.equal(endpointPolicy(c, 'shop/db')!.object.enforced, { ingress: true, egress: false });
  assert.equal(endpointPolicy(c, 'shop/db')!.object.entries, [{ direction: 'ingress', peerIdentity: identityOf(c, 'shop/web-1'), protocol: 6, portLo: 5432, portHi: 5432 }]);
  assert.is(endpointPolicy(c, 'shop/web-1')!.revision, webRevision, 'untouched');

  c.apply(upsert.policy(DEV_EGRESS));
  report = c.controller.step();
  assert.equal([...report.recomputed], ['dev/client'], 'the remote subject is no local endpoint');

  c.apply(upsert.policy(DB_INGRESS.replace('app: db', 'app: web')));
  report = c.controller.step();
  assert.equal([...report.recomputed].sort(), ['shop/db', 'shop/web-1', 'shop/web-2'], 'old and new subjects');

  c.apply(remove.policy('shop', 'db-ingress'));
  report = c.controller.step();
  assert.equal([...report.recomputed].sort(), ['shop/web-1', 'shop/web-2']);
  assert.equal(endpointPolicy(c, 'shop/web-1')!.object.enforced, { ingress: false, egress: false });
});

incremental('a peer label change recomputes the peer and the subjects whose policies name it', () => {
  const c = fresh();
  c.apply(upsert.policy(DB_INGRESS), upsert.policy(DEV_EGRESS));
  c.controller.step();
  const before = endpointPolicy(c, 'shop/db')!;
  c.apply(upsert.pod({ ns: 'shop', name: 'web-2', labels: { app: 'other' }, ip: '10.0.1.2', ports: [{ name: 'http', port: 8080 }] }));
  const report = c.controller.step();
  assert.equal([...report.recomputed].sort(), ['dev/client', 'shop/db', 'shop/web-2']);
  assert.is(endpointPolicy(c, 'shop/db')!.revision, before.revision, 'web-1 still has the web identity: nothing to write');
  const web2 = identityOf(c, 'shop/web-2');
  assert.not.equal(web2, identityOf(c, 'shop/web-1'));
  assert.is(report.endpointPoliciesWritten, 2, "web-2's own row (its identity) and dev/client's (egress to team a now names web-2's identity)");
  assert.ok(endpointPolicy(c, 'dev/client')!.object.entries.some((e) => e.peerIdentity === web2));
});

incremental('a namespace label change gives its pods new identities and recomputes who selects them', () => {
  const c = fresh();
  c.apply(
    upsert.policy(`
metadata: { name: from-team-b, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [ { from: [ { namespaceSelector: { matchLabels: { team: b } } } ] } ]
`),
  );
  c.controller.step();
  const oldClient = identityOf(c, 'dev/client');
  assert.equal(endpointPolicy(c, 'shop/db')!.object.entries.map((e) => e.peerIdentity), [oldClient]);
  c.apply(upsert.ns('dev', { team: 'c' }));
  const report = c.controller.step();
  assert.equal([...report.recomputed].sort(), ['dev/client', 'shop/db']);
  assert.not.equal(identityOf(c, 'dev/client'), oldClient);
  assert.is(identityOf(c, 'dev/remote'), identityOf(c, 'dev/client'));
  assert.equal(endpointPolicy(c, 'shop/db')!.object.entries, []);
  assert.is(ipcache(c)['10.0.9.9/32'], identityOf(c, 'dev/client'), 'remote pod ipcache entry follows');
});

incremental('incremental steps end where a full recompute does', () => {
  const c = fresh();
  c.apply(upsert.policy(DB_INGRESS), upsert.policy(DEV_EGRESS));
  c.controller.step();
  c.apply(upsert.ns('dev', { team: 'a' }), upsert.pod({ ns: 'dev', name: 'client2', labels: { app: 'client' }, ip: '10.0.2.2' }), remove.pod('shop', 'web-2'));
  c.controller.step();
  const incrementalState = outputs(c.tables, c.db);
  const report = c.controller.recomputeAll();
  assert.equal(outputs(c.tables, c.db), incrementalState);
  assert.is(report.endpointPoliciesWritten + report.ipcacheWritten + report.identitiesWritten, 0, 'the full path found nothing to change');
});

// ------------------------------------------------------------ invalid policies
const invalid = suite('invalid policies');

const BAD = {
  cidr: `
metadata: { name: bad-cidr, namespace: shop }
spec:
  podSelector: {}
  ingress: [ { from: [ { ipBlock: { cidr: 10.0.0.0/33 } } ] } ]
`,
  protocol: `
metadata: { name: bad-proto, namespace: shop }
spec:
  podSelector: {}
  ingress: [ { ports: [ { protocol: ICMP, port: 1 } ] } ]
`,
  range: `
metadata: { name: bad-range, namespace: shop }
spec:
  podSelector: {}
  ingress: [ { ports: [ { port: 9000, endPort: 8000 } ] } ]
`,
};

invalid('each is kept with a clear error on that object and changes no endpoint policy', () => {
  const c = fresh();
  c.apply(upsert.policy(DB_INGRESS));
  c.controller.step();
  const revisions = [...c.tables.endpointPolicies.all(c.db.readTxn())].map((e) => [e.object.endpoint, e.revision]);
  const ipcacheBefore = ipcache(c);
  const report = c.writer.apply(Object.values(BAD).map((y) => upsert.policy(y)));
  assert.equal(report.invalidPolicies, ['shop/bad-cidr', 'shop/bad-proto', 'shop/bad-range']);
  assert.is(report.errors.length, 0);
  const step = c.controller.step();
  assert.is(step.endpointPoliciesWritten, 0);
  assert.equal([...c.tables.endpointPolicies.all(c.db.readTxn())].map((e) => [e.object.endpoint, e.revision]), revisions);
  assert.equal(ipcache(c), ipcacheBefore);
  const error = (name: string) => c.tables.policies.get(c.db.readTxn(), c.tables.policies.primary.query(name))?.error ?? '';
  assert.match(error('shop/bad-cidr'), /NetworkPolicy shop\/bad-cidr: spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: invalid CIDR/);
  assert.match(error('shop/bad-proto'), /spec\.ingress\[0\]\.ports\[0\]\.protocol: must be TCP, UDP or SCTP \(got "ICMP"\)/);
  assert.match(error('shop/bad-range'), /spec\.ingress\[0\]\.ports\[0\]\.endPort: must be an integer in 9000\.\.65535/);
});

invalid('a valid policy replaced by an invalid version stops enforcing; fixed, it enforces again', () => {
  const c = fresh();
  c.apply(upsert.policy(DB_INGRESS));
  c.controller.step();
  c.apply(upsert.policy(DB_INGRESS.replace('port: 5432', 'port: 5432, protocol: ICMP')));
  c.controller.step();
  assert.equal(endpointPolicy(c, 'shop/db')!.object.enforced, { ingress: false, egress: false });
  c.apply(upsert.policy(DB_INGRESS));
  c.controller.step();
  assert.equal(endpointPolicy(c, 'shop/db')!.object.enforced, { ingress: true, egress: false });
});

// ------------------------------------------------------------ restore and initialization
const restore = suite('identity stability and initialization');

const PODS = BASE.filter((c) => c.kind === 'Pod');
const NAMESPACES = BASE.filter((c) => c.kind === 'Namespace');

function identities(c: Cluster): Record<string, number> {
  return Object.fromEntries([...c.tables.endpoints.all(c.db.readTxn())].map(({ object }) => [object.id, object.identity]));
}

restore('identities restored from the rows into a fresh DB are the same for the same label sets, whatever the order', () => {
  const first = fresh();
  const before = identities(first);
  const rows = [...first.tables.identities.all(first.db.readTxn())];

  const db = new DB();
  const tables = newPolicyTables(db);
  db.write(tables.identities, (txn) => tables.identities.restore(txn, rows));
  const second = cluster({ db, tables });
  second.apply(...NAMESPACES, ...[...PODS].reverse());
  second.controller.step();
  assert.equal(identities(second), before);

  // The control: without the rows, the reversed order numbers them differently.
  const third = cluster();
  third.apply(...NAMESPACES, ...[...PODS].reverse());
  third.controller.step();
  assert.not.equal(identities(third), before);
});

restore('identities survive a restart through the durable store', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'flg-identities-'));
  try {
    const db1 = new DB();
    const t1 = newPolicyTables(db1);
    const store1 = openStore(db1, join(dir, 'state.lmdb'));
    const first = cluster({ db: db1, tables: t1 });
    first.apply(...BASE);
    first.controller.step();
    const before = identities(first);
    await store1.close();

    const db2 = new DB();
    const t2 = newPolicyTables(db2);
    const store2 = openStore(db2, join(dir, 'state.lmdb'));
    try {
      const second = cluster({ db: db2, tables: t2 });
      second.apply(...NAMESPACES, ...[...PODS].reverse());
      second.controller.step();
      assert.equal(identities(second), before);
    } finally {
      await store2.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

restore('nothing is final before the inputs are initialized: restored identities are kept, outputs stay uninitialized', () => {
  const first = fresh();
  const rows = [...first.tables.identities.all(first.db.readTxn())];
  const dbIdentity = identityOf(first, 'shop/db');

  const db = new DB();
  const tables = newPolicyTables(db);
  db.write(tables.identities, (txn) => tables.identities.restore(txn, rows));
  const c = cluster({ db, tables });
  const podsDone = c.writer.registerInitializer('Pod', 'k8s-pods');
  c.apply(...NAMESPACES, ...PODS.filter((p) => p.object.metadata?.name !== 'db'));
  let report = c.controller.step();
  assert.is(report.initialized, false);
  const txn = db.readTxn();
  assert.is(tables.endpointPolicies.initialized(txn).initialized, false);
  assert.is(tables.ipcache.initialized(txn).initialized, false);
  assert.ok(tables.identities.get(txn, tables.identities.primary.query(dbIdentity)), "the absent pod's identity is kept while pods are still listing");

  podsDone();
  report = c.controller.step();
  assert.is(report.initialized, true);
  assert.is(tables.endpointPolicies.initialized(db.readTxn()).initialized, true);
  assert.is(tables.identities.get(db.readTxn(), tables.identities.primary.query(dbIdentity)), undefined, 'released once the listing is complete');
});

restore('the background loop follows changes and stops cleanly', async () => {
  const c = cluster();
  c.controller.start();
  try {
    c.apply(...BASE, upsert.policy(DB_INGRESS));
    const deadline = Date.now() + 5000;
    while (endpointPolicy(c, 'shop/db')?.object.enforced.ingress !== true && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    assert.is(endpointPolicy(c, 'shop/db')?.object.enforced.ingress, true);
  } finally {
    await c.controller.stop();
  }
});

model.run();
incremental.run();
invalid.run();
restore.run();
