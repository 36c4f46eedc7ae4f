// Reachability matrix in network namespaces. Four pods in two namespaces
// (each pod a namespace with a veth to a host namespace, the datapath on
// the host-side veths with tcx) and one outside client; policies go through
// the writer, the controller and the reconcilers; every pod and the client
// probe every other pod on every port with real TCP and UDP, and the
// outcome must equal the expected matrix. Then bad policies are applied
// (rejected, maps and traffic unchanged), then policies change live and the
// matrix is checked again.
import type { ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { test } from 'uvu';
import * as assert from 'uvu/assert';
import { ifindexOf, policyReconcilers, readEndpointPolicyMap, type Datapath } from '../../datapath/index.js';
import { DB, type AnyTable } from '../../statedb/index.js';
import { newPolicyTables, PolicyController, PolicyWriter, type Labels, type PolicyObjectChange } from '../../tables/index.js';
import { openTestDatapath } from '../support/datapath-fixture.js';
import { NetTopology, waitForLine, type Netns } from '../support/netns.js';
import { namespace, networkPolicy, NODE, pod } from './cluster.js';

const AGENT = fileURLToPath(new URL('../support/reach-agent.ts', import.meta.url));
const TCP_PORTS = [80, 5432, 8000, 8100, 8101];
const UDP_PORTS = [53];
const PORTS = [...TCP_PORTS.map((p) => `tcp/${p}`), ...UDP_PORTS.map((p) => `udp/${p}`)];
const TIMEOUT_MS = { tcp: 1500, udp: 1000 };

interface PodDef {
  key: string;
  ns: string;
  name: string;
  labels: Labels;
  subnet: number;
}
const PODS: PodDef[] = [
  { key: 'a1', ns: 'prod', name: 'web', labels: { app: 'web' }, subnet: 1 },
  { key: 'a2', ns: 'prod', name: 'db', labels: { app: 'db' }, subnet: 2 },
  { key: 'b1', ns: 'staging', name: 'web', labels: { app: 'web' }, subnet: 3 },
  { key: 'b2', ns: 'staging', name: 'client', labels: { app: 'client' }, subnet: 4 },
];
const EXTERNAL = { key: 'ext', subnet: 99 };
const address = (subnet: number) => `10.210.${subnet}.2`;

const POLICY = {
  defaultDeny: `
metadata: { name: default-deny, namespace: prod }
spec: { podSelector: {}, policyTypes: [Ingress] }`,
  dbFromWeb: `
metadata: { name: db-from-web, namespace: prod }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [ { from: [ { podSelector: { matchLabels: { app: web } } } ], ports: [ { protocol: TCP, port: 5432 } ] } ]`,
  webFromStaging: `
metadata: { name: web-from-staging, namespace: prod }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [ { from: [ { namespaceSelector: { matchLabels: { env: staging } } } ], ports: [ { protocol: TCP, port: 80 } ] } ]`,
  webFromLab: `
metadata: { name: web-from-lab, namespace: prod }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [ { from: [ { ipBlock: { cidr: 10.210.99.0/24 } } ], ports: [ { protocol: TCP, port: 8000, endPort: 8100 } ] } ]`,
  clientEgress: `
metadata: { name: client-egress, namespace: staging }
spec:
  podSelector: { matchLabels: { app: client } }
  policyTypes: [Egress]
  egress: [ { to: [ { namespaceSelector: { matchLabels: { env: prod } } } ], ports: [ { protocol: TCP, port: 80 }, { protocol: UDP, port: 53 } ] } ]`,
  // The live change.
  webFromStagingWithDns: `
metadata: { name: web-from-staging, namespace: prod }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [ { from: [ { namespaceSelector: { matchLabels: { env: staging } } } ], ports: [ { protocol: TCP, port: 80 }, { protocol: UDP, port: 53 } ] } ]`,
  dbFromWebAnywhere: `
metadata: { name: db-from-web, namespace: prod }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress:
    - from:
        - podSelector: { matchLabels: { app: web } }
        - namespaceSelector: { matchLabels: { env: staging } }
          podSelector: { matchLabels: { app: web } }
      ports: [ { protocol: TCP, port: 5432 } ]`,
  stagingWebDeny: `
metadata: { name: web-deny, namespace: staging }
spec: { podSelector: { matchLabels: { app: web } }, policyTypes: [Ingress], ingress: [] }`,
  // Bad input.
  badCidr: `
metadata: { name: bad-cidr, namespace: prod }
spec: { podSelector: {}, ingress: [ { from: [ { ipBlock: { cidr: 10.210.0.0/99 } } ] } ] }`,
  badProtocol: `
metadata: { name: bad-protocol, namespace: staging }
spec: { podSelector: {}, policyTypes: [Ingress, Egress], ingress: [ { ports: [ { protocol: ICMP } ] } ] }`,
  badRange: `
metadata: { name: bad-range, namespace: staging }
spec: { podSelector: {}, ingress: [ { ports: [ { protocol: TCP, port: 8100, endPort: 8000 } ] } ] }`,
};

const all = (src: string, dst: string) => PORTS.map((p) => `${src}->${dst} ${p}`);
const EXPECTED_INITIAL = [
  'b1->a1 tcp/80',
  'b2->a1 tcp/80',
  'ext->a1 tcp/8000',
  'ext->a1 tcp/8100',
  'a1->a2 tcp/5432',
  ...all('a1', 'b1'),
  ...all('a2', 'b1'),
  ...all('ext', 'b1'),
  ...all('a1', 'b2'),
  ...all('a2', 'b2'),
  ...all('b1', 'b2'),
  ...all('ext', 'b2'),
];
const EXPECTED_AFTER_CHANGE = [
  'b1->a1 tcp/80',
  'b1->a1 udp/53',
  'b2->a1 tcp/80',
  'b2->a1 udp/53',
  'ext->a1 tcp/8000',
  'ext->a1 tcp/8100',
  'a1->a2 tcp/5432',
  'b1->a2 tcp/5432',
  ...all('a1', 'b2'),
  ...all('a2', 'b2'),
  ...all('b1', 'b2'),
  ...all('ext', 'b2'),
];

/** A reach-agent process in one namespace. */
class Agent {
  private nextId = 1;
  private readonly pending = new Map<number, (r: { ok: boolean; reply?: string; error?: string }) => void>();
  constructor(readonly child: ChildProcess) {
    let buffered = '';
    child.stdout?.on('data', (d: Buffer) => {
      buffered += d.toString();
      let nl: number;
      while ((nl = buffered.indexOf('\n')) >= 0) {
        const line = buffered.slice(0, nl);
        buffered = buffered.slice(nl + 1);
        if (!line.startsWith('{')) continue;
        const r = JSON.parse(line) as { id: number; ok: boolean; reply?: string; error?: string };
        this.pending.get(r.id)?.(r);
        this.pending.delete(r.id);
      }
    });
  }

  probe(proto: 'tcp' | 'udp', host: string, port: number): Promise<{ ok: boolean; reply?: string; error?: string }> {
    const id = this.nextId++;
    const timeoutMs = TIMEOUT_MS[proto];
    return new Promise((resolve) => {
      const guard = setTimeout(() => resolve({ ok: false, error: 'agent did not answer' }), timeoutMs + 3000);
      this.pending.set(id, (r) => {
        clearTimeout(guard);
        resolve(r);
      });
      this.child.stdin?.write(`${JSON.stringify({ id, proto, host, port, timeoutMs })}\n`);
    });
  }
}

/** Probes every source -> every other pod on every port; returns what got through (and checks who answered). */
async function matrix(agents: Map<string, Agent>): Promise<string[]> {
  const probes: Promise<string | undefined>[] = [];
  for (const [src, agent] of agents) {
    for (const dst of PODS) {
      if (dst.key === src) continue;
      for (const p of PORTS) {
        const [proto, port] = p.split('/') as ['tcp' | 'udp', string];
        probes.push(
          agent.probe(proto, address(dst.subnet), Number(port)).then((r) => {
            if (!r.ok) return undefined;
            assert.is(r.reply, dst.key, `${src}->${dst.key} ${p} answered by ${r.reply}`);
            return `${src}->${dst.key} ${p}`;
          }),
        );
      }
    }
  }
  return (await Promise.all(probes)).filter((x): x is string => x !== undefined).sort();
}

function assertMatrix(actual: string[], expected: string[], label: string): void {
  const want = [...expected].sort();
  const missing = want.filter((x) => !actual.includes(x));
  const extra = actual.filter((x) => !want.includes(x));
  assert.ok(missing.length === 0 && extra.length === 0, `${label}: blocked but expected open: ${JSON.stringify(missing)}; open but expected blocked: ${JSON.stringify(extra)}`);
}

test('reachability matrix: default deny, pod labels, namespace labels, ipBlock, port range; bad input; live change', async () => {
  const topo = new NetTopology('rm');
  let dp: (Datapath & { dispose(): void }) | undefined;
  let stop: (() => Promise<void>) | undefined;
  try {
    const host = topo.namespace('host');
    topo.enableForwarding(host);
    const nsOf = new Map<string, Netns>();
    for (const leaf of [...PODS, EXTERNAL]) {
      const ns = topo.namespace(leaf.key);
      nsOf.set(leaf.key, ns);
      topo.veth({ ns: host, name: `h-${leaf.key}`, address: `10.210.${leaf.subnet}.1/24` }, { ns, name: 'eth0', address: `${address(leaf.subnet)}/24` });
      topo.route(ns, 'default', `10.210.${leaf.subnet}.1`);
    }
    const agents = new Map<string, Agent>();
    for (const key of [...PODS.map((p) => p.key), EXTERNAL.key]) {
      const child = topo.spawn(nsOf.get(key)!, process.execPath, ['--import', 'tsx', AGENT, key, TCP_PORTS.join(','), UDP_PORTS.join(',')]);
      await waitForLine(child, /^ready$/, 20_000);
      agents.set(key, new Agent(child));
    }

    dp = openTestDatapath();
    dp.attach([...PODS, EXTERNAL].map((l) => ({ ifname: `h-${l.key}`, netns: host.name })), { mode: 'tcx' });

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
    const datapath = dp;

    const apply = async (changes: PolicyObjectChange[]) => {
      const report = writer.apply(changes);
      assert.equal(report.errors, []);
      controller.step();
      const rev = (t: AnyTable) => t.revision(db.readTxn());
      await reconcilers.ipcache.waitUntilReconciled(rev(tables.ipcache));
      await reconcilers.endpointPolicies.waitUntilReconciled(rev(tables.endpointPolicies));
      for (const { object } of tables.endpointPolicies.all(db.readTxn())) assert.is(object.status.kind, 'done', `${object.endpoint}: ${object.status.error ?? ''}`);
      return report;
    };
    const policy = (yaml: string): PolicyObjectChange => ({ kind: 'NetworkPolicy', op: 'upsert', object: networkPolicy(yaml) });
    const mapsDump = () =>
      JSON.stringify({
        ipcache: datapath.maps.ipcache.getAll(),
        endpoints: datapath.maps.endpoints.getAll(),
        policies: [...datapath.maps.policy.keys()].sort().map((id) => [id, [...(readEndpointPolicyMap(datapath.maps.policy, id) ?? new Map()).keys()].sort()]),
        state: datapath.maps.policyState.get(0),
      });

    // Without any policy everything is open (and the datapath does no policy work).
    await apply([
      { kind: 'Namespace', op: 'upsert', object: namespace('prod', { env: 'prod' }) },
      { kind: 'Namespace', op: 'upsert', object: namespace('staging', { env: 'staging' }) },
      ...PODS.map((p): PolicyObjectChange => ({ kind: 'Pod', op: 'upsert', object: pod({ ns: p.ns, name: p.name, labels: p.labels, ip: address(p.subnet), iface: `h-${p.key}` }) })),
    ]);
    assert.is(dp.maps.policyState.get(0)?.enforcingEndpoints, 0);
    assert.is(dp.maps.endpoints.getAll().length, 4);

    await apply([policy(POLICY.defaultDeny), policy(POLICY.dbFromWeb), policy(POLICY.webFromStaging), policy(POLICY.webFromLab), policy(POLICY.clientEgress)]);
    assert.is(dp.maps.policyState.get(0)?.enforcingEndpoints, 3, 'a1, a2 (ingress) and b2 (egress)');
    assertMatrix(await matrix(agents), EXPECTED_INITIAL, 'initial policies');

    // Bad input: each rejected on its object; maps and traffic unchanged.
    const before = mapsDump();
    const report = await apply([policy(POLICY.badCidr), policy(POLICY.badProtocol), policy(POLICY.badRange)]);
    assert.equal(report.invalidPolicies, ['prod/bad-cidr', 'staging/bad-protocol', 'staging/bad-range']);
    const errorOf = (name: string) => tables.policies.get(db.readTxn(), tables.policies.primary.query(name))?.error ?? '';
    assert.match(errorOf('prod/bad-cidr'), /spec\.ingress\[0\]\.from\[0\]\.ipBlock\.cidr: invalid CIDR/);
    assert.match(errorOf('staging/bad-protocol'), /spec\.ingress\[0\]\.ports\[0\]\.protocol: must be TCP, UDP or SCTP/);
    assert.match(errorOf('staging/bad-range'), /spec\.ingress\[0\]\.ports\[0\]\.endPort: must be an integer in 8100\.\.65535/);
    assert.is(mapsDump(), before, 'no map changed');
    assertMatrix(await matrix(agents), EXPECTED_INITIAL, 'after bad input');

    // Live change.
    await apply([policy(POLICY.webFromStagingWithDns), policy(POLICY.dbFromWebAnywhere), policy(POLICY.stagingWebDeny)]);
    assertMatrix(await matrix(agents), EXPECTED_AFTER_CHANGE, 'after the live change');
    const counters = dp.counters();
    assert.ok(counters.DROP_POLICY_INGRESS.packets > 0 && counters.DROP_POLICY_EGRESS.packets > 0, 'drops counted in both directions');
  } finally {
    await stop?.();
    dp?.dispose();
    topo.destroy();
  }
});

test.run();
