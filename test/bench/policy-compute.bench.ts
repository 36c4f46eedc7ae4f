// Policy computation at scale: 1,000 local endpoints (20 namespaces x 50
// pods) and 200 NetworkPolicies (10 per namespace: pod selectors,
// namespace selectors, ipBlocks, port ranges, egress). The baseline is the
// controller's full recompute (identities, ipcache and every endpoint
// policy from the tables), measured in the same run; the figures are
// incremental steps after one change each (writer + controller step).
// Figures are from a 2-core noisy VM: compare ratios, not absolutes.
import { DB } from '../../statedb/index.js';
import { newPolicyTables, PolicyController, PolicyWriter, type PolicyObjectChange } from '../../tables/index.js';
import { namespace, networkPolicy, pod } from '../policy/cluster.js';
import { fakeInterfaces } from '../policy/cluster.js';
import { Report } from './harness.js';

const NAMESPACES = 20;
const PODS_PER_NAMESPACE = 50;
const POLICIES_PER_NAMESPACE = 10;
const APPS = 10;
const ROUNDS = 9;

function podChange(n: number, i: number, app = i % APPS): PolicyObjectChange {
  return {
    kind: 'Pod',
    op: 'upsert',
    object: pod({ ns: `ns${n}`, name: `pod${i}`, iface: `v${n}-${i}`, labels: { app: `app${app}`, tier: `t${i % 3}` }, ip: `10.${n}.${i >> 8}.${(i & 255) + 1}`, ports: [{ name: 'http', port: 8080 }] }),
  };
}

/** `changed` moves the policy's ports, so two versions alternate. */
function policyYaml(n: number, p: number, changed = false): string {
  const port = changed ? 9000 + p : 8000 + p;
  const target = `app${p % APPS}`;
  const peer = `app${(p + 1) % APPS}`;
  switch (p % 5) {
    case 0:
      return `metadata: { name: p${p}, namespace: ns${n} }\nspec:\n  podSelector: { matchLabels: { app: ${target} } }\n  ingress: [ { from: [ { podSelector: { matchLabels: { app: ${peer} } } } ], ports: [ { port: ${port} } ] } ]`;
    case 1:
      return `metadata: { name: p${p}, namespace: ns${n} }\nspec:\n  podSelector: { matchLabels: { app: ${target} } }\n  ingress: [ { from: [ { namespaceSelector: { matchLabels: { group: g${n % 4} } }, podSelector: { matchLabels: { tier: t1 } } } ], ports: [ { port: ${port}, endPort: ${port + 99} } ] } ]`;
    case 2:
      return `metadata: { name: p${p}, namespace: ns${n} }\nspec:\n  podSelector: { matchExpressions: [ { key: app, operator: In, values: [${target}, ${peer}] } ] }\n  ingress: [ { from: [ { ipBlock: { cidr: 192.168.${n}.0/24, except: [192.168.${n}.128/25] } } ] } ]`;
    case 3:
      return `metadata: { name: p${p}, namespace: ns${n} }\nspec:\n  podSelector: { matchLabels: { app: ${target} } }\n  policyTypes: [Egress]\n  egress: [ { to: [ { namespaceSelector: {} } ], ports: [ { port: http }, { protocol: UDP, port: ${changed ? 5353 : 53} } ] } ]`;
    default:
      return `metadata: { name: p${p}, namespace: ns${n} }\nspec:\n  podSelector: { matchLabels: { tier: t${p % 3} } }\n  ingress: [ { from: [ { podSelector: {} } ], ports: [ { port: ${port} } ] } ]`;
  }
}

const db = new DB();
const tables = newPolicyTables(db);
const writer = new PolicyWriter(db, tables, { nodeName: 'node-a', interfaces: fakeInterfaces });
const controller = new PolicyController(db, tables);

const initial: PolicyObjectChange[] = [];
for (let n = 0; n < NAMESPACES; n++) {
  initial.push({ kind: 'Namespace', op: 'upsert', object: namespace(`ns${n}`, { group: `g${n % 4}` }) });
  for (let i = 0; i < PODS_PER_NAMESPACE; i++) initial.push(podChange(n, i));
  for (let p = 0; p < POLICIES_PER_NAMESPACE; p++) initial.push({ kind: 'NetworkPolicy', op: 'upsert', object: networkPolicy(policyYaml(n, p)) });
}
writer.apply(initial);
controller.step();
const txn = db.readTxn();
const counts = `${tables.endpointPolicies.numObjects(txn)} endpoint policies, ${tables.policies.numObjects(txn)} policies, ${tables.ipcache.numObjects(txn)} ipcache rows`;

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** Median ms of `change` applied through the writer and one controller step, alternating two versions. */
function incremental(versions: readonly [PolicyObjectChange[], PolicyObjectChange[]]): { ms: number; recomputed: number } {
  const samples: number[] = [];
  let recomputed = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const start = process.hrtime.bigint();
    writer.apply(versions[r % 2]!);
    recomputed = controller.step().recomputed.size;
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  return { ms: median(samples), recomputed };
}

const fullSamples: number[] = [];
for (let r = 0; r < ROUNDS; r++) {
  const start = process.hrtime.bigint();
  controller.recomputeAll();
  fullSamples.push(Number(process.hrtime.bigint() - start) / 1e6);
}
const full = median(fullSamples);

const np = (n: number, p: number, changed = false): PolicyObjectChange[] => [{ kind: 'NetworkPolicy', op: 'upsert', object: networkPolicy(policyYaml(n, p, changed)) }];
const scenarios: [string, ReturnType<typeof incremental>][] = [
  ['one policy port changed (pod selector)', incremental([np(3, 0, true), np(3, 0)])],
  ['one policy changed (namespace selector, port range)', incremental([np(3, 1, true), np(3, 1)])],
  ['one egress policy changed (named port, any namespace)', incremental([np(3, 3, true), np(3, 3)])],
  ['one pod relabelled (peer of several policies)', incremental([[podChange(5, 7, 4)], [podChange(5, 7)]])],
  ['one namespace relabelled (50 new identities)', incremental([[{ kind: 'Namespace', op: 'upsert', object: namespace('ns6', { group: 'g9' }) }], [{ kind: 'Namespace', op: 'upsert', object: namespace('ns6', { group: 'g2' }) }]])],
];

const report = new Report(`policy computation: ${counts} (median of ${ROUNDS}; 2-core noisy VM)`);
for (const [name, { ms, recomputed }] of scenarios) {
  report.add({ name: `${name}: ${recomputed} endpoints recomputed`, value: ms, unit: 'ms', better: 'lower', baseline: { name: 'full recompute', value: full }, target: 'well below the full recompute' });
}
report.add({ name: 'full recompute (recomputeAll)', value: full, unit: 'ms', better: 'lower', baseline: { name: 'itself', value: full } });
report.print();
await controller.stop();
