// The agent's HTTP API end to end: `flagella agent` spawned with its own
// state directory, pin root and socket (no devices: the maps are written,
// nothing is attached), driven with raw HTTP over the unix socket. Every
// endpoint of the contract, the socket's permissions, each 4xx case, a
// service PUT into the tables and the pinned maps, restored after restarts
// (SIGTERM and SIGKILL), and deleted.
import { request as httpRequest } from 'node:http';
import { existsSync, lstatSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { suite } from 'uvu';
import * as assert from 'uvu/assert';
import { BpfProgram, dumpLBMaps, openPinnedLBMaps } from '../../datapath/index.js';
import { buildPacket } from '../support/packet.js';
import { AgentDirs, AgentProcess, type HttpAnswer } from './agent-process.js';
import { endpointSlice, networkPolicy, service } from './fixtures.js';

const VIP = '10.96.7.10';
const LONELY_VIP = '10.96.7.20';

interface Row {
  revision: number;
  object: Record<string, unknown>;
}

function mapLines(pinRoot: string, match: string): string[] {
  const maps = openPinnedLBMaps(pinRoot);
  try {
    return dumpLBMaps(maps)
      .map((l) => l.line)
      .filter((l) => l.includes(match));
  } finally {
    maps.close();
  }
}

function errorOf(a: HttpAnswer): string {
  const body = a.json as { error?: unknown } | undefined;
  assert.type(body?.error, 'string', `an error body: ${a.text}`);
  return body!.error as string;
}

/** Polls /v1/status until every source is synced and no reconciler has pending or errored rows. */
async function settled(agent: AgentProcess): Promise<Record<string, unknown>> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    const s = (await agent.request('GET', '/v1/status')).json as {
      sources: { synced: boolean }[];
      reconcilers: { pending: number; errored: number }[];
      tables: { initialized: boolean }[];
    };
    if (s.sources.every((x) => x.synced) && s.reconcilers.every((r) => r.pending === 0 && r.errored === 0) && s.tables.every((t) => t.initialized)) {
      return s;
    }
    if (Date.now() > deadline) throw new Error(`agent did not settle: ${JSON.stringify(s)}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Reads a newline-delimited JSON stream until `until` says stop (or 10 s pass); then disconnects. */
function readStream(socketPath: string, path: string, until: (lines: unknown[]) => boolean, onOpen?: () => void): Promise<{ status: number; type: string; lines: unknown[] }> {
  return new Promise((resolve, reject) => {
    const lines: unknown[] = [];
    const req = httpRequest({ socketPath, path, method: 'GET' }, (res) => {
      let buffered = '';
      const timer = setTimeout(() => finish(), 10_000);
      const finish = () => {
        clearTimeout(timer);
        req.destroy();
        resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), lines });
      };
      onOpen?.();
      res.on('data', (d: Buffer) => {
        buffered += d.toString();
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          lines.push(JSON.parse(buffered.slice(0, nl)));
          buffered = buffered.slice(nl + 1);
        }
        if (until(lines)) finish();
      });
      res.on('end', finish);
    });
    req.on('error', (err) => (req.destroyed ? undefined : reject(err)));
    req.end();
  });
}

const api = suite('flagella agent: HTTP API on the unix socket');
const dirs = new AgentDirs('api');
let agent: AgentProcess;
let frontendIds: Record<string, number> = {};

api.before(async () => {
  agent = await AgentProcess.start(dirs, ['--node-name', 'node-a', '--node-addresses', '192.168.50.10']);
});

api.after(async () => {
  try {
    await agent?.stop('SIGKILL');
  } finally {
    dirs.cleanup();
  }
});

api('the socket is mode 0600 in a directory created 0700', () => {
  assert.ok(lstatSync(dirs.socket).isSocket());
  assert.is(statSync(dirs.socket).mode & 0o777, 0o600);
  assert.is(statSync(dirname(dirs.socket)).mode & 0o777, 0o700);
});

api('GET /healthz and /v1/status', async () => {
  const h = await agent.request('GET', '/healthz');
  assert.is(h.status, 200);
  assert.is((h.json as { status: string }).status, 'ok');
  const s = await agent.request('GET', '/v1/status');
  assert.is(s.status, 200);
  const status = s.json as Record<string, unknown> & { sources: { name: string }[]; reconcilers: { name: string }[]; datapath: Record<string, unknown>; tables: unknown[] };
  assert.is(status.nodeName, 'node-a');
  assert.type(status.version, 'string');
  assert.type(status.uptimeSeconds, 'number');
  assert.equal(status.sources.map((x) => x.name), ['api']);
  assert.equal(status.reconcilers.map((r) => r.name).sort(), ['endpoint-policies', 'ipcache', 'lb-maps']);
  assert.is(status.datapath.pinRoot, dirs.pinRoot);
  assert.type(status.datapath.counters, 'object');
  assert.ok(status.tables.length >= 10);
});

api('GET /v1/tables describes every table', async () => {
  const a = await agent.request('GET', '/v1/tables');
  assert.is(a.status, 200);
  const tables = a.json as { name: string; objects: number; revision: number; indexes: { name: string; kind: string; unique: boolean; keyType: string }[]; initialized: boolean; pendingInitializers: string[]; deleteTrackers: number; zombies: number }[];
  const names = tables.map((t) => t.name);
  for (const n of ['services', 'frontends', 'backends', 'api-services', 'api-policies', 'identities']) assert.ok(names.includes(n), n);
  const fe = tables.find((t) => t.name === 'frontends')!;
  assert.equal(fe.indexes.map((i) => i.name), ['address', 'service', '__revision__'].filter((n) => fe.indexes.some((i) => i.name === n)));
  assert.ok(fe.indexes.some((i) => i.name === 'service' && i.kind === 'non-unique' && i.unique === false));
  assert.type(fe.deleteTrackers, 'number');
  assert.type(fe.zombies, 'number');
  assert.is(fe.initialized, true);
  assert.equal(fe.pendingInitializers, []);
});

api('PUT a service: its frontends in the tables and its entries in the pinned maps', async () => {
  const body = { service: service('default', 'web', VIP), endpointSlices: [endpointSlice('default', 'web-1', 'web', ['10.0.7.1', '10.0.7.2'])] };
  const a = await agent.request('PUT', '/v1/services/default/web', body);
  assert.is(a.status, 200, a.text);
  const applied = (a.json as { applied: { name: string; frontends: string[]; endpointSlices: string[] } }).applied;
  assert.is(applied.name, 'default/web');
  assert.equal(applied.frontends, [`${VIP}:80/TCP`]);
  assert.equal(applied.endpointSlices, ['default/web-1']);
  await settled(agent);
  const rows = (await agent.request('GET', '/v1/tables/frontends?index=service&key=default/web')).json as Row[];
  assert.is(rows.length, 1);
  assert.is(rows[0]!.object.address, `${VIP}:80/TCP`);
  assert.equal((rows[0]!.object.status as { kind: string }).kind, 'done');
  assert.ok((rows[0]!.object.id as number) > 0, 'a service ID was assigned');
  frontendIds = { [`${VIP}:80/TCP`]: rows[0]!.object.id as number };
  const lines = mapLines(dirs.pinRoot, `ADDR=${VIP}:80/TCP`);
  assert.is(lines.filter((l) => l.includes('SLOT=0')).length, 1, lines.join('\n'));
  assert.is(lines.filter((l) => / SLOT=[12] /.test(l)).length, 2, lines.join('\n'));
  const svcRows = (await agent.request('GET', '/v1/tables/services?key=default/web&op=get')).json as Row[];
  assert.is(svcRows[0]!.object.source, 'api');
  const apiRows = (await agent.request('GET', '/v1/tables/api-services')).json as Row[];
  assert.equal(apiRows.map((r) => r.object.name), ['default/web']);
});

api('a plain v1 Service body works too, and re-PUTting the same object changes nothing', async () => {
  const a = await agent.request('PUT', '/v1/services/default/lonely', service('default', 'lonely', LONELY_VIP));
  assert.is(a.status, 200, a.text);
  await settled(agent);
  const before = (await agent.request('GET', '/v1/tables/frontends?key=default/lonely&index=service')).json as Row[];
  const again = await agent.request('PUT', '/v1/services/default/lonely', service('default', 'lonely', LONELY_VIP));
  assert.is(again.status, 200);
  await settled(agent);
  const after = (await agent.request('GET', '/v1/tables/frontends?key=default/lonely&index=service')).json as Row[];
  assert.is(after[0]!.revision, before[0]!.revision, 'the frontend row was not rewritten');
});

api('queries: get, list, prefix, lowerbound, and the table format', async () => {
  const get = (await agent.request('GET', `/v1/tables/frontends?key=${encodeURIComponent(`${VIP}:80/TCP`)}&op=get`)).json as Row[];
  assert.is(get.length, 1);
  const none = await agent.request('GET', `/v1/tables/frontends?key=${encodeURIComponent('10.1.1.1:80/TCP')}&op=get`);
  assert.is(none.status, 200);
  assert.equal(none.json, []);
  const prefix = (await agent.request('GET', '/v1/tables/services?key=default/&op=prefix')).json as Row[];
  assert.equal(prefix.map((r) => r.object.name), ['default/lonely', 'default/web']);
  const lower = (await agent.request('GET', '/v1/tables/services?key=default/m&op=lowerbound')).json as Row[];
  assert.equal(lower.map((r) => r.object.name), ['default/web']);
  const all = (await agent.request('GET', '/v1/tables/frontends')).json as Row[];
  assert.is(all.length, 2);
  assert.ok(all.every((r) => typeof r.revision === 'number' && r.revision > 0));
  const table = (await agent.request('GET', '/v1/tables/frontends?format=table')).json as { header: string[]; rows: string[][] };
  assert.equal(table.header.slice(0, 3), ['Address', 'Type', 'ServiceName']);
  assert.is(table.rows.length, 2);
  assert.ok(table.rows.some((r) => r[0] === `${VIP}:80/TCP` && r[2] === 'default/web'));
});

api('bad requests: 404, 400, 405, 413 with JSON errors naming the problem', async () => {
  const unknownTable = await agent.request('GET', '/v1/tables/nope');
  assert.is(unknownTable.status, 404);
  assert.match(errorOf(unknownTable), /table "nope" not found; the tables are: .*frontends/);
  const unknownIndex = await agent.request('GET', '/v1/tables/frontends?index=zzz&key=a');
  assert.is(unknownIndex.status, 400);
  assert.match(errorOf(unknownIndex), /unknown index "zzz".*service/);
  const badKey = await agent.request('GET', '/v1/tables/frontends?key=not-an-address&op=get');
  assert.is(badKey.status, 400);
  assert.match(errorOf(badKey), /bad key "not-an-address"/);
  const badOp = await agent.request('GET', '/v1/tables/frontends?key=a&op=scan');
  assert.is(badOp.status, 400);
  assert.match(errorOf(badOp), /op="scan"/);
  const badFormat = await agent.request('GET', '/v1/tables/frontends?format=xml');
  assert.is(badFormat.status, 400);
  const method = await agent.request('POST', '/v1/tables/frontends', '{}');
  assert.is(method.status, 405);
  assert.is(method.headers.allow, 'GET');
  const putMethod = await agent.request('GET', '/v1/services/default/web');
  assert.is(putMethod.status, 405);
  assert.is(putMethod.headers.allow, 'PUT, DELETE');
  const tooBig = await agent.request('PUT', '/v1/services/default/big', Buffer.alloc((1 << 20) + 10, 0x20));
  assert.is(tooBig.status, 413);
  assert.match(errorOf(tooBig), /limit/);
  const malformed = await agent.request('PUT', '/v1/services/default/web', '{"kind": "Service",');
  assert.is(malformed.status, 400);
  assert.match(errorOf(malformed), /malformed JSON/);
  const endpoint = await agent.request('GET', '/v2/whatever');
  assert.is(endpoint.status, 404);
  errorOf(endpoint);
});

api('bad objects: conversion errors with the field path, mismatched names, conflicts (nothing stored)', async () => {
  const badPort = service('default', 'broken', '10.96.7.30');
  (badPort.spec as { ports: { port: number }[] }).ports[0]!.port = 70000;
  const a = await agent.request('PUT', '/v1/services/default/broken', badPort);
  assert.is(a.status, 400);
  assert.match(errorOf(a), /Service default\/broken: spec\.ports\[0\]\.port/);
  assert.is((a.json as { details: { field: string } }).details.field, 'spec.ports[0].port');
  const mismatch = await agent.request('PUT', '/v1/services/default/other', service('default', 'web', '10.96.7.31'));
  assert.is(mismatch.status, 400);
  assert.match(errorOf(mismatch), /metadata\.name "web" does not match the path's name "other"/);
  const kind = await agent.request('PUT', '/v1/services/default/x', { kind: 'Pod', metadata: { name: 'x' } });
  assert.is(kind.status, 400);
  const conflict = await agent.request('PUT', '/v1/services/default/thief', service('default', 'thief', VIP));
  assert.is(conflict.status, 409, conflict.text);
  assert.match(errorOf(conflict), /belongs to service default\/web/);
  const stored = (await agent.request('GET', '/v1/tables/api-services')).json as Row[];
  assert.equal(stored.map((r) => r.object.name), ['default/lonely', 'default/web'], 'the refused service was rolled back');
  const badPolicy = networkPolicy('default', 'np', 'web');
  (badPolicy.spec as { policyTypes: string[] }).policyTypes = ['Sideways'];
  const p = await agent.request('PUT', '/v1/policies/default/np', badPolicy);
  assert.is(p.status, 400);
  assert.match(errorOf(p), /NetworkPolicy default\/np: spec\.policyTypes/);
});

api('policies: PUT into the durable table and the policy tables, DELETE, 404 for unknown', async () => {
  const put = await agent.request('PUT', '/v1/policies/shop/allow-clients', networkPolicy('shop', 'allow-clients', 'checkout'));
  assert.is(put.status, 200, put.text);
  const rows = (await agent.request('GET', '/v1/tables/policies?key=shop/allow-clients&op=get')).json as Row[];
  assert.is(rows.length, 1);
  assert.is(rows[0]!.object.error, null);
  const del = await agent.request('DELETE', '/v1/policies/shop/allow-clients');
  assert.is(del.status, 200);
  assert.equal((await agent.request('GET', '/v1/tables/policies')).json, []);
  const again = await agent.request('DELETE', '/v1/policies/shop/allow-clients');
  assert.is(again.status, 404);
  assert.match(errorOf(again), /shop\/allow-clients/);
});

api('GET /v1/tables/{name}/changes: current rows first, then changes; the iterator closes on disconnect', async () => {
  const tableInfo = async () => ((await agent.request('GET', '/v1/tables')).json as { name: string; deleteTrackers: number }[]).find((t) => t.name === 'api-services')!;
  const trackersBefore = (await tableInfo()).deleteTrackers;
  const stream = readStream(
    dirs.socket,
    '/v1/tables/api-services/changes',
    (lines) => lines.some((l) => (l as { deleted?: boolean }).deleted === true),
    () => {
      void (async () => {
        await agent.request('PUT', '/v1/services/default/temp', service('default', 'temp', '10.96.7.40'));
        await agent.request('DELETE', '/v1/services/default/temp');
      })();
    },
  );
  const { status, type, lines } = await stream;
  assert.is(status, 200);
  assert.match(type, /ndjson/);
  const changes = lines as { revision: number; deleted: boolean; object: { name: string } }[];
  // The replay comes in revision order.
  assert.equal(changes.slice(0, 2).map((c) => [c.object.name, c.deleted]).sort(), [['default/lonely', false], ['default/web', false]]);
  const temp = changes.filter((c) => c.object.name === 'default/temp');
  assert.equal(temp.map((c) => c.deleted), [false, true]);
  assert.ok(temp[1]!.revision > temp[0]!.revision);
  const deadline = Date.now() + 5000;
  while ((await tableInfo()).deleteTrackers !== trackersBefore && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  assert.is((await tableInfo()).deleteTrackers, trackersBefore, 'the change iterator was closed');
});

api('GET /v1/events streams a datapath drop (a packet to a service without backends)', async () => {
  const prog = BpfProgram.openPinned(join(dirs.pinRoot, 'progs', 'flg_tc_ingress'));
  try {
    const frame = buildPacket({ saddr: '10.0.9.9', daddr: LONELY_VIP, proto: 'tcp', sport: 40000, dport: 80 });
    const { status, type, lines } = await readStream(dirs.socket, '/v1/events', (l) => l.length > 0, () => {
      // The subscription starts with the response; give the reader a moment to attach.
      setTimeout(() => prog.testRun({ data: frame }), 300);
    });
    assert.is(status, 200);
    assert.match(type, /ndjson/);
    const event = lines[0] as { type: string; reasonName: string; daddr: string; dport: number; timestampNs: string };
    assert.is(event.type, 'drop');
    assert.is(event.daddr, LONELY_VIP);
    assert.is(event.dport, 80);
    assert.type(event.timestampNs, 'string');
    assert.match(event.reasonName, /BACKEND/);
  } finally {
    prog.close();
  }
});

api('SIGTERM: the socket goes, pins stay; a restart restores the API service and rewrites nothing', async () => {
  const stopped = await agent.stop('SIGTERM');
  assert.is(stopped.code, 0, agent.tail());
  assert.not.ok(existsSync(dirs.socket), 'socket removed');
  assert.ok(mapLines(dirs.pinRoot, `ADDR=${VIP}:80/TCP`).length > 0, 'the datapath keeps its entries');
  assert.ok(agent.logs.some((l) => l.msg === 'stopped'));
  agent = await AgentProcess.start(dirs, ['--node-name', 'node-a', '--node-addresses', '192.168.50.10']);
  const status = (await settled(agent)) as { datapath: { lbMapWrites: { total: number } } };
  assert.is(status.datapath.lbMapWrites.total, 0, 'no map rewrites');
  const rows = (await agent.request('GET', '/v1/tables/frontends?index=service&key=default/web')).json as Row[];
  assert.is(rows[0]!.object.id, frontendIds[`${VIP}:80/TCP`], 'the service ID was restored');
  const apiRows = (await agent.request('GET', '/v1/tables/api-services')).json as Row[];
  assert.equal(apiRows.map((r) => r.object.name), ['default/lonely', 'default/web']);
});

api('SIGKILL leaves a stale socket, which the next agent replaces; a live socket is refused', async () => {
  await agent.stop('SIGKILL');
  assert.ok(existsSync(dirs.socket), 'the killed agent left its socket');
  agent = await AgentProcess.start(dirs, ['--node-name', 'node-a', '--node-addresses', '192.168.50.10']);
  assert.is((await agent.request('GET', '/healthz')).status, 200);
  const rivalDirs = new AgentDirs('api2', { socket: dirs.socket });
  try {
    const failed = await AgentProcess.start(rivalDirs).then(
      async (rival) => {
        await rival.stop('SIGKILL');
        return undefined;
      },
      (err: unknown) => err as Error,
    );
    assert.ok(failed, 'a second agent on a live socket must not start');
    assert.match(failed.message, /another agent is answering there/);
    assert.ok(lstatSync(dirs.socket).isSocket(), 'the live socket was left alone');
    assert.is((await agent.request('GET', '/healthz')).status, 200);
  } finally {
    rivalDirs.cleanup();
  }
});

api('DELETE a service: gone from the tables and the maps; 404 the second time', async () => {
  const del = await agent.request('DELETE', '/v1/services/default/web');
  assert.is(del.status, 200);
  assert.equal(del.json, { deleted: { kind: 'Service', name: 'default/web' } });
  await settled(agent);
  assert.equal((await agent.request('GET', '/v1/tables/frontends?index=service&key=default/web')).json, []);
  assert.equal(mapLines(dirs.pinRoot, `ADDR=${VIP}:80/TCP`), []);
  const again = await agent.request('DELETE', '/v1/services/default/web');
  assert.is(again.status, 404);
  assert.match(errorOf(again), /default\/web/);
});

api.run();
