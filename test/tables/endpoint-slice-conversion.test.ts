// EndpointSlice -> backends (reference §2.3, §3; issue 5).
import type { V1EndpointSlice } from '@kubernetes/client-node';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { parse } from 'yaml';
import { endpointState, formatL3n4Addr, fromEndpointSlice, type Backend } from '../../tables/index.js';

function slice(yaml: string): V1EndpointSlice {
  return parse(yaml) as V1EndpointSlice;
}
/** `<address> <state> [names] node` */
function lines(backends: readonly Backend[]): string[] {
  return backends.map((b) => `${formatL3n4Addr(b.address)} ${b.state} [${b.portNames.join(',')}] ${b.nodeName}`.trimEnd());
}

const convert = suite('EndpointSlice conversion');

convert('one backend per address and port, named by the slice port, sorted by address', () => {
  const out = fromEndpointSlice(
    slice(`
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata:
  name: web-abc12
  namespace: shop
  labels: { kubernetes.io/service-name: web }
addressType: IPv4
ports:
  - { name: http, port: 8080, protocol: TCP }
  - { name: metrics, port: 9090 }
endpoints:
  - addresses: [10.244.1.7]
    conditions: { ready: true }
    nodeName: node-b
    zone: zone-1
  - addresses: [10.244.1.3]
    conditions: { ready: true }
    nodeName: node-a
`),
  );
  assert.is(out.sliceName, 'shop/web-abc12');
  assert.is(out.serviceName, 'shop/web');
  assert.equal(lines(out.backends), [
    '10.244.1.3:8080/TCP active [http] node-a',
    '10.244.1.3:9090/TCP active [metrics] node-a',
    '10.244.1.7:8080/TCP active [http] node-b',
    '10.244.1.7:9090/TCP active [metrics] node-b',
  ]);
  const first = out.backends[2]!;
  assert.equal(first, {
    serviceName: 'shop/web',
    address: { ip: '10.244.1.7', port: 8080, protocol: 'TCP', scope: 'external' },
    portNames: ['http'],
    weight: 100,
    nodeName: 'node-b',
    zone: 'zone-1',
    forZones: [],
    state: 'active',
    source: 'k8s',
  });
});

convert('endpoint conditions become states', () => {
  const out = fromEndpointSlice(
    slice(`
metadata: { name: s1, namespace: d, labels: { kubernetes.io/service-name: svc } }
addressType: IPv4
ports: [{ port: 80 }]
endpoints:
  - { addresses: [10.0.0.1], conditions: { ready: true, serving: true, terminating: false } }
  - { addresses: [10.0.0.2], conditions: { ready: false, serving: true, terminating: true } }
  - { addresses: [10.0.0.3], conditions: { ready: false, serving: false, terminating: true } }
  - { addresses: [10.0.0.4], conditions: { ready: false, serving: false, terminating: false } }
  - { addresses: [10.0.0.5] }
  - { addresses: [10.0.0.6], conditions: { terminating: true } }
`),
  );
  assert.equal(lines(out.backends), [
    '10.0.0.1:80/TCP active []',
    '10.0.0.2:80/TCP terminating []',
    '10.0.0.3:80/TCP maintenance []',
    '10.0.0.4:80/TCP maintenance []',
    '10.0.0.5:80/TCP active []', // unknown readiness counts as ready
    '10.0.0.6:80/TCP terminating []', // terminating, serving unknown: serving
  ]);
});

convert('endpointState table', () => {
  const table: [Parameters<typeof endpointState>[0], string][] = [
    [undefined, 'active'],
    [{ ready: true }, 'active'],
    [{ ready: true, terminating: true }, 'active'],
    [{ ready: false }, 'maintenance'],
    [{ ready: false, serving: true }, 'maintenance'],
    [{ terminating: true, serving: true }, 'terminating'],
    [{ terminating: true, serving: false }, 'maintenance'],
  ];
  for (const [conditions, state] of table) assert.is(endpointState(conditions), state, JSON.stringify(conditions));
});

convert('IPv6 slices, UDP and SCTP ports', () => {
  const out = fromEndpointSlice(
    slice(`
metadata: { name: s6, namespace: d, labels: { kubernetes.io/service-name: dns } }
addressType: IPv6
ports: [{ name: dns, port: 53, protocol: UDP }, { name: sig, port: 2905, protocol: SCTP }]
endpoints: [{ addresses: ["fd00:0::10"] }]
`),
  );
  assert.equal(lines(out.backends), ['[fd00::10]:53/UDP active [dns]', '[fd00::10]:2905/SCTP active [sig]']);
});

convert('the same address under two port names is one backend with both names', () => {
  const out = fromEndpointSlice(
    slice(`
metadata: { name: s, namespace: d, labels: { kubernetes.io/service-name: svc } }
addressType: IPv4
ports: [{ name: web, port: 80 }, { name: alt, port: 80 }]
endpoints: [{ addresses: [10.0.0.1] }, { addresses: [10.0.0.1], conditions: { ready: false } }]
`),
  );
  assert.equal(lines(out.backends), ['10.0.0.1:80/TCP active [alt,web]']);
});

convert('topology hints and every address of an endpoint', () => {
  const out = fromEndpointSlice(
    slice(`
metadata: { name: s, namespace: d, labels: { kubernetes.io/service-name: svc } }
addressType: IPv4
ports: [{ port: 80 }]
endpoints:
  - addresses: [10.0.0.2, 10.0.0.1]
    zone: b
    hints: { forZones: [{ name: b }, { name: a }] }
`),
  );
  assert.equal(lines(out.backends), ['10.0.0.1:80/TCP active []', '10.0.0.2:80/TCP active []']);
  assert.equal(out.backends[0]!.forZones, ['a', 'b']);
});

convert('ports without numbers are skipped; FQDN slices have no backends; no endpoints is fine', () => {
  const noPort = fromEndpointSlice(
    slice(`
metadata: { name: s, namespace: d, labels: { kubernetes.io/service-name: svc } }
addressType: IPv4
ports: [{ name: any }]
endpoints: [{ addresses: [10.0.0.1] }]
`),
  );
  assert.equal(noPort.backends, []);
  const fqdn = fromEndpointSlice(
    slice(`
metadata: { name: s, namespace: d, labels: { kubernetes.io/service-name: svc } }
addressType: FQDN
ports: [{ port: 80 }]
endpoints: [{ addresses: [db.example.com] }]
`),
  );
  assert.equal(fqdn.backends, []);
  const empty = fromEndpointSlice(
    slice(`
metadata: { name: s, namespace: d, labels: { kubernetes.io/service-name: svc } }
addressType: IPv4
`),
  );
  assert.equal(empty, { sliceName: 'd/s', serviceName: 'd/svc', backends: [] });
});

convert('several slices of one service convert independently, keyed by slice name', () => {
  const mk = (name: string, ip: string) =>
    fromEndpointSlice(
      slice(`
metadata: { name: ${name}, namespace: d, labels: { kubernetes.io/service-name: svc } }
addressType: IPv4
ports: [{ port: 80 }]
endpoints: [{ addresses: [${ip}] }]
`),
    );
  const a = mk('svc-a', '10.0.0.1');
  const b = mk('svc-b', '10.0.0.2');
  assert.is(a.serviceName, b.serviceName);
  assert.is.not(a.sliceName, b.sliceName);
  assert.equal([...lines(a.backends), ...lines(b.backends)], ['10.0.0.1:80/TCP active []', '10.0.0.2:80/TCP active []']);
});

convert.run();
