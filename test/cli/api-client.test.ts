// The CLI's client of the agent API against a small server on a unix
// socket in this process: JSON answers and errors, newline-delimited
// streams with keep-alives, ending a stream by abort or by breaking out,
// a silent stream, a connection dropped mid-stream, answers that are not
// JSON, and the data source's mapping of all of it to exit-code kinds.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import type { DataSourceError } from '../../agent/index.js';
import { AgentDataSource, AgentUnreachableError, ApiClient, ApiProtocolError, ApiResponseError } from '../../agent/index.js';

const dir = mkdtempSync(join(tmpdir(), 'flg-api-client-'));
const socket = join(dir, 'api.sock');
let server: Server;
const closedStreams: string[] = [];

type Handler = (req: IncomingMessage, res: ServerResponse) => void;
const routes: Record<string, Handler> = {
  '/v1/tables': (_req, res) => res.end(JSON.stringify([{ name: 'frontends', objects: 2, revision: 7, indexes: [{ name: 'address', kind: 'primary', unique: true, keyType: 'l3n4' }] }])),
  '/v1/tables/frontends': (req, res) => {
    const url = new URL(req.url!, 'http://x');
    if (url.searchParams.get('index') === 'nope') {
      res.statusCode = 400;
      res.end(JSON.stringify({ error: 'table "frontends": unknown index "nope"' }));
    } else if (url.searchParams.get('format') === 'table') res.end(JSON.stringify({ header: ['Address'], rows: [['1.1.1.1:80/TCP']] }));
    else res.end(JSON.stringify([{ revision: 3, object: { address: '1.1.1.1:80/TCP' } }]));
  },
  '/v1/tables/nope': (_req, res) => {
    res.statusCode = 404;
    res.end(JSON.stringify({ error: 'table "nope" not found; the tables are: frontends' }));
  },
  '/v1/tables/frontends/changes': (req, res) => {
    res.writeHead(200, { 'content-type': 'application/x-ndjson' });
    res.write('{"revision":1,"deleted":false,"object":{"a":1}}\n{"keepalive":true}\n');
    res.write('{"revision":2,"deleted":true,');
    setTimeout(() => res.write('"object":{"a":1}}\n'), 20);
    req.on('close', () => closedStreams.push('changes'));
  },
  '/silent': (_req, res) => {
    res.writeHead(200);
    res.flushHeaders();
  },
  '/dropped': (req, res) => {
    res.writeHead(200);
    res.write('{"n":1}\n');
    setTimeout(() => req.socket.destroy(), 20);
  },
  '/broken': (_req, res) => {
    res.statusCode = 500;
    res.end('<html>oops</html>');
  },
  '/v1/status': (_req, res) => {
    res.statusCode = 503;
    res.end(JSON.stringify({ error: 'starting', details: { phase: 'datapath' } }));
  },
};

const api = suite('agent API client');

api.before(async () => {
  server = createServer((req, res) => (routes[new URL(req.url!, 'http://x').pathname] ?? ((_q, r) => r.writeHead(404).end('{"error":"no route"}')))(req, res));
  await new Promise<void>((resolve) => server.listen(socket, resolve));
});

api.after(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  rmSync(dir, { recursive: true, force: true });
});

api('JSON answers, and errors carrying the status, the agent\'s message and details', async () => {
  const client = new ApiClient(socket);
  assert.equal(await client.get('/v1/tables/frontends'), [{ revision: 3, object: { address: '1.1.1.1:80/TCP' } }]);
  const e = await client.get('/v1/status').catch((x: unknown) => x);
  assert.instance(e, ApiResponseError);
  assert.equal([(e as ApiResponseError).status, (e as ApiResponseError).apiMessage, (e as ApiResponseError).details], [503, 'starting', { phase: 'datapath' }]);
  const html = await client.get('/broken').catch((x: unknown) => x);
  assert.instance(html, ApiProtocolError);
  assert.match((html as Error).message, /\/broken: the agent's answer is not JSON/);
});

api('no socket and a stale socket are AgentUnreachableError, with messages naming the path', async () => {
  const missing = await new ApiClient(join(dir, 'none.sock')).get('/v1/tables').catch((x: unknown) => x);
  assert.instance(missing, AgentUnreachableError);
  assert.is((missing as AgentUnreachableError).code, 'ENOENT');
  assert.match((missing as Error).message, /agent not running: no API socket at .*none\.sock/);
});

api('a stream yields its lines without keep-alives, across chunk boundaries, and closes the connection when the consumer stops', async () => {
  const client = new ApiClient(socket);
  const seen: unknown[] = [];
  for await (const item of client.stream('/v1/tables/frontends/changes', new AbortController().signal)) {
    seen.push(item);
    if (seen.length === 2) break;
  }
  assert.equal(seen, [
    { revision: 1, deleted: false, object: { a: 1 } },
    { revision: 2, deleted: true, object: { a: 1 } },
  ]);
  for (let i = 0; i < 50 && closedStreams.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(closedStreams, ['changes'], 'the server saw the client go');
});

api('an abort ends a stream quietly; a silent stream and a dropped connection fail', async () => {
  const client = new ApiClient(socket, { streamIdleMs: 200 });
  const stop = new AbortController();
  setTimeout(() => stop.abort(), 50);
  const items: unknown[] = [];
  for await (const item of new ApiClient(socket).stream('/silent', stop.signal)) items.push(item);
  assert.equal(items, []);
  const silent = await (async () => {
    for await (const _ of client.stream('/silent', new AbortController().signal)) void _;
  })().catch((x: unknown) => x);
  assert.instance(silent, ApiProtocolError);
  assert.match((silent as Error).message, /no data or keep-alive from the agent for 200 ms/);
  const dropped: unknown[] = [];
  const err = await (async () => {
    for await (const item of client.stream('/dropped', new AbortController().signal)) dropped.push(item);
  })().catch((x: unknown) => x);
  assert.equal(dropped, [{ n: 1 }]);
  assert.instance(err, AgentUnreachableError, 'a stream the agent breaks off is the agent going away');
  assert.match((err as Error).message, /closed the connection \(is it stopping or restarting\?\)/);
});

api('the agent data source maps answers to rows and cells, and errors to exit-code kinds', async () => {
  const source = new AgentDataSource(new ApiClient(socket));
  const [t] = await source.tables();
  assert.equal([t?.name, t?.objects, t?.indexes[0]?.name, t?.initialized], ['frontends', 2, 'address', true]);
  assert.equal((await source.all('frontends', 'cells')).cells, { header: ['Address'], rows: [['1.1.1.1:80/TCP']] });
  assert.equal((await source.query('frontends', 'get', '', '1.1.1.1:80/TCP', 'objects')).rows, [{ revision: 3, object: { address: '1.1.1.1:80/TCP' } }]);
  const kinds = await Promise.all([
    source.all('nope', 'objects').catch((e: DataSourceError) => e.kind),
    source.query('frontends', 'list', 'nope', 'x', 'objects').catch((e: DataSourceError) => e.kind),
    source.describe('nope').catch((e: DataSourceError) => e.message),
    new AgentDataSource(new ApiClient(join(dir, 'none.sock'))).tables().catch((e: DataSourceError) => e.kind),
  ]);
  assert.equal(kinds, ['not-found', 'bad-request', 'table "nope" not found; the tables are: frontends', 'unreachable']);
});

api.run();
