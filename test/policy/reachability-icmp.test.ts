// Real ping (iputils) between pods in network namespaces, policies through
// the writer, the controller and the reconcilers, the datapath on the
// host-side veths with tcx. Policy fails closed for ICMP: a default deny
// drops pings and a rule with ports does not allow them; a rule without
// ports does, also a ping large enough to be fragmented; replies pass via
// conntrack. IPv6 to an enforcing pod is dropped while neighbour discovery
// still resolves its neighbours both ways.
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { diffCounters, ifindexOf, policyReconcilers, type Datapath } from '../../datapath/index.js';
import { DB, type AnyTable } from '../../statedb/index.js';
import { newPolicyTables, PolicyController, PolicyWriter, type Labels, type PolicyObjectChange } from '../../tables/index.js';
import { openTestDatapath } from '../support/datapath-fixture.js';
import { CommandError, NetTopology, type Netns } from '../support/netns.js';
import { namespace, networkPolicy, NODE, pod } from './cluster.js';


interface PodDef {
  key: string;
  ns: string;
  name: string;
  labels: Labels;
  subnet: number;
}
const PODS: PodDef[] = [
  { key: 'web', ns: 'prod', name: 'web', labels: { app: 'web' }, subnet: 1 },
  { key: 'db', ns: 'prod', name: 'db', labels: { app: 'db' }, subnet: 2 },
  { key: 'client', ns: 'staging', name: 'client', labels: { app: 'client' }, subnet: 3 },
];
const v4 = (subnet: number, host = 2) => `10.211.${subnet}.${host}`;
const v6 = (subnet: number, host = 2) => `fd00:211:${subnet}::${host}`;

const POLICY = {
  defaultDeny: `
metadata: { name: default-deny, namespace: prod }
spec: { podSelector: {}, policyTypes: [Ingress] }`,
  dbNoEgress: `
metadata: { name: db-no-egress, namespace: prod }
spec: { podSelector: { matchLabels: { app: db } }, policyTypes: [Egress], egress: [] }`,
  webTcpFromStaging: `
metadata: { name: web-from-staging, namespace: prod }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [ { from: [ { namespaceSelector: { matchLabels: { env: staging } } } ], ports: [ { protocol: TCP, port: 80 } ] } ]`,
  webAnyFromStaging: `
metadata: { name: web-from-staging, namespace: prod }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [ { from: [ { namespaceSelector: { matchLabels: { env: staging } } } ] } ]`,
};

test('real ping: denied by default deny and by a rule with ports, allowed by one without (also fragmented); IPv6 dropped but neighbour discovery works', async () => {
  const topo = new NetTopology('ri');
  let dp: (Datapath & { dispose(): void }) | undefined;
  let stop: (() => Promise<void>) | undefined;
  try {
    const host = topo.namespace('host');
    topo.enableForwarding(host);
    const nsOf = new Map<string, Netns>();
    for (const p of PODS) {
      const ns = topo.namespace(p.key);
      nsOf.set(p.key, ns);
      topo.veth({ ns: host, name: `h-${p.key}`, address: `${v4(p.subnet, 1)}/24` }, { ns, name: 'eth0', address: `${v4(p.subnet)}/24` });
      topo.route(ns, 'default', v4(p.subnet, 1));
      // IPv6 on the link only (no DAD: the addresses are usable at once).
      topo.exec(host, 'ip', ['-6', 'addr', 'add', `${v6(p.subnet, 1)}/64`, 'dev', `h-${p.key}`, 'nodad']);
      topo.exec(ns, 'ip', ['-6', 'addr', 'add', `${v6(p.subnet)}/64`, 'dev', 'eth0', 'nodad']);
    }
    const podNs = (key: string) => nsOf.get(key)!;
    const subnetOf = (key: string) => PODS.find((p) => p.key === key)!.subnet;

    /** One ping, bounded by -W; true when the reply came. */
    const ping = (from: Netns, to: string, extra: string[] = []): boolean => {
      try {
        topo.exec(from, 'ping', ['-n', '-q', '-c', '1', '-W', '1', ...extra, to], 10_000);
        return true;
      } catch (err) {
        if (err instanceof CommandError) return false;
        throw err;
      }
    };
    const pings = (pairs: [string, string][]) => pairs.map(([a, b]) => `${a}->${b} ${ping(podNs(a), v4(subnetOf(b))) ? 'ok' : 'blocked'}`);

    dp = openTestDatapath();
    dp.attach(PODS.map((p) => ({ ifname: `h-${p.key}`, netns: host.name })), { mode: 'tcx' });
    const db = new DB();
    const tables = newPolicyTables(db);
    const interfaces = {
      ifindex: (name: string) => {
        try {
          return ifindexOf(name, host.name);
        } catch {
          return undefined;
        }
      },
      routeInterface: () => undefined,
    };
    const writer = new PolicyWriter(db, tables, { nodeName: NODE, interfaces });
    const controller = new PolicyController(db, tables);
    const reconcilers = policyReconcilers(db, tables, dp.maps, { retry: { minMs: 10, maxMs: 100, jitter: 0 } });
    reconcilers.start();
    stop = () => reconcilers.stop();
    const apply = async (changes: PolicyObjectChange[]) => {
      assert.equal(writer.apply(changes).errors, []);
      controller.step();
      const rev = (t: AnyTable) => t.revision(db.readTxn());
      await reconcilers.ipcache.waitUntilReconciled(rev(tables.ipcache));
      await reconcilers.endpointPolicies.waitUntilReconciled(rev(tables.endpointPolicies));
      for (const { object } of tables.endpointPolicies.all(db.readTxn())) assert.is(object.status.kind, 'done', `${object.endpoint}: ${object.status.error ?? ''}`);
    };
    const policy = (yaml: string): PolicyObjectChange => ({ kind: 'NetworkPolicy', op: 'upsert', object: networkPolicy(yaml) });

    await apply([
      { kind: 'Namespace', op: 'upsert', object: namespace('prod', { env: 'prod' }) },
      { kind: 'Namespace', op: 'upsert', object: namespace('staging', { env: 'staging' }) },
      ...PODS.map((p): PolicyObjectChange => ({ kind: 'Pod', op: 'upsert', object: pod({ ns: p.ns, name: p.name, labels: p.labels, ip: v4(p.subnet), iface: `h-${p.key}` }) })),
    ]);
    const pairs: [string, string][] = [
      ['client', 'web'],
      ['client', 'db'],
      ['web', 'client'],
      ['db', 'client'],
    ];
    assert.equal(pings(pairs), ['client->web ok', 'client->db ok', 'web->client ok', 'db->client ok'], 'no policy');

    // Default deny (ingress, prod), no egress for db, and a rule with ports for web.
    await apply([policy(POLICY.defaultDeny), policy(POLICY.dbNoEgress), policy(POLICY.webTcpFromStaging)]);
    const before = dp.counters();
    assert.equal(
      pings(pairs),
      ['client->web blocked', 'client->db blocked', 'web->client ok', 'db->client blocked'],
      'a rule with ports allows no ICMP; the reply to web passes its default-deny ingress',
    );
    const denied = diffCounters(dp.counters(), before);
    assert.ok(denied.DROP_POLICY_INGRESS.packets >= 2 && denied.DROP_POLICY_EGRESS.packets >= 1, 'the pings were dropped by policy');

    // The same peers without ports: every protocol, ICMP included.
    await apply([policy(POLICY.webAnyFromStaging)]);
    assert.equal(pings(pairs), ['client->web ok', 'client->db blocked', 'web->client ok', 'db->client blocked'], 'a rule without ports');
    const beforeBig = dp.counters();
    assert.ok(ping(podNs('client'), v4(subnetOf('web')), ['-s', '3000', '-M', 'dont']), 'a 3000-byte ping, fragmented both ways');
    const big = diffCounters(dp.counters(), beforeBig);
    assert.ok(big.PASSED_FRAGMENT.packets >= 4, `the ping went as fragments (${big.PASSED_FRAGMENT.packets} seen)`);
    assert.is(big.DROP_FRAG_NOT_FOUND.packets, 0);

    // IPv6: the enforcing db drops it both ways, yet resolves its neighbours.
    const beforeV6 = dp.counters();
    assert.ok(ping(host, v6(subnetOf('client')), ['-6']), 'IPv6 to a pod that enforces nothing works');
    assert.not.ok(ping(host, v6(subnetOf('db')), ['-6']), 'IPv6 into db (ingress enforced)');
    assert.not.ok(ping(podNs('db'), v6(subnetOf('db'), 1), ['-6']), 'IPv6 out of db (egress enforced)');
    assert.ok(diffCounters(dp.counters(), beforeV6).DROP_POLICY_UNSUPPORTED_FAMILY.packets >= 2);
    const resolved = (ns: Netns, addr: string, dev: string) => /lladdr/.test(topo.exec(ns, 'ip', ['-6', 'neigh', 'show', addr, 'dev', dev]));
    assert.ok(resolved(host, v6(subnetOf('db')), 'h-db'), "the host resolved db's MAC (NS into db, NA out of it)");
    assert.ok(resolved(podNs('db'), v6(subnetOf('db'), 1), 'eth0'), "db resolved the host's MAC (NS out of db, NA into it)");
  } finally {
    await stop?.();
    dp?.dispose();
    topo.destroy();
  }
});

test.run();
