// The health (`/healthz`) and Prometheus (`/metrics`) HTTP endpoints on TCP.
// Both listen on loopback by default: metrics name services, addresses and
// object counts, so exposing them beyond the node is a decision the user
// makes (`--allow-remote-observability`), not a default.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isIP } from 'node:net';
import type { Registry } from 'prom-client';
import type { Logger } from './logger.js';

/** A TCP listen address. */
export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

/** What `/healthz` answers: 200 when ok, 503 when degraded. */
export interface HealthReport {
  readonly status: 'ok' | 'degraded';
  readonly problems: readonly string[];
  readonly [key: string]: unknown;
}

/** A listening endpoint: its bound address (the real port when 0 was asked) and how to close it. */
export interface ServedEndpoint {
  readonly address: string;
  close(): Promise<void>;
}

/** A listen address is malformed, or not loopback without permission. */
export class ListenAddressError extends Error {
  override readonly name = 'ListenAddressError';
}

/**
 * Parses `host:port` (`[v6]:port` for IPv6; host an IP literal or
 * `localhost`; port 0..65535, 0 = any free port). Throws
 * ListenAddressError saying what is wrong.
 */
export function parseListenAddress(text: string): ListenAddress {
  const m = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(text);
  if (m === null) throw new ListenAddressError(`"${text}" is not host:port (use [addr]:port for IPv6)`);
  const host = (m[1] ?? m[2])!;
  const port = Number(m[3]);
  if (port > 65535) throw new ListenAddressError(`port ${port} of "${text}" is out of range 0..65535`);
  if (host !== 'localhost' && isIP(host) === 0) throw new ListenAddressError(`host "${host}" of "${text}" is not an IP address or localhost`);
  if (m[1] !== undefined && isIP(host) !== 6) throw new ListenAddressError(`"${host}" in brackets is not an IPv6 address`);
  return { host, port };
}

/** True for localhost, 127.0.0.0/8 and ::1. */
export function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/** Throws ListenAddressError for a non-loopback address unless allowed. */
export function checkLoopback(flag: string, addr: ListenAddress, allowRemote: boolean): void {
  if (allowRemote || isLoopback(addr.host)) return;
  throw new ListenAddressError(
    `${flag} ${formatAddress(addr)} is not a loopback address; pass --allow-remote-observability to serve it beyond this node`,
  );
}

export function formatAddress(addr: ListenAddress): string {
  return isIP(addr.host) === 6 ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

/** Serves `GET /healthz` with `health()` (200 ok / 503 degraded). Rejects when the address cannot be bound. */
export function serveHealth(addr: ListenAddress, health: () => HealthReport, logger: Logger): Promise<ServedEndpoint> {
  return serve('health', addr, logger, (req, res) => {
    if (pathOf(req) !== '/healthz') return notFound(res, '/healthz');
    if (!allowGet(req, res)) return;
    let report: HealthReport;
    try {
      report = health();
    } catch (err) {
      report = { status: 'degraded', problems: [`health check failed: ${err instanceof Error ? err.message : String(err)}`] };
    }
    sendJSON(res, report.status === 'ok' ? 200 : 503, report);
  });
}

/** Serves `GET /metrics` from the registry in the Prometheus text format. */
export function serveMetrics(addr: ListenAddress, registry: Registry, logger: Logger): Promise<ServedEndpoint> {
  return serve('metrics', addr, logger, (req, res) => {
    if (pathOf(req) !== '/metrics') return notFound(res, '/metrics');
    if (!allowGet(req, res)) return;
    registry.metrics().then(
      (text) => {
        res.writeHead(200, { 'content-type': registry.contentType });
        res.end(text);
      },
      (err: unknown) => sendJSON(res, 500, { error: `collecting metrics failed: ${err instanceof Error ? err.message : String(err)}` }),
    );
  });
}

function serve(what: string, addr: ListenAddress, logger: Logger, handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<ServedEndpoint> {
  const server: Server = createServer(handler);
  server.keepAliveTimeout = 5000;
  return new Promise((resolve, reject) => {
    server.once('error', (err) => reject(new ListenAddressError(`cannot serve ${what} on ${formatAddress(addr)}: ${err.message}`)));
    server.listen(addr.port, addr.host, () => {
      const bound = server.address();
      const port = typeof bound === 'object' && bound !== null ? bound.port : addr.port;
      const address = formatAddress({ host: addr.host, port });
      server.on('error', (err) => logger.error({ err: err.message }, `${what} server error`));
      logger.info({ address }, `serving ${what}`);
      resolve({
        address,
        close: () =>
          new Promise<void>((done) => {
            server.close(() => done());
            server.closeAllConnections();
          }),
      });
    });
  });
}

function pathOf(req: IncomingMessage): string {
  return new URL(req.url ?? '/', 'http://agent').pathname;
}

function allowGet(req: IncomingMessage, res: ServerResponse): boolean {
  if (req.method === 'GET' || req.method === 'HEAD') return true;
  res.setHeader('allow', 'GET, HEAD');
  sendJSON(res, 405, { error: `method ${req.method ?? ''} not allowed; use GET` });
  return false;
}

function notFound(res: ServerResponse, path: string): void {
  sendJSON(res, 404, { error: `not found; this endpoint serves ${path}` });
}

function sendJSON(res: ServerResponse, code: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(code, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}
