// NetworkPolicy -> rule model: defaults of the API, peers, ports, and every
// validation error naming the policy, field and value.
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ConversionError, SELECT_ALL, fromNetworkPolicies, fromNetworkPolicy, parseLabelSelector } from '../../tables/index.js';

function np(yaml: string): V1NetworkPolicy {
  return parse(yaml) as V1NetworkPolicy;
}

const model = suite('rule model');

model('policy types default: Ingress always; Egress when egress rules exist', () => {
  const types = (spec: string) => fromNetworkPolicy(np(`metadata: { name: p, namespace: d }\nspec: ${spec}`)).policyTypes;
  assert.equal(types('{ podSelector: {} }'), ['Ingress']);
  assert.equal(types('{ podSelector: {}, ingress: [{}] }'), ['Ingress']);
  assert.equal(types('{ podSelector: {}, egress: [{}] }'), ['Ingress', 'Egress']);
  assert.equal(types('{ podSelector: {}, policyTypes: [Egress] }'), ['Egress']);
  assert.equal(types('{ podSelector: {}, policyTypes: [Egress, Ingress] }'), ['Ingress', 'Egress']);
});

model('default deny: a policy type with no rules has an empty rule list', () => {
  const p = fromNetworkPolicy(np('metadata: { name: deny-all, namespace: d }\nspec: { podSelector: {}, policyTypes: [Ingress, Egress] }'));
  assert.equal(p, { name: 'd/deny-all', namespace: 'd', podSelector: SELECT_ALL, policyTypes: ['Ingress', 'Egress'], ingress: [], egress: [] });
});

model('rules of a type that is not listed are dropped', () => {
  const p = fromNetworkPolicy(np('metadata: { name: p, namespace: d }\nspec: { podSelector: {}, policyTypes: [Ingress], egress: [{ ports: [{ port: 53 }] }] }'));
  assert.equal(p.egress, []);
});

model('empty from/to and ports mean any', () => {
  const p = fromNetworkPolicy(np('metadata: { name: p, namespace: d }\nspec: { podSelector: {}, ingress: [{}, { from: [], ports: [] }] }'));
  assert.equal(p.ingress, [
    { peers: 'any', ports: 'any' },
    { peers: 'any', ports: 'any' },
  ]);
});

model('peers: pod selector (own namespace), namespace selector, both (AND), ipBlock', () => {
  const p = fromNetworkPolicy(
    np(`
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: { name: web, namespace: shop }
spec:
  podSelector: { matchLabels: { app: web } }
  ingress:
    - from:
        - podSelector: { matchLabels: { app: client } }
        - namespaceSelector: { matchLabels: { team: ops } }
        - namespaceSelector: { matchLabels: { team: qa } }
          podSelector: { matchLabels: { role: tester } }
        - ipBlock: { cidr: 10.0.0.0/8, except: [10.1.0.0/16, 10.0.5.9/24] }
`),
  );
  const sel = (labels: Record<string, string>) => parseLabelSelector({ matchLabels: labels }, 's');
  assert.equal(p.podSelector, sel({ app: 'web' }));
  assert.equal(p.ingress[0]!.peers, [
    { kind: 'pods', podSelector: sel({ app: 'client' }), namespaceSelector: null },
    { kind: 'pods', podSelector: SELECT_ALL, namespaceSelector: sel({ team: 'ops' }) },
    { kind: 'pods', podSelector: sel({ role: 'tester' }), namespaceSelector: sel({ team: 'qa' }) },
    { kind: 'ipBlock', cidr: '10.0.0.0/8', except: ['10.0.5.0/24', '10.1.0.0/16'] },
  ]);
});

model('ports: protocol default TCP, numbered, named, ranges, protocol-only', () => {
  const p = fromNetworkPolicy(
    np(`
metadata: { name: p, namespace: d }
spec:
  podSelector: {}
  egress:
    - ports:
        - port: 80
        - { protocol: UDP, port: 53 }
        - { protocol: SCTP, port: 3868 }
        - port: http
        - { port: 32000, endPort: 32767 }
        - protocol: UDP
`),
  );
  assert.equal(p.egress[0]!.ports, [
    { protocol: 'TCP', port: 80, endPort: null },
    { protocol: 'UDP', port: 53, endPort: null },
    { protocol: 'SCTP', port: 3868, endPort: null },
    { protocol: 'TCP', port: 'http', endPort: null },
    { protocol: 'TCP', port: 32000, endPort: 32767 },
    { protocol: 'UDP', port: null, endPort: null },
  ]);
});

model('the typed client model (_from) is accepted as well as the wire form', () => {
  const p = fromNetworkPolicy({
    metadata: { name: 'p', namespace: 'd' },
    spec: { podSelector: {}, ingress: [{ _from: [{ podSelector: { matchLabels: { a: 'b' } } }] }] },
  });
  assert.is(p.ingress[0]!.peers.length, 1);
});

const errors = suite('validation errors');
const HEAD = 'metadata: { name: p, namespace: d }\nspec:\n  podSelector: {}\n';
const cases: [string, string, string][] = [
  ['invalid CIDR', `${HEAD}  ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/33 } }] }]`, 'NetworkPolicy d/p: spec.ingress[0].from[0].ipBlock.cidr: invalid CIDR: prefix length must be 0..32 (got "10.0.0.0/33")'],
  ['garbage CIDR', `${HEAD}  egress: [{ to: [{ ipBlock: { cidr: everywhere } }] }]`, 'NetworkPolicy d/p: spec.egress[0].to[0].ipBlock.cidr: invalid CIDR: a prefix needs a /length (got "everywhere")'],
  ['except outside cidr', `${HEAD}  ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/8, except: [192.168.0.0/16] } }] }]`, 'NetworkPolicy d/p: spec.ingress[0].from[0].ipBlock.except[0]: must be strictly inside cidr 10.0.0.0/8 (got "192.168.0.0/16")'],
  ['except equal to cidr', `${HEAD}  ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/8, except: [10.0.0.0/8] } }] }]`, 'NetworkPolicy d/p: spec.ingress[0].from[0].ipBlock.except[0]: must be strictly inside cidr 10.0.0.0/8 (got "10.0.0.0/8")'],
  ['except of another family', `${HEAD}  ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/8, except: ["fd00::/64"] } }] }]`, 'NetworkPolicy d/p: spec.ingress[0].from[0].ipBlock.except[0]: must be strictly inside cidr 10.0.0.0/8 (got "fd00::/64")'],
  ['unknown protocol', `${HEAD}  ingress: [{ ports: [{ port: 80 }, { protocol: ICMP }] }]`, 'NetworkPolicy d/p: spec.ingress[0].ports[1].protocol: must be TCP, UDP or SCTP (got "ICMP")'],
  ['endPort below port', `${HEAD}  egress: [{ ports: [{ port: 9000, endPort: 8000 }] }]`, 'NetworkPolicy d/p: spec.egress[0].ports[0].endPort: must be an integer in 9000..65535 (port..65535) (got 8000)'],
  ['endPort above 65535', `${HEAD}  egress: [{ ports: [{ port: 9000, endPort: 70000 }] }]`, 'NetworkPolicy d/p: spec.egress[0].ports[0].endPort: must be an integer in 9000..65535 (port..65535) (got 70000)'],
  ['endPort with a named port', `${HEAD}  egress: [{ ports: [{ port: http, endPort: 90 }] }]`, 'NetworkPolicy d/p: spec.egress[0].ports[0].endPort: requires a numbered port, not the named port (got "http")'],
  ['endPort without port', `${HEAD}  egress: [{ ports: [{ endPort: 90 }] }]`, 'NetworkPolicy d/p: spec.egress[0].ports[0].endPort: requires port to be set (got 90)'],
  ['port out of range', `${HEAD}  ingress: [{ ports: [{ port: 0 }] }]`, 'NetworkPolicy d/p: spec.ingress[0].ports[0].port: must be an integer in 1..65535 (got 0)'],
  ['bad port name', `${HEAD}  ingress: [{ ports: [{ port: "HTTP_port" }] }]`, 'NetworkPolicy d/p: spec.ingress[0].ports[0].port: must be a port number or a port name (IANA_SVC_NAME) (got "HTTP_port")'],
  ['empty peer', `${HEAD}  ingress: [{ from: [{}] }]`, 'NetworkPolicy d/p: spec.ingress[0].from[0]: must set podSelector, namespaceSelector or ipBlock'],
  ['ipBlock with a selector', `${HEAD}  ingress: [{ from: [{ ipBlock: { cidr: 10.0.0.0/8 }, podSelector: {} }] }]`, 'NetworkPolicy d/p: spec.ingress[0].from[0]: ipBlock cannot be combined with podSelector or namespaceSelector'],
  ['bad selector operator', 'metadata: { name: p, namespace: d }\nspec:\n  podSelector: { matchExpressions: [{ key: app, operator: Like, values: [a] }] }', 'NetworkPolicy d/p: spec.podSelector.matchExpressions[0].operator: must be In, NotIn, Exists or DoesNotExist (got "Like")'],
  ['bad peer namespace selector', `${HEAD}  ingress: [{ from: [{ namespaceSelector: { matchExpressions: [{ key: team, operator: In }] } }] }]`, 'NetworkPolicy d/p: spec.ingress[0].from[0].namespaceSelector.matchExpressions[0].values: must not be empty for operator In'],
  ['bad policy type', `${HEAD}  policyTypes: [Inbound]`, 'NetworkPolicy d/p: spec.policyTypes[0]: must be Ingress or Egress (got "Inbound")'],
  ['missing namespace', 'metadata: { name: p }\nspec: { podSelector: {} }', 'NetworkPolicy p: metadata.namespace: is required'],
];
for (const [what, yaml, message] of cases) {
  errors(what, () => {
    try {
      fromNetworkPolicy(np(yaml));
      assert.unreachable('accepted');
    } catch (err) {
      assert.instance(err, ConversionError);
      assert.is((err as Error).message, message);
    }
  });
}
errors('a bad policy does not block the others', () => {
  const { results, errors: errs } = fromNetworkPolicies([
    np('metadata: { name: ok, namespace: d }\nspec: { podSelector: {} }'),
    np(`${HEAD.replace('name: p', 'name: bad')}  ingress: [{ ports: [{ protocol: GRE }] }]`),
    np('metadata: { name: ok2, namespace: d }\nspec: { podSelector: {} }'),
  ]);
  assert.equal(results.map((p) => p.name), ['d/ok', 'd/ok2']);
  assert.equal(errs.map((e) => `${e.kind} ${e.object} ${e.field}`), ['NetworkPolicy d/bad spec.ingress[0].ports[0].protocol']);
});

model.run();
errors.run();
