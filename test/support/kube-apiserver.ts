// A loopback Kubernetes API server for tests: enough of list and watch for
// the real @kubernetes/client-node to talk to it over HTTP(S), with the
// behaviour tests need to provoke: a shared resourceVersion counter, replay
// of the event log after a watch's resourceVersion, compaction (410 Gone),
// paged lists (limit/continue over the first page's snapshot; a compaction
// expires their tokens), dropped watches and injected failures. Objects are created, updated and
// deleted through methods, not HTTP. Bound to 127.0.0.1; plain HTTP unless
// given a certificate (then the kubeconfig carries the CA).
import { execFileSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseSelector, selectorMatches, type FieldSelector } from './kube-field-selector.js';

export interface ResourceDef {
  readonly kind: string;
  /** `v1` or `group/version`. */
  readonly apiVersion: string;
  readonly plural: string;
  readonly namespaced: boolean;
}

export const DEFAULT_RESOURCES: readonly ResourceDef[] = [
  { kind: 'Service', apiVersion: 'v1', plural: 'services', namespaced: true },
  { kind: 'Pod', apiVersion: 'v1', plural: 'pods', namespaced: true },
  { kind: 'Namespace', apiVersion: 'v1', plural: 'namespaces', namespaced: false },
  { kind: 'Node', apiVersion: 'v1', plural: 'nodes', namespaced: false },
  { kind: 'EndpointSlice', apiVersion: 'discovery.k8s.io/v1', plural: 'endpointslices', namespaced: true },
  { kind: 'NetworkPolicy', apiVersion: 'networking.k8s.io/v1', plural: 'networkpolicies', namespaced: true },
];

/** A Kubernetes object as JSON. */
export interface KubeJSON {
  apiVersion?: string;
  kind?: string;
  metadata?: { name?: string; namespace?: string; resourceVersion?: string; [k: string]: unknown };
  [k: string]: unknown;
}

export interface RecordedRequest {
  readonly method: string;
  readonly path: string;
  readonly query: Readonly<Record<string, string>>;
  readonly watch: boolean;
  readonly status: number;
}

export interface KubeApiServerOptions {
  readonly resources?: readonly ResourceDef[];
  /** Serve HTTPS with this key and certificate (see selfSignedCert). */
  readonly tls?: { readonly key: string; readonly cert: string };
  /** Require `Authorization: Bearer <token>` (401 otherwise). */
  readonly token?: string;
}

interface LogEvent {
  readonly rv: number;
  readonly resource: ResourceDef;
  readonly type: 'ADDED' | 'MODIFIED' | 'DELETED';
  readonly object: KubeJSON;
  /** The object before a MODIFIED, for field-selector transitions. */
  readonly prev?: KubeJSON;
}

interface OpenWatch {
  readonly resource: ResourceDef;
  readonly namespace: string | undefined;
  readonly selector: FieldSelector;
  readonly res: ServerResponse;
}

interface Failure {
  count: number;
  readonly status: number;
  readonly on: FailOn;
}

/** Which requests an injected failure hits: lists, watches, continued (second and later) pages of a list, or any. */
type FailOn = 'list' | 'watch' | 'continue' | 'any';

interface Route {
  readonly resource: ResourceDef;
  readonly namespace: string | undefined;
  readonly name: string | undefined;
}

interface ListBody {
  readonly kind: string;
  readonly apiVersion: string;
  readonly metadata: { readonly resourceVersion: string; readonly continue?: string };
  readonly items: readonly unknown[];
}

function failureApplies(on: FailOn, watch: boolean, continued: boolean): boolean {
  if (on === 'any') return true;
  if (on === 'continue') return !watch && continued;
  return (on === 'watch') === watch;
}

const clone = <T>(v: T): T => JSON.parse(JSON.stringify(v)) as T;
const keyOf = (ns: string, name: string): string => `${ns}/${name}`;

export class KubeApiServer {
  readonly requests: RecordedRequest[] = [];
  private rv = 100;
  private compactedRv = 0;
  private readonly resources: readonly ResourceDef[];
  private readonly store = new Map<ResourceDef, Map<string, KubeJSON>>();
  private log: LogEvent[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly failures = new Map<string, Failure>();
  /** The first page's list of every paged list still being read, by continue-token id. */
  private readonly pagedLists = new Map<string, ListBody>();
  private server!: Server;
  url = '';

  private constructor(private readonly opts: KubeApiServerOptions) {
    this.resources = opts.resources ?? DEFAULT_RESOURCES;
    for (const r of this.resources) this.store.set(r, new Map());
  }

  /** Starts a server on 127.0.0.1 and an ephemeral port. */
  static async start(opts: KubeApiServerOptions = {}): Promise<KubeApiServer> {
    const s = new KubeApiServer(opts);
    const handler = (req: IncomingMessage, res: ServerResponse) => s.handle(req, res);
    s.server = opts.tls === undefined ? createHttpServer(handler) : createHttpsServer(opts.tls, handler);
    await new Promise<void>((resolve) => s.server.listen(0, '127.0.0.1', resolve));
    const { port } = s.server.address() as AddressInfo;
    s.url = `${opts.tls === undefined ? 'http' : 'https'}://127.0.0.1:${port}`;
    return s;
  }

  /** The current resourceVersion (the last one handed out). */
  get resourceVersion(): number {
    return this.rv;
  }

  /** A kubeconfig for this server (skipTLSVerify over HTTP, the CA over HTTPS). */
  kubeconfig(): string {
    const tls =
      this.opts.tls === undefined
        ? '    insecure-skip-tls-verify: true'
        : `    certificate-authority-data: ${Buffer.from(this.opts.tls.cert).toString('base64')}`;
    const user = this.opts.token === undefined ? '{}' : `\n    token: ${this.opts.token}`;
    return [
      'apiVersion: v1',
      'kind: Config',
      'clusters:',
      '- name: loopback',
      '  cluster:',
      `    server: ${this.url}`,
      tls,
      'users:',
      `- name: tester\n  user: ${user}`,
      'contexts:',
      '- name: loopback',
      '  context: {cluster: loopback, user: tester}',
      'current-context: loopback',
      '',
    ].join('\n');
  }

  /** Writes kubeconfig() to `path`. */
  writeKubeconfig(path: string): string {
    writeFileSync(path, this.kubeconfig());
    return path;
  }

  // ---- objects --------------------------------------------------------------

  /** Stores a new object (stamping resourceVersion, uid, creationTimestamp) and emits ADDED. */
  create(object: KubeJSON): KubeJSON {
    const { resource, ns, name } = this.locate(object);
    const objects = this.objectsOf(resource);
    if (objects.has(keyOf(ns, name))) throw new Error(`kube-apiserver: ${resource.kind} ${ns}/${name} already exists`);
    const stored = this.stamp(resource, object, ns);
    stored.metadata!.uid ??= randomUUID();
    stored.metadata!.creationTimestamp ??= new Date().toISOString();
    objects.set(keyOf(ns, name), stored);
    this.emit({ rv: this.rv, resource, type: 'ADDED', object: stored });
    return clone(stored);
  }

  /** Replaces an existing object and emits MODIFIED. */
  update(object: KubeJSON): KubeJSON {
    const { resource, ns, name } = this.locate(object);
    const objects = this.objectsOf(resource);
    const prev = objects.get(keyOf(ns, name));
    if (prev === undefined) throw new Error(`kube-apiserver: ${resource.kind} ${ns}/${name} does not exist`);
    const stored = this.stamp(resource, object, ns);
    stored.metadata!.uid = prev.metadata?.uid;
    stored.metadata!.creationTimestamp = prev.metadata?.creationTimestamp;
    objects.set(keyOf(ns, name), stored);
    this.emit({ rv: this.rv, resource, type: 'MODIFIED', object: stored, prev });
    return clone(stored);
  }

  /** Creates or updates. */
  apply(object: KubeJSON): KubeJSON {
    const { resource, ns, name } = this.locate(object);
    return this.objectsOf(resource).has(keyOf(ns, name)) ? this.update(object) : this.create(object);
  }

  /** Deletes an object (its DELETED event carries a new resourceVersion). */
  delete(kind: string, namespace: string, name: string): KubeJSON {
    const resource = this.resourceByKind(kind);
    const ns = resource.namespaced ? namespace : '';
    const objects = this.objectsOf(resource);
    const prev = objects.get(keyOf(ns, name));
    if (prev === undefined) throw new Error(`kube-apiserver: ${kind} ${ns}/${name} does not exist`);
    objects.delete(keyOf(ns, name));
    const last = clone(prev);
    last.metadata!.resourceVersion = String(++this.rv);
    this.emit({ rv: this.rv, resource, type: 'DELETED', object: last });
    return clone(last);
  }

  get(kind: string, namespace: string, name: string): KubeJSON | undefined {
    const resource = this.resourceByKind(kind);
    const found = this.objectsOf(resource).get(keyOf(resource.namespaced ? namespace : '', name));
    return found === undefined ? undefined : clone(found);
  }

  // ---- faults ---------------------------------------------------------------

  /**
   * Forgets the event log up to now: open watches end with an ERROR event
   * (410 Expired), any later watch from an older resourceVersion gets HTTP
   * 410, so clients must relist, and so does a paged list's continue token.
   */
  compact(): void {
    this.compactedRv = this.rv;
    this.log = [];
    this.pagedLists.clear();
    for (const w of [...this.watches]) {
      this.send(w, { type: 'ERROR', object: expiredStatus(this.rv) });
      this.endWatch(w);
    }
  }

  /** Ends every open watch cleanly, as a server restart or a load balancer would. */
  dropWatches(): void {
    for (const w of [...this.watches]) this.endWatch(w);
  }

  /**
   * Answers `status` (default 500) to the next `count` requests for `path`
   * (exact, without query), counting only lists, only watches, or any.
   */
  failNext(path: string, count: number, opts: { status?: number; on?: FailOn } = {}): void {
    this.failures.set(path, { count, status: opts.status ?? 500, on: opts.on ?? 'any' });
  }

  /** Open watch streams, optionally of one kind. */
  openWatches(kind?: string): number {
    let n = 0;
    for (const w of this.watches) if (kind === undefined || w.resource.kind === kind) n++;
    return n;
  }

  /** Requests for `path` (without query), optionally only watches or only lists. */
  requestsFor(path: string, watch?: boolean): RecordedRequest[] {
    return this.requests.filter((r) => r.path === path && (watch === undefined || r.watch === watch));
  }

  /** Ends every watch and connection and stops listening. */
  async close(): Promise<void> {
    for (const w of [...this.watches]) this.endWatch(w);
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  // ---- HTTP -----------------------------------------------------------------

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const query = Object.fromEntries(url.searchParams);
    const watch = query.watch === 'true' || query.watch === '1';
    const answer = (status: number, body: unknown): void => {
      this.requests.push({ method: req.method ?? 'GET', path: url.pathname, query, watch, status });
      res.writeHead(status, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (this.opts.token !== undefined && req.headers.authorization !== `Bearer ${this.opts.token}`) {
      return answer(401, status(401, 'Unauthorized', 'Unauthorized'));
    }
    const failure = this.failures.get(url.pathname);
    if (failure !== undefined && failure.count > 0 && failureApplies(failure.on, watch, query.continue !== undefined)) {
      failure.count--;
      return answer(failure.status, status(failure.status, 'InternalError', 'injected failure'));
    }
    if (req.method !== 'GET') return answer(405, status(405, 'MethodNotAllowed', `${req.method} is not supported`));
    const discovery = this.discovery(url.pathname);
    if (discovery !== undefined) return answer(200, discovery);
    const route = this.route(url.pathname);
    if (route === undefined) return answer(404, status(404, 'NotFound', `the server could not find ${url.pathname}`));
    let selector: FieldSelector;
    try {
      selector = parseSelector(query.fieldSelector ?? '');
    } catch (err) {
      return answer(400, status(400, 'BadRequest', (err as Error).message));
    }
    if (route.name !== undefined) {
      const found = this.objectsOf(route.resource).get(keyOf(route.namespace ?? '', route.name));
      if (found === undefined) return answer(404, status(404, 'NotFound', `${route.resource.plural} "${route.name}" not found`));
      return answer(200, found);
    }
    if (!watch) {
      if (query.continue !== undefined) return this.continueList(query.continue, query.limit, answer);
      const list = this.listBody(route, selector);
      return answer(200, query.limit === undefined ? list : this.firstPage(list, query.limit));
    }
    const from = query.resourceVersion ?? '';
    if (from !== '' && from !== '0' && Number(from) < this.compactedRv) {
      return answer(410, status(410, 'Expired', `too old resource version: ${from} (${this.compactedRv})`));
    }
    this.requests.push({ method: 'GET', path: url.pathname, query, watch, status: 200 });
    this.openWatch(route, selector, from, res);
  }

  private openWatch(route: Route, selector: FieldSelector, from: string, res: ServerResponse): void {
    res.writeHead(200, { 'Content-Type': 'application/json', 'Transfer-Encoding': 'chunked' });
    res.flushHeaders();
    const w: OpenWatch = { resource: route.resource, namespace: route.namespace, selector, res };
    this.watches.add(w);
    res.on('close', () => this.watches.delete(w));
    if (from === '' || from === '0') {
      // "Start at most recent": the current state as ADDED events first.
      for (const obj of this.objectsOf(route.resource).values()) {
        if (this.visible(w, obj)) this.send(w, { type: 'ADDED', object: obj });
      }
      return;
    }
    const after = Number(from);
    for (const e of this.log) if (e.rv > after) this.deliver(w, e);
  }

  /** The first `limit` items of list; the rest wait under a continue token. */
  private firstPage(list: ListBody, limit: string): ListBody {
    const n = Number(limit);
    if (!(n > 0) || list.items.length <= n) return list;
    const id = randomUUID();
    this.pagedLists.set(id, list);
    return this.page(list, id, 0, n);
  }

  private continueList(token: string, limit: string | undefined, answer: (status: number, body: unknown) => void): void {
    let at: { id: string; offset: number };
    try {
      at = JSON.parse(Buffer.from(token, 'base64url').toString()) as { id: string; offset: number };
    } catch {
      return answer(400, status(400, 'BadRequest', 'continue key is not valid'));
    }
    const snap = this.pagedLists.get(at.id);
    if (snap === undefined) {
      return answer(410, status(410, 'Expired', 'The provided continue parameter is too old to display a consistent list result.'));
    }
    return answer(200, this.page(snap, at.id, at.offset, Number(limit ?? snap.items.length)));
  }

  private page(list: ListBody, id: string, offset: number, n: number): ListBody {
    const end = offset + n;
    const more = end < list.items.length;
    if (!more) this.pagedLists.delete(id);
    const token = more ? Buffer.from(JSON.stringify({ id, offset: end })).toString('base64url') : undefined;
    return { ...list, metadata: { ...list.metadata, ...(token === undefined ? {} : { continue: token }) }, items: list.items.slice(offset, end) };
  }

  private listBody(route: Route, selector: FieldSelector): ListBody {
    const w = { resource: route.resource, namespace: route.namespace, selector };
    const items = [...this.objectsOf(route.resource).values()]
      .filter((o) => this.visible(w, o))
      .map((o) => {
        // Items of a list carry no kind/apiVersion, as with a real server.
        const { kind: _k, apiVersion: _a, ...rest } = o;
        return rest;
      });
    return {
      kind: `${route.resource.kind}List`,
      apiVersion: route.resource.apiVersion,
      metadata: { resourceVersion: String(this.rv) },
      items,
    };
  }

  private emit(e: LogEvent): void {
    this.log.push(e);
    for (const w of this.watches) this.deliver(w, e);
  }

  /** Sends one logged event to a watch, turning selector transitions into ADDED/DELETED. */
  private deliver(w: OpenWatch, e: LogEvent): void {
    if (w.resource !== e.resource) return;
    const now = this.visible(w, e.object);
    if (e.type !== 'MODIFIED') {
      if (now) this.send(w, { type: e.type, object: e.object });
      return;
    }
    const before = e.prev !== undefined && this.visible(w, e.prev);
    if (now && before) this.send(w, { type: 'MODIFIED', object: e.object });
    else if (now) this.send(w, { type: 'ADDED', object: e.object });
    else if (before) this.send(w, { type: 'DELETED', object: e.object });
  }

  private visible(w: Pick<OpenWatch, 'namespace' | 'selector'>, obj: KubeJSON): boolean {
    if (w.namespace !== undefined && obj.metadata?.namespace !== w.namespace) return false;
    return selectorMatches(w.selector, obj);
  }

  private send(w: OpenWatch, event: { type: string; object: unknown }): void {
    if (!w.res.writableEnded) w.res.write(`${JSON.stringify(event)}\n`);
  }

  private endWatch(w: OpenWatch): void {
    this.watches.delete(w);
    if (!w.res.writableEnded) w.res.end();
  }

  private discovery(path: string): unknown {
    if (path === '/version') return { major: '1', minor: '33', gitVersion: 'v1.33.0-flagella-loopback' };
    if (path === '/api') return { kind: 'APIVersions', versions: ['v1'] };
    const groups = [...new Set(this.resources.map((r) => r.apiVersion).filter((v) => v.includes('/')))];
    if (path === '/apis') {
      return {
        kind: 'APIGroupList',
        apiVersion: 'v1',
        groups: groups.map((gv) => {
          const [group, version] = gv.split('/') as [string, string];
          const v = { groupVersion: gv, version };
          return { name: group, versions: [v], preferredVersion: v };
        }),
      };
    }
    const gv = path === '/api/v1' ? 'v1' : path.startsWith('/apis/') ? path.slice('/apis/'.length) : undefined;
    if (gv === undefined || (gv !== 'v1' && !groups.includes(gv))) return undefined;
    return {
      kind: 'APIResourceList',
      apiVersion: 'v1',
      groupVersion: gv,
      resources: this.resources
        .filter((r) => r.apiVersion === gv)
        .map((r) => ({
          name: r.plural,
          singularName: r.kind.toLowerCase(),
          namespaced: r.namespaced,
          kind: r.kind,
          verbs: ['get', 'list', 'watch'],
        })),
    };
  }

  private route(path: string): Route | undefined {
    let rest: string[];
    let gv: string;
    const parts = path.split('/').filter((p) => p !== '');
    if (parts[0] === 'api' && parts[1] === 'v1') [gv, rest] = ['v1', parts.slice(2)];
    else if (parts[0] === 'apis' && parts.length >= 3) [gv, rest] = [`${parts[1]}/${parts[2]}`, parts.slice(3)];
    else return undefined;
    const byPlural = (plural: string | undefined) =>
      this.resources.find((r) => r.apiVersion === gv && r.plural === plural);
    // namespaces/{ns}/{plural}[/{name}]
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      const resource = byPlural(rest[2]);
      if (resource === undefined || !resource.namespaced || rest.length > 4) return undefined;
      return { resource, namespace: rest[1], name: rest[3] };
    }
    // {plural}[/{name}]: all namespaces, or a cluster-scoped object
    const resource = byPlural(rest[0]);
    if (resource === undefined || rest.length > 2) return undefined;
    if (rest.length === 2 && resource.namespaced) return undefined;
    return { resource, namespace: undefined, name: rest[1] };
  }

  private locate(object: KubeJSON): { resource: ResourceDef; ns: string; name: string } {
    const resource = this.resources.find((r) => r.kind === object.kind && r.apiVersion === object.apiVersion);
    if (resource === undefined) throw new Error(`kube-apiserver: unknown kind ${object.apiVersion}/${object.kind}`);
    const name = object.metadata?.name;
    if (name === undefined || name === '') throw new Error(`kube-apiserver: ${object.kind} without metadata.name`);
    const ns = resource.namespaced ? (object.metadata?.namespace ?? 'default') : '';
    return { resource, ns, name };
  }

  private resourceByKind(kind: string): ResourceDef {
    const resource = this.resources.find((r) => r.kind === kind);
    if (resource === undefined) throw new Error(`kube-apiserver: unknown kind ${kind}`);
    return resource;
  }

  private objectsOf(resource: ResourceDef): Map<string, KubeJSON> {
    return this.store.get(resource)!;
  }

  private stamp(resource: ResourceDef, object: KubeJSON, ns: string): KubeJSON {
    const stored = clone(object);
    stored.apiVersion = resource.apiVersion;
    stored.kind = resource.kind;
    stored.metadata = { ...stored.metadata, resourceVersion: String(++this.rv) };
    if (resource.namespaced) stored.metadata.namespace = ns;
    else delete stored.metadata.namespace;
    return stored;
  }
}

function status(code: number, reason: string, message: string): unknown {
  return { kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message, reason, code };
}

function expiredStatus(rv: number): unknown {
  return status(410, 'Expired', `The resourceVersion for the provided watch is too old (compacted at ${rv}).`);
}

/** A self-signed certificate for 127.0.0.1 made with the openssl CLI. */
export function selfSignedCert(): { key: string; cert: string } {
  const dir = mkdtempSync(join(tmpdir(), `flagella-cert-${process.pid}-`));
  try {
    execFileSync(
      'openssl',
      [
        'req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1',
        '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1',
        '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem'),
      ],
      { stdio: 'ignore' },
    );
    return { key: readFileSync(join(dir, 'key.pem'), 'utf8'), cert: readFileSync(join(dir, 'cert.pem'), 'utf8') };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
