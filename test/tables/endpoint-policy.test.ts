// NetworkPolicy semantics on a small cluster (see policy-fixture.ts):
// the allowed (direction, peer identity, protocol, ports) per endpoint.
import fc from 'fast-check';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import {
  PolicyResolver,
  ReservedIdentity,
  canonicalEntries,
  computeEndpointPolicy,
  policyCIDRPrefixes,
  type NetworkPolicy,
} from '../../tables/index.js';
import { CIDR, ID, context, endpoint, lines, policy } from './policy-fixture.js';

function compute(id: string, policies: NetworkPolicy[]) {
  return computeEndpointPolicy(endpoint(id), context(policies));
}

const types = suite('policy types and default deny');

types('selected by no policy: not restricted in either direction', () => {
  const p = policy('metadata: { name: p, namespace: dev }\nspec: { podSelector: {}, policyTypes: [Ingress, Egress] }');
  const r = compute('shop/web-1', [p]);
  assert.equal(r, { enforced: { ingress: false, egress: false }, entries: [] });
});
types('default deny ingress', () => {
  const r = compute('shop/web-1', [policy('metadata: { name: deny, namespace: shop }\nspec: { podSelector: {} }')]);
  assert.equal(r, { enforced: { ingress: true, egress: false }, entries: [] });
});
types('default deny egress only', () => {
  const r = compute('shop/web-1', [policy('metadata: { name: deny, namespace: shop }\nspec: { podSelector: {}, policyTypes: [Egress] }')]);
  assert.equal(r, { enforced: { ingress: false, egress: true }, entries: [] });
});
types('both directions: ingress and egress rules together', () => {
  const r = compute('shop/web-1', [
    policy(`
metadata: { name: both, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  policyTypes: [Ingress, Egress]
  ingress: [{ from: [{ podSelector: { matchLabels: { app: client } } }], ports: [{ port: 80 }] }]
  egress: [{ to: [{ podSelector: { matchLabels: { app: db } } }], ports: [{ port: 5432 }] }]
`),
  ]);
  assert.equal(r.enforced, { ingress: true, egress: true });
  assert.equal(lines(r), [`in ${ID.shopClient} TCP 80`, `eg ${ID.db} TCP 5432`]);
});
types('a pod the policy selector does not match is not restricted', () => {
  const p = policy('metadata: { name: p, namespace: shop }\nspec: { podSelector: { matchLabels: { app: db } } }');
  assert.equal(compute('shop/web-1', [p]).enforced, { ingress: false, egress: false });
  assert.equal(compute('shop/db', [p]).enforced, { ingress: true, egress: false });
});

const peers = suite('peers');
const ingressFrom = (from: string, ports = '[{ port: 80 }]') =>
  policy(`
metadata: { name: p, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [{ from: ${from}, ports: ${ports} }]
`);

peers('podSelector alone: the policy\'s own namespace only', () => {
  assert.equal(lines(compute('shop/web-1', [ingressFrom('[{ podSelector: { matchLabels: { app: client } } }]')])), [`in ${ID.shopClient} TCP 80`]);
});
peers('namespaceSelector alone: every pod of the selected namespaces', () => {
  assert.equal(lines(compute('shop/web-1', [ingressFrom('[{ namespaceSelector: { matchLabels: { team: b } } }]')])), [
    `in ${ID.devClient} TCP 80`,
    `in ${ID.tester} TCP 80`,
  ]);
});
peers('namespaceSelector and podSelector in one peer: both must match (AND)', () => {
  const from = '[{ namespaceSelector: { matchLabels: { team: b } }, podSelector: { matchLabels: { role: tester } } }]';
  assert.equal(lines(compute('shop/web-1', [ingressFrom(from)])), [`in ${ID.tester} TCP 80`]);
});
peers('two peers in one rule: either matches (OR)', () => {
  const from = '[{ namespaceSelector: { matchLabels: { team: b } }, podSelector: { matchLabels: { role: tester } } }, { podSelector: { matchLabels: { app: db } } }]';
  assert.equal(lines(compute('shop/web-1', [ingressFrom(from)])), [`in ${ID.db} TCP 80`, `in ${ID.tester} TCP 80`]);
});
peers('namespaceSelector {} selects all namespaces; the namespace name label works', () => {
  const all = lines(compute('shop/web-1', [ingressFrom('[{ namespaceSelector: {}, podSelector: { matchLabels: { app: client } } }]')]));
  assert.equal(all, [`in ${ID.shopClient} TCP 80`, `in ${ID.devClient} TCP 80`]);
  const byName = lines(compute('shop/web-1', [ingressFrom('[{ namespaceSelector: { matchLabels: { kubernetes.io/metadata.name: ops } } }]')]));
  assert.equal(byName, [`in ${ID.monitor} TCP 80`]);
});
peers('empty from: any peer (identity 0)', () => {
  assert.equal(lines(compute('shop/web-1', [ingressFrom('[]')])), ['in 0 TCP 80']);
});
peers('a selector matching no pod allows nothing', () => {
  const r = compute('shop/web-1', [ingressFrom('[{ podSelector: { matchLabels: { app: nothing } } }]')]);
  assert.equal(r, { enforced: { ingress: true, egress: false }, entries: [] });
});
peers('ipBlock with except: CIDR identities inside the block and outside every except', () => {
  const r = compute('shop/web-1', [ingressFrom('[{ ipBlock: { cidr: 10.0.0.0/8, except: [10.1.0.0/16] } }]')]);
  // 10.0.0.0/8 itself (addresses no longer prefix claims) and 10.2.0.0/16;
  // not 10.1.0.0/16 nor 10.1.2.0/24 inside it, not 192.168.0.0/16, not v6.
  assert.equal(lines(r), [`in ${CIDR.ten} TCP 80`, `in ${CIDR.tenTwo} TCP 80`]);
});
peers('ipBlock narrower than a known prefix does not allow the wider one', () => {
  const r = compute('shop/web-1', [ingressFrom('[{ ipBlock: { cidr: 10.1.0.0/16 } }]')]);
  assert.equal(lines(r), [`in ${CIDR.tenOne} TCP 80`, `in ${CIDR.tenOneTwo} TCP 80`]);
});
peers('ipBlock 0.0.0.0/0 includes the world', () => {
  const r = compute('shop/web-1', [ingressFrom('[{ ipBlock: { cidr: 0.0.0.0/0, except: [192.168.0.0/16] } }]')]);
  assert.equal(lines(r), [`in ${ReservedIdentity.World} TCP 80`, `in ${CIDR.ten} TCP 80`, `in ${CIDR.tenOne} TCP 80`, `in ${CIDR.tenOneTwo} TCP 80`, `in ${CIDR.tenTwo} TCP 80`]);
});

const ports = suite('ports');
ports('empty ports: any protocol, every port', () => {
  assert.equal(lines(compute('shop/web-1', [ingressFrom('[{ podSelector: { matchLabels: { app: client } } }]', '[]')])), [`in ${ID.shopClient} any 0-65535`]);
});
ports('protocol without a port: every port of that protocol', () => {
  assert.equal(lines(compute('shop/web-1', [ingressFrom('[]', '[{ protocol: UDP }]')])), ['in 0 UDP 0-65535']);
});
ports('TCP, UDP, SCTP and endPort ranges', () => {
  const r = compute('shop/web-1', [ingressFrom('[]', '[{ port: 443 }, { protocol: UDP, port: 53 }, { protocol: SCTP, port: 3868 }, { port: 32000, endPort: 32767 }]')]);
  assert.equal(lines(r), ['in 0 TCP 443', 'in 0 TCP 32000-32767', 'in 0 UDP 53', 'in 0 SCTP 3868']);
});
ports('ingress named ports resolve on the endpoint itself', () => {
  const p = ingressFrom('[]', '[{ port: http }, { port: pg }]');
  assert.equal(lines(compute('shop/web-1', [p])), ['in 0 TCP 8080']);
  assert.equal(lines(compute('shop/web-2', [p])), ['in 0 TCP 8081']);
});
ports('a named port of another protocol does not resolve', () => {
  assert.equal(lines(compute('shop/web-1', [ingressFrom('[]', '[{ port: http, protocol: UDP }]')])), []);
});
ports('egress named ports resolve on the peer; pods sharing an identity give the union', () => {
  const p = policy(`
metadata: { name: p, namespace: shop }
spec:
  podSelector: { matchLabels: { app: client } }
  egress: [{ to: [{ podSelector: { matchLabels: { app: web } } }, { ipBlock: { cidr: 10.0.0.0/8 } }], ports: [{ port: http }] }]
`);
  assert.equal(lines(compute('shop/client', [p])), [`eg ${ID.web} TCP 8080-8081`]);
});
ports('egress to any peer on a named port: every pod with that name', () => {
  const p = policy(`
metadata: { name: p, namespace: ops }
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress: [{ ports: [{ port: metrics }, { port: pg }] }]
`);
  assert.equal(lines(compute('ops/monitor', [p])), [`eg ${ID.db} TCP 5432`, `eg ${ID.monitor} TCP 9090`]);
});

const union = suite('union of policies');
const A = policy(`
metadata: { name: a, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [{ from: [{ podSelector: { matchLabels: { app: client } } }], ports: [{ port: 80, endPort: 90 }] }]
`);
const B = policy(`
metadata: { name: b, namespace: shop }
spec:
  podSelector: {}
  ingress: [{ from: [{ podSelector: { matchLabels: { app: client } } }], ports: [{ port: 91, endPort: 100 }, { protocol: UDP }] }]
`);
const C = policy(`
metadata: { name: c, namespace: shop }
spec:
  podSelector: { matchExpressions: [{ key: app, operator: In, values: [web, db] }] }
  policyTypes: [Egress]
  egress: [{ to: [{ namespaceSelector: { matchLabels: { team: ops } } }] }]
`);
const D = policy(`
metadata: { name: d, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress: [{ from: [{ podSelector: { matchLabels: { app: client } } }] }, { from: [{ ipBlock: { cidr: 10.0.0.0/8, except: [10.1.2.0/24] } }], ports: [{ port: 443 }] }]
`);
union('several policies selecting one pod: the union, ranges merged', () => {
  const r = compute('shop/web-1', [A, B, C]);
  assert.equal(r.enforced, { ingress: true, egress: true });
  assert.equal(lines(r), [`in ${ID.shopClient} TCP 80-100`, `in ${ID.shopClient} UDP 0-65535`, `eg ${ID.monitor} any 0-65535`]);
});
union('an any-protocol entry covers the narrower ones of the same peer', () => {
  const r = compute('shop/web-1', [A, B, D]);
  assert.equal(lines(r), [`in ${ID.shopClient} any 0-65535`, `in ${CIDR.ten} TCP 443`, `in ${CIDR.tenOne} TCP 443`, `in ${CIDR.tenTwo} TCP 443`]);
});
union('order does not matter, and the union equals the merge of each policy alone', () => {
  const all = [A, B, C, D];
  const subjects = ['shop/web-1', 'shop/web-2', 'shop/db', 'shop/client'];
  fc.assert(
    fc.property(fc.shuffledSubarray(all), fc.constantFrom(...subjects), (subset, subject) => {
      const shuffled = [...subset].reverse();
      const together = compute(subject, subset);
      assert.equal(compute(subject, shuffled), together);
      const alone = subset.map((p) => compute(subject, [p]));
      assert.equal(together.entries, canonicalEntries(alone.flatMap((r) => r.entries)));
      assert.equal(together.enforced, {
        ingress: alone.some((r) => r.enforced.ingress),
        egress: alone.some((r) => r.enforced.egress),
      });
    }),
    { numRuns: 300 },
  );
});
union('a resolver over one context gives the same results as one-off computations', () => {
  const ctx = context([A, B, C, D]);
  const resolver = new PolicyResolver(ctx);
  for (const ep of ctx.endpoints) assert.equal(resolver.compute(ep), computeEndpointPolicy(ep, ctx));
  assert.equal(resolver.selectingPolicies(endpoint('shop/db')).map((p) => p.name), ['shop/b', 'shop/c']);
});
union('CIDR prefixes referenced by all policies', () => {
  const E = policy(`
metadata: { name: e, namespace: dev }
spec:
  podSelector: {}
  egress: [{ to: [{ ipBlock: { cidr: "fd00::/8", except: ["fd00:1::/32"] } }, { ipBlock: { cidr: 10.0.0.0/8 } }] }]
`);
  assert.equal(policyCIDRPrefixes([A, D, E]), ['10.0.0.0/8', '10.1.2.0/24', 'fd00:1::/32', 'fd00::/8']);
});

types.run();
peers.run();
ports.run();
union.run();
