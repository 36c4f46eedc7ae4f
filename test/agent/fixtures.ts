// Kubernetes objects the agent tests PUT or write as YAML.

export function service(namespace: string, name: string, clusterIP: string, port = 80): Record<string, unknown> {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { namespace, name },
    spec: { clusterIP, ports: [{ name: 'http', port, protocol: 'TCP', targetPort: 8080 }] },
  };
}

export function endpointSlice(namespace: string, name: string, serviceName: string, addresses: readonly string[], port = 8080): Record<string, unknown> {
  return {
    apiVersion: 'discovery.k8s.io/v1',
    kind: 'EndpointSlice',
    metadata: { namespace, name, labels: { 'kubernetes.io/service-name': serviceName } },
    addressType: 'IPv4',
    ports: [{ name: 'http', port, protocol: 'TCP' }],
    endpoints: addresses.map((a) => ({ addresses: [a], conditions: { ready: true } })),
  };
}

export function networkPolicy(namespace: string, name: string, app: string): Record<string, unknown> {
  return {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { namespace, name },
    spec: {
      podSelector: { matchLabels: { app } },
      policyTypes: ['Ingress'],
      ingress: [{ from: [{ podSelector: { matchLabels: { role: 'client' } } }], ports: [{ protocol: 'TCP', port: 8080 }] }],
    },
  };
}

/** Objects as one YAML stream (JSON is YAML). */
export function yamlDocuments(objects: readonly unknown[]): string {
  return objects.map((o) => JSON.stringify(o)).join('\n---\n');
}
