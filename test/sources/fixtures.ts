// Helpers shared by the source tests: a pino logger that records, a bounded
// wait, temporary directories and kube objects.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino, type Logger } from 'pino';

export interface LogRecord {
  level: number;
  msg: string;
  [field: string]: unknown;
}

/** A debug-level pino logger writing into `records`. */
export function captureLogger(): { logger: Logger; records: LogRecord[]; messages: (minLevel?: number) => string[] } {
  const records: LogRecord[] = [];
  const logger = pino({ level: 'debug' }, { write: (line: string) => void records.push(JSON.parse(line) as LogRecord) });
  return { logger, records, messages: (minLevel = 0) => records.filter((r) => r.level >= minLevel).map((r) => r.msg) };
}

export const WARN = 40;

/** Polls `predicate` every 10 ms until true; throws naming `what` after `timeoutMs`. */
export async function waitFor(what: string, predicate: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!predicate()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A fresh temporary directory named after the test and the pid; remove with `cleanup`. */
export function tempDir(label: string): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), `flagella-${label}-${process.pid}-`));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

export function service(name: string, namespace = 'default', clusterIP = '10.96.0.10'): {
  apiVersion: string; kind: string; metadata: { name: string; namespace: string }; spec: Record<string, unknown>;
} {
  return {
    apiVersion: 'v1',
    kind: 'Service',
    metadata: { name, namespace },
    spec: { clusterIP, ports: [{ port: 80, protocol: 'TCP' }] },
  };
}

/** One object of every kind the sources read, as a client would create it. */
export function objectsOfEveryKind(suffix = ''): { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string> }; [k: string]: unknown }[] {
  return [
    service(`web${suffix}`),
    {
      apiVersion: 'discovery.k8s.io/v1',
      kind: 'EndpointSlice',
      metadata: { name: `web${suffix}-abc`, namespace: 'default', labels: { 'kubernetes.io/service-name': `web${suffix}` } },
      addressType: 'IPv4',
      endpoints: [{ addresses: ['10.1.0.1'], conditions: { ready: true } }],
      ports: [{ port: 8080, protocol: 'TCP' }],
    },
    {
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: `deny${suffix}`, namespace: 'default' },
      spec: { podSelector: {}, policyTypes: ['Ingress'], ingress: [{ from: [{ podSelector: { matchLabels: { app: 'client' } } }] }] },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: `pod${suffix}`, namespace: 'default', labels: { app: 'web' } },
      spec: { nodeName: 'n1', containers: [{ name: 'c', image: 'x' }] },
      status: { podIP: '10.1.0.1' },
    },
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns${suffix}`, labels: { team: 'a' } } },
    { apiVersion: 'v1', kind: 'Node', metadata: { name: `node${suffix}` }, status: { addresses: [{ type: 'InternalIP', address: '192.168.0.1' }] } },
  ];
}
