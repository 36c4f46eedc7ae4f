// The incremental recompute set: small for each kind of change, and never
// missing an endpoint whose computed policy actually changed.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PolicyResolver,
  endpointsToRecompute,
  type Labels,
  type NetworkPolicy,
  type PolicyChange,
  type PolicyContext,
  type PolicyEndpoint,
} from '../../tables/index.js';
import { CIDR_IDENTITIES, ENDPOINTS, NAMESPACES, context, endpoint, policy } from './policy-fixture.js';

const webFromShopClients = policy(`
metadata: { name: web-from-clients, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [{ from: [{ podSelector: { matchLabels: { app: client } } }], ports: [{ port: 80 }] }]
`);
const webFromDevClients = policy(`
metadata: { name: web-from-dev, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: b } }, podSelector: { matchLabels: { app: client } } }] }]
`);
const dbFromCidr = policy(`
metadata: { name: db-from-cidr, namespace: shop }
spec:
  podSelector: { matchLabels: { app: db } }
  ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/8, except: [10.1.0.0/16] } }] }]
`);
const monitorEgressMetrics = policy(`
metadata: { name: monitor-egress, namespace: ops }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ ports: [{ port: metrics }, { port: http }] }]
`);
const denyDev = policy('metadata: { name: deny, namespace: dev }\nspec: { podSelector: {} }');
const ALL = [webFromShopClients, webFromDevClients, dbFromCidr, monitorEgressMetrics, denyDev];

function ids(change: PolicyChange, ctx: PolicyContext = context(ALL)): string[] {
  return [...endpointsToRecompute(change, ctx)].sort();
}

const changes = suite('recompute set per change');
changes('policy added: the endpoints it selects', () => {
  assert.equal(ids({ kind: 'policy', after: webFromShopClients }), ['shop/web-1', 'shop/web-2']);
});
changes('policy changed: the endpoints the old or the new version selects', () => {
  const toDb = { ...webFromShopClients, podSelector: dbFromCidr.podSelector };
  assert.equal(ids({ kind: 'policy', before: webFromShopClients, after: toDb }), ['shop/db', 'shop/web-1', 'shop/web-2']);
});
changes('policy removed', () => {
  assert.equal(ids({ kind: 'policy', before: denyDev }, context(ALL.filter((p) => p !== denyDev))), ['dev/client', 'dev/tester']);
});
changes('endpoint labels changed: itself and subjects of policies whose peers matched it before or after', () => {
  const before = endpoint('dev/client');
  const after = { ...before, labels: { app: 'tester' } };
  const ctx = context(ALL, ENDPOINTS.map((e) => (e.id === before.id ? after : e)));
  assert.equal(ids({ kind: 'endpoint', before, after }, ctx), ['dev/client', 'shop/web-1', 'shop/web-2']);
});
changes('endpoint added that no peer selects: only itself', () => {
  const cache: PolicyEndpoint = { id: 'shop/cache', namespace: 'shop', labels: { app: 'cache' }, identity: 1100, namedPorts: [] };
  assert.equal(ids({ kind: 'endpoint', after: cache }, context(ALL, [...ENDPOINTS, cache])), ['shop/cache']);
});
changes('endpoint with a named port added: egress-to-any named-port rules see it', () => {
  const api: PolicyEndpoint = { id: 'dev/api', namespace: 'dev', labels: { app: 'api' }, identity: 1101, namedPorts: [{ name: 'http', port: 8000, protocol: 'TCP' }] };
  assert.equal(ids({ kind: 'endpoint', after: api }, context(ALL, [...ENDPOINTS, api])), ['dev/api', 'ops/monitor']);
});
changes('endpoint removed', () => {
  const gone = endpoint('shop/client');
  assert.equal(ids({ kind: 'endpoint', before: gone }, context(ALL, ENDPOINTS.filter((e) => e !== gone))), ['shop/client', 'shop/web-1', 'shop/web-2']);
});
changes('namespace labels changed: subjects of namespace selectors matching old or new, and its own endpoints', () => {
  assert.equal(ids({ kind: 'namespace', name: 'dev', before: { team: 'b' }, after: { team: 'c' } }), ['dev/client', 'dev/tester', 'shop/web-1', 'shop/web-2']);
  assert.equal(ids({ kind: 'namespace', name: 'ops', before: { team: 'ops' }, after: { team: 'ops', x: 'y' } }), ['ops/monitor']);
});
changes('CIDR identities changed: subjects of policies with ipBlocks', () => {
  assert.equal(ids({ kind: 'cidr-identities' }), ['shop/db']);
});

// Conservativeness: for random changes, every endpoint whose computed
// policy differs between before and after is in the recompute set.
function computeAll(ctx: PolicyContext): Map<string, string> {
  const resolver = new PolicyResolver(ctx);
  return new Map(ctx.endpoints.map((e) => [e.id, JSON.stringify(resolver.compute(e))]));
}
function changed(before: PolicyContext, after: PolicyContext): string[] {
  const a = computeAll(before);
  const b = computeAll(after);
  return [...new Set([...a.keys(), ...b.keys()])].filter((id) => a.get(id) !== b.get(id));
}
function ctxOf(policies: NetworkPolicy[], endpoints: PolicyEndpoint[], namespaces: ReadonlyMap<string, Labels> = NAMESPACES): PolicyContext {
  return { policies, endpoints, namespaceLabels: namespaces, cidrIdentities: CIDR_IDENTITIES };
}

const props = suite('never misses an endpoint whose policy changed');
const labelChoice = fc.constantFrom<Labels>({ app: 'web' }, { app: 'client' }, { app: 'db' }, { app: 'tester', role: 'tester' }, {});
props('endpoint label changes, additions and removals', () => {
  fc.assert(
    fc.property(fc.subarray(ALL), fc.nat(ENDPOINTS.length - 1), labelChoice, fc.constantFrom('relabel', 'add', 'remove'), (policies, index, labels, op) => {
      const target = ENDPOINTS[index]!;
      let afterEndpoints: PolicyEndpoint[];
      let change: PolicyChange;
      if (op === 'relabel') {
        const after = { ...target, labels };
        afterEndpoints = ENDPOINTS.map((e) => (e === target ? after : e));
        change = { kind: 'endpoint', before: target, after };
      } else if (op === 'add') {
        const added = { ...target, id: `${target.namespace}/new`, labels, identity: 2000 };
        afterEndpoints = [...ENDPOINTS, added];
        change = { kind: 'endpoint', after: added };
      } else {
        afterEndpoints = ENDPOINTS.filter((e) => e !== target);
        change = { kind: 'endpoint', before: target };
      }
      const after = ctxOf(policies, afterEndpoints);
      const set = endpointsToRecompute(change, after);
      for (const id of changed(ctxOf(policies, ENDPOINTS), after)) assert.ok(set.has(id), `${op} ${target.id}: ${id} missed`);
    }),
    { numRuns: 300 },
  );
});
props('policy additions, removals and replacements', () => {
  fc.assert(
    fc.property(fc.subarray(ALL), fc.constantFrom(...ALL), fc.constantFrom(...ALL), (base, p, q) => {
      const without = base.filter((x) => x !== p);
      const replaced = [...without, { ...q, name: p.name, namespace: p.namespace }];
      const cases: [NetworkPolicy[], NetworkPolicy[], PolicyChange][] = [
        [without, [...without, p], { kind: 'policy', after: p }],
        [[...without, p], without, { kind: 'policy', before: p }],
        [[...without, p], replaced, { kind: 'policy', before: p, after: replaced[replaced.length - 1]! }],
      ];
      for (const [b, a, change] of cases) {
        const set = endpointsToRecompute(change, ctxOf(a, ENDPOINTS));
        for (const id of changed(ctxOf(b, ENDPOINTS), ctxOf(a, ENDPOINTS))) assert.ok(set.has(id), `${id} missed`);
      }
    }),
    { numRuns: 200 },
  );
});
props('namespace label changes', () => {
  fc.assert(
    fc.property(fc.subarray(ALL), fc.constantFrom('shop', 'dev', 'ops'), fc.constantFrom<Labels>({ team: 'a' }, { team: 'b' }, { team: 'ops' }, {}), (policies, ns, labels) => {
      const afterNs = new Map(NAMESPACES);
      afterNs.set(ns, labels);
      const after = ctxOf(policies, ENDPOINTS, afterNs);
      const set = endpointsToRecompute({ kind: 'namespace', name: ns, before: NAMESPACES.get(ns), after: labels }, after);
      for (const id of changed(ctxOf(policies, ENDPOINTS), after)) assert.ok(set.has(id), `${ns}: ${id} missed`);
    }),
    { numRuns: 200 },
  );
});

changes.run();
props.run();
