// Every rejected Service and EndpointSlice names the object, the field path
// and the problem; a batch converts the good objects next to the bad ones.
import type { V1EndpointSlice, V1Service } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { ConversionError, fromEndpointSlice, fromEndpointSlices, fromService, fromServices } from '../../tables/index.js';

const GOOD_SPEC = 'spec: { clusterIP: 10.0.0.1, ports: [{ port: 80 }] }';

const serviceCases: [string, string, string][] = [
  ['missing name', `metadata: { namespace: d }\n${GOOD_SPEC}`, 'Service d/<unnamed>: metadata.name: is required'],
  ['missing namespace', `metadata: { name: web }\n${GOOD_SPEC}`, 'Service web: metadata.namespace: is required'],
  ['bad name', `metadata: { name: Web_1, namespace: d }\n${GOOD_SPEC}`, 'Service d/Web_1: metadata.name: must be lowercase alphanumerics, - and . (got "Web_1")'],
  [
    'bad cluster IP',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.256, ports: [{ port: 80 }] }',
    'Service d/s: spec.clusterIP: invalid IP address: part 256 is above 255 (got "10.0.0.256")',
  ],
  [
    'bad second cluster IP',
    'metadata: { name: s, namespace: d }\nspec: { clusterIPs: [10.0.0.1, "fd00::1::2"], ports: [{ port: 80 }] }',
    'Service d/s: spec.clusterIPs[1]: invalid IP address: not a valid IPv6 address (got "fd00::1::2")',
  ],
  [
    'port out of range',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, ports: [{ port: 80 }, { name: b, port: 70000 }] }',
    'Service d/s: spec.ports[1].port: must be an integer in 1..65535 (got 70000)',
  ],
  [
    'port missing',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, ports: [{ name: a }] }',
    'Service d/s: spec.ports[0].port: must be an integer in 1..65535',
  ],
  [
    'unknown protocol',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, ports: [{ port: 80, protocol: ICMP }] }',
    'Service d/s: spec.ports[0].protocol: must be TCP, UDP or SCTP (got "ICMP")',
  ],
  [
    'nodePort out of range',
    'metadata: { name: s, namespace: d }\nspec: { type: NodePort, clusterIP: 10.0.0.1, ports: [{ port: 80, nodePort: 99999 }] }',
    'Service d/s: spec.ports[0].nodePort: must be an integer in 0..65535 (got 99999)',
  ],
  [
    'bad target port name',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, ports: [{ port: 80, targetPort: "8080" }] }',
    'Service d/s: spec.ports[0].targetPort: must be a port number or a port name (IANA_SVC_NAME) (got "8080")',
  ],
  [
    'duplicate port names',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, ports: [{ name: a, port: 80 }, { name: a, port: 81 }] }',
    'Service d/s: spec.ports[1].name: is used by another port (got "a")',
  ],
  [
    'several unnamed ports',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, ports: [{ port: 80 }, { port: 81 }] }',
    'Service d/s: spec.ports[1].name: is required when a service has several ports',
  ],
  [
    'bad external IP',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, externalIPs: [1.2.3], ports: [{ port: 80 }] }',
    'Service d/s: spec.externalIPs[0]: invalid IP address: an IPv4 address has four dotted decimal parts (got "1.2.3")',
  ],
  [
    'bad ingress IP',
    'metadata: { name: s, namespace: d }\nspec: { type: LoadBalancer, clusterIP: 10.0.0.1, ports: [{ port: 80 }] }\nstatus: { loadBalancer: { ingress: [{ ip: 01.2.3.4 }] } }',
    'Service d/s: status.loadBalancer.ingress[0].ip: invalid IP address: part "01" has a leading zero (got "01.2.3.4")',
  ],
  [
    'bad source range',
    'metadata: { name: s, namespace: d }\nspec: { type: LoadBalancer, clusterIP: 10.0.0.1, loadBalancerSourceRanges: [10.0.0.0/8, 10.0.0.0/40], ports: [{ port: 80 }] }',
    'Service d/s: spec.loadBalancerSourceRanges[1]: invalid CIDR: prefix length must be 0..32 (got "10.0.0.0/40")',
  ],
  [
    'bad traffic policy',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, externalTrafficPolicy: Global, ports: [{ port: 80 }] }',
    'Service d/s: spec.externalTrafficPolicy: must be Cluster or Local (got "Global")',
  ],
  [
    'bad type',
    'metadata: { name: s, namespace: d }\nspec: { type: Balanced, clusterIP: 10.0.0.1 }',
    'Service d/s: spec.type: must be ClusterIP, NodePort, LoadBalancer or ExternalName (got "Balanced")',
  ],
  [
    'bad affinity',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, sessionAffinity: Cookie }',
    'Service d/s: spec.sessionAffinity: must be None or ClientIP (got "Cookie")',
  ],
  [
    'bad affinity timeout',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, sessionAffinity: ClientIP, sessionAffinityConfig: { clientIP: { timeoutSeconds: 0 } } }',
    'Service d/s: spec.sessionAffinityConfig.clientIP.timeoutSeconds: must be an integer in 1..86400 (got 0)',
  ],
  [
    'bad LB algorithm annotation',
    `metadata: { name: s, namespace: d, annotations: { flagella.io/lb-algorithm: round-robin } }\n${GOOD_SPEC}`,
    'Service d/s: metadata.annotations["flagella.io/lb-algorithm"]: must be random or maglev (got "round-robin")',
  ],
  [
    'bad ip family',
    'metadata: { name: s, namespace: d }\nspec: { type: NodePort, clusterIP: 10.0.0.1, ipFamilies: [IPv5], ports: [{ port: 80, nodePort: 30000 }] }',
    'Service d/s: spec.ipFamilies[0]: must be IPv4 or IPv6 (got "IPv5")',
  ],
  [
    'malformed ports list',
    'metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, ports: "80" }',
    'Service d/s: spec.ports: must be a list (got "80")',
  ],
];

const services = suite('Service errors');
for (const [what, yaml, message] of serviceCases) {
  services(what, () => {
    try {
      fromService(parse(yaml) as V1Service);
      assert.unreachable('converted');
    } catch (err) {
      assert.instance(err, ConversionError);
      assert.is((err as ConversionError).message, message);
      assert.is((err as ConversionError).kind, 'Service');
    }
  });
}
services('structured fields', () => {
  try {
    fromService(parse('metadata: { name: s, namespace: d }\nspec: { clusterIP: 10.0.0.1, ports: [{ name: a, port: 80 }, { name: b, port: 0 }] }') as V1Service);
    assert.unreachable();
  } catch (err) {
    const e = err as ConversionError;
    assert.equal(e.toJSON(), {
      kind: 'Service',
      object: 'd/s',
      field: 'spec.ports[1].port',
      problem: 'must be an integer in 1..65535',
      message: 'Service d/s: spec.ports[1].port: must be an integer in 1..65535 (got 0)',
    });
  }
});
services('garbage input is still a ConversionError', () => {
  for (const junk of [null, 42, 'svc', { metadata: 7 }, { metadata: { name: 'a', namespace: 'b' }, spec: { ports: [null] } }]) {
    assert.throws(() => fromService(junk as unknown as V1Service), (err: unknown) => err instanceof ConversionError);
  }
});

const sliceCases: [string, string, string][] = [
  [
    'missing service-name label',
    'metadata: { name: s1, namespace: d }\naddressType: IPv4',
    'EndpointSlice d/s1: metadata.labels["kubernetes.io/service-name"]: is required',
  ],
  [
    'bad address',
    'metadata: { name: s1, namespace: d, labels: { kubernetes.io/service-name: svc } }\naddressType: IPv4\nports: [{ port: 80 }]\nendpoints: [{ addresses: [10.0.0.1] }, { addresses: [10.0.0.999] }]',
    'EndpointSlice d/s1: endpoints[1].addresses[0]: invalid IP address: part 999 is above 255 (got "10.0.0.999")',
  ],
  [
    'address of the wrong family',
    'metadata: { name: s1, namespace: d, labels: { kubernetes.io/service-name: svc } }\naddressType: IPv4\nports: [{ port: 80 }]\nendpoints: [{ addresses: ["fd00::1"] }]',
    'EndpointSlice d/s1: endpoints[0].addresses[0]: is not an IPv4 address as addressType says (got "fd00::1")',
  ],
  [
    'bad port',
    'metadata: { name: s1, namespace: d, labels: { kubernetes.io/service-name: svc } }\naddressType: IPv4\nports: [{ port: 0 }]',
    'EndpointSlice d/s1: ports[0].port: must be an integer in 1..65535 (got 0)',
  ],
  [
    'unknown protocol',
    'metadata: { name: s1, namespace: d, labels: { kubernetes.io/service-name: svc } }\naddressType: IPv4\nports: [{ port: 80, protocol: QUIC }]',
    'EndpointSlice d/s1: ports[0].protocol: must be TCP, UDP or SCTP (got "QUIC")',
  ],
  [
    'unknown address type',
    'metadata: { name: s1, namespace: d, labels: { kubernetes.io/service-name: svc } }\naddressType: IPX',
    'EndpointSlice d/s1: addressType: must be IPv4, IPv6 or FQDN (got "IPX")',
  ],
  [
    'endpoint without addresses',
    'metadata: { name: s1, namespace: d, labels: { kubernetes.io/service-name: svc } }\naddressType: IPv4\nendpoints: [{ addresses: [] }]',
    'EndpointSlice d/s1: endpoints[0].addresses: must list at least one address',
  ],
];
const slices = suite('EndpointSlice errors');
for (const [what, yaml, message] of sliceCases) {
  slices(what, () => {
    assert.throws(
      () => fromEndpointSlice(parse(yaml) as V1EndpointSlice),
      (err: unknown) => err instanceof ConversionError && err.message === message,
      `expected: ${message}`,
    );
  });
}

const batch = suite('batches');
batch('a bad service does not block the good ones', () => {
  const objs = parse(`
- metadata: { name: good-1, namespace: d }
  spec: { clusterIP: 10.0.0.1, ports: [{ port: 80 }] }
- metadata: { name: bad, namespace: d }
  spec: { clusterIP: 10.0.0.2, ports: [{ port: 80, protocol: ICMP }] }
- metadata: { name: good-2, namespace: d }
  spec: { clusterIP: 10.0.0.3, ports: [{ port: 80 }] }
`) as V1Service[];
  const { results, errors } = fromServices(objs);
  assert.equal(results.map((r) => r.service.name), ['d/good-1', 'd/good-2']);
  assert.equal(errors.map((e) => `${e.object} ${e.field}`), ['d/bad spec.ports[0].protocol']);
});
batch('a bad slice does not block the good ones', () => {
  const objs = parse(`
- metadata: { name: s1, namespace: d }
  addressType: IPv4
- metadata: { name: s2, namespace: d, labels: { kubernetes.io/service-name: svc } }
  addressType: IPv4
  ports: [{ port: 80 }]
  endpoints: [{ addresses: [10.0.0.1] }]
`) as V1EndpointSlice[];
  const { results, errors } = fromEndpointSlices(objs);
  assert.equal(results.map((r) => r.sliceName), ['d/s2']);
  assert.is(errors.length, 1);
  assert.is(errors[0]!.object, 'd/s1');
});

services.run();
slices.run();
batch.run();
