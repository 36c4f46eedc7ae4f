// The agent's HTTP API on a unix socket (the contract is in
// agent/api/README.md): health, status, tables, change streams, datapath
// events, and PUT/DELETE of the API source's services and policies.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { DB } from '../../statedb/index.js';
import type { HealthReport, Logger } from '../observability/index.js';
import type { ApiObjects } from './api-objects.js';
import { listenPrivate, prepareSocketPath, removeSocket } from './api-socket.js';
import { eventToJSON, type EventHub } from './event-hub.js';
import { HttpError, readJSONBody, sendError, sendJSON, writeLine } from './http-util.js';
import { listTables, sendRows, streamChanges, tableOr404 } from './table-routes.js';

/** What the API serves; the runtime provides it. */
export interface ApiBackend {
  readonly db: DB;
  readonly objects: ApiObjects;
  status(): unknown;
  health(): HealthReport;
  /** Datapath events; undefined when no datapath is loaded. */
  readonly events: EventHub | undefined;
  /** Called once per answered request (for metrics). */
  onRequest?(method: string, route: string, status: number): void;
}

export interface ApiServerOptions {
  /** Quiet time before a stream sends `{"keepalive":true}` (default 30 s). */
  readonly keepaliveMs?: number;
}

export interface ApiServer {
  readonly path: string;
  /** Ends open streams, stops listening and removes the socket file. Idempotent. */
  close(): Promise<void>;
}

interface Route {
  /** The route's pattern, e.g. `/v1/tables/{name}` (metrics label). */
  readonly pattern: string;
  readonly match: RegExp;
  readonly methods: Readonly<Record<string, Handler>>;
}

type Handler = (ctx: RequestContext) => Promise<void> | void;

interface RequestContext {
  readonly req: IncomingMessage;
  readonly res: ServerResponse;
  readonly params: readonly string[];
  readonly query: URLSearchParams;
  readonly stop: AbortSignal;
}

function routes(backend: ApiBackend, keepaliveMs: number): Route[] {
  const seg = '([^/]+)';
  const r = (pattern: string, methods: Record<string, Handler>): Route => ({
    pattern,
    match: new RegExp(`^${pattern.replace(/\{[a-z]+\}/g, seg)}$`),
    methods,
  });
  const json = (fn: (ctx: RequestContext) => unknown, status = 200): Handler => async (ctx) => sendJSON(ctx.res, status, await fn(ctx));
  const p = (ctx: RequestContext, i: number) => ctx.params[i]!;
  return [
    r('/healthz', {
      GET: ({ res }) => {
        const h = backend.health();
        sendJSON(res, h.status === 'ok' ? 200 : 503, h);
      },
    }),
    r('/v1/status', { GET: json(() => backend.status()) }),
    r('/v1/tables', { GET: json(() => listTables(backend.db)) }),
    r('/v1/tables/{name}', { GET: (ctx) => sendRows(backend.db, ctx.res, tableOr404(backend.db, p(ctx, 0)), ctx.query) }),
    r('/v1/tables/{name}/changes', {
      GET: (ctx) => streamChanges(ctx.res, tableOr404(backend.db, p(ctx, 0)), ctx.stop, keepaliveMs),
    }),
    r('/v1/services/{namespace}/{name}', {
      PUT: json(async (ctx) => backend.objects.putService(p(ctx, 0), p(ctx, 1), await readJSONBody(ctx.req))),
      DELETE: json((ctx) => backend.objects.deleteService(p(ctx, 0), p(ctx, 1))),
    }),
    r('/v1/policies/{namespace}/{name}', {
      PUT: json(async (ctx) => backend.objects.putPolicy(p(ctx, 0), p(ctx, 1), await readJSONBody(ctx.req))),
      DELETE: json((ctx) => backend.objects.deletePolicy(p(ctx, 0), p(ctx, 1))),
    }),
    r('/v1/events', { GET: (ctx) => streamEvents(ctx, backend.events, keepaliveMs) }),
  ];
}

/** GET /v1/events: newline-delimited JSON events until the client goes away. */
async function streamEvents(ctx: RequestContext, hub: EventHub | undefined, keepaliveMs: number): Promise<void> {
  if (hub === undefined) throw new HttpError(503, 'no datapath is loaded, so there are no events');
  const { res } = ctx;
  const queue: unknown[] = [];
  let wake: (() => void) | undefined;
  const unsubscribe = hub.subscribe((event) => {
    // A client that cannot keep up loses events rather than the agent's memory.
    if (queue.length < 10_000) queue.push(eventToJSON(event));
    wake?.();
  });
  const done = new Promise<void>((resolve) => {
    res.once('close', () => resolve());
    ctx.stop.addEventListener('abort', () => resolve(), { once: true });
  });
  try {
    res.writeHead(200, { 'content-type': 'application/x-ndjson', 'cache-control': 'no-cache' });
    res.flushHeaders();
    for (;;) {
      while (queue.length > 0) if (!(await writeLine(res, queue.shift()))) return;
      let timer: NodeJS.Timeout | undefined;
      const next = new Promise<'event' | 'quiet'>((resolve) => {
        wake = () => resolve('event');
        timer = setTimeout(() => resolve('quiet'), keepaliveMs);
      });
      const why = await Promise.race([next, done.then(() => 'done' as const)]);
      clearTimeout(timer);
      wake = undefined;
      if (why === 'done' || res.destroyed) return;
      if (why === 'quiet' && !(await writeLine(res, { keepalive: true }))) return;
    }
  } finally {
    unsubscribe();
    if (!res.writableEnded) res.end();
  }
}

/**
 * Serves the API on the unix socket `path` (mode 0600; see
 * prepareSocketPath for stale and live sockets). Rejects with
 * ApiSocketError when the socket cannot be made.
 */
export async function serveApi(path: string, backend: ApiBackend, logger: Logger, opts: ApiServerOptions = {}): Promise<ApiServer> {
  await prepareSocketPath(path);
  const stop = new AbortController();
  const table = routes(backend, opts.keepaliveMs ?? 30_000);
  const server: Server = createServer((req, res) => void handle(req, res, table, stop.signal, backend, logger));
  await listenPrivate(server, path);
  logger.info({ socket: path }, 'serving the API');
  let closing: Promise<void> | undefined;
  return {
    path,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        stop.abort();
        server.close(() => resolve());
        server.closeIdleConnections();
        setTimeout(() => server.closeAllConnections(), 1000).unref();
      }).finally(() => removeSocket(path))),
  };
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `path segment ${JSON.stringify(segment)} is not valid percent-encoding`);
  }
}

async function handle(req: IncomingMessage, res: ServerResponse, table: readonly Route[], stop: AbortSignal, backend: ApiBackend, logger: Logger): Promise<void> {
  const method = req.method ?? 'GET';
  let pattern = 'unknown';
  let status = 200;
  try {
    const url = new URL(req.url ?? '/', 'http://flagella');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    let params: string[] | undefined;
    const route = table.find((r) => {
      const m = r.match.exec(path);
      if (m !== null) params = m.slice(1).map(decodeSegment);
      return m !== null;
    });
    if (route === undefined) throw new HttpError(404, `no endpoint ${path}; see GET /v1/status, /v1/tables, /v1/events`);
    pattern = route.pattern;
    const handler = route.methods[method];
    if (handler === undefined) {
      const allow = Object.keys(route.methods).join(', ');
      throw new HttpError(405, `method ${method} not allowed on ${route.pattern}; allowed: ${allow}`, undefined, { allow });
    }
    await handler({ req, res, params: params ?? [], query: url.searchParams, stop });
    status = res.statusCode;
  } catch (err) {
    status = sendError(res, err);
    if (status >= 500) logger.error({ method, url: req.url, err: err instanceof Error ? err.message : String(err) }, 'API request failed');
  } finally {
    logger.debug({ method, url: req.url, status }, 'API request');
    backend.onRequest?.(method, pattern, status);
  }
}
