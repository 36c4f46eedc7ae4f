// The list half of an informer, done with the kubeconfig's own auth and
// dispatcher (as the client's Watch does) but returning the objects exactly
// as served: the client's typed list functions would deserialize them into
// model classes (Date fields, NetworkPolicy `_from`) while watch events stay
// plain JSON, so one informer would hand out two shapes. Items of a list
// carry no kind/apiVersion on the wire; they are filled in so every object a
// source emits names its kind. The request can be aborted (stop()).
//
// Lists are paged (limit/continue, 500 objects a page by default, as
// client-go's reflector), so a large cluster is not one huge response for
// the API server to build. Every page belongs to the first page's snapshot;
// when its continue token expires (410) the list starts again unpaged, as
// client-go does.
import { HttpMethod, RequestContext, type KubeConfig, type KubernetesListObject } from '@kubernetes/client-node';
import { fetch } from 'undici';
import { KIND_INFO, type KubeKind, type KubeObject } from './kinds.js';

/** A list request failed: HTTP status (0 when no response) and the server's message. */
export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly statusCode: number,
    readonly path: string,
    detail: string,
  ) {
    super(`list ${path}: ${statusCode === 0 ? '' : `HTTP ${statusCode}: `}${detail}`);
  }
}

export interface ListOptions {
  readonly fieldSelector?: string;
  readonly signal?: AbortSignal;
  /** Objects per page; 0 lists in one response. Default 500. */
  readonly pageSize?: number;
}

export const DEFAULT_LIST_PAGE_SIZE = 500;

/** Lists every object of `kind` in all namespaces, page by page. Throws KubeApiError (or the fetch error when aborted). */
export async function listObjects(
  config: KubeConfig,
  kind: KubeKind,
  opts: ListOptions = {},
): Promise<KubernetesListObject<KubeObject>> {
  const limit = opts.pageSize ?? DEFAULT_LIST_PAGE_SIZE;
  if (!Number.isInteger(limit) || limit < 0) throw new RangeError(`list page size must be an integer >= 0, got ${limit}`);
  const items: KubeObject[] = [];
  let token: string | undefined;
  for (;;) {
    let page: KubernetesListObject<KubeObject>;
    try {
      page = await listPage(config, kind, opts, limit, token);
    } catch (err) {
      // The snapshot the pages came from is gone (compacted): all over again, in one response.
      if (token !== undefined && err instanceof KubeApiError && err.statusCode === 410) return listObjects(config, kind, { ...opts, pageSize: 0 });
      throw err;
    }
    for (const item of page.items) items.push(item);
    // The wire name (the client's model classes call it _continue).
    const { continue: next, ...metadata } = (page.metadata ?? {}) as { continue?: string };
    token = next === '' ? undefined : next;
    if (token === undefined) return { ...page, metadata, items };
  }
}

/** One page of a list (the whole list when limit is 0). */
async function listPage(
  config: KubeConfig,
  kind: KubeKind,
  opts: ListOptions,
  limit: number,
  token: string | undefined,
): Promise<KubernetesListObject<KubeObject>> {
  const info = KIND_INFO[kind];
  const cluster = config.getCurrentCluster();
  if (cluster === null) throw new KubeApiError(0, info.path, 'no current cluster in the kubeconfig');
  const url = new URL(cluster.server + info.path);
  if (opts.fieldSelector !== undefined) url.searchParams.set('fieldSelector', opts.fieldSelector);
  if (limit > 0) url.searchParams.set('limit', String(limit));
  if (token !== undefined) url.searchParams.set('continue', token);
  const ctx = new RequestContext(url.toString(), HttpMethod.GET);
  await config.applySecurityAuthentication(ctx);
  const response = await fetch(url, {
    method: 'GET',
    headers: { ...ctx.getHeaders(), Accept: 'application/json' },
    dispatcher: ctx.getDispatcher(),
    signal: opts.signal,
  });
  const text = await response.text();
  if (response.status !== 200) throw new KubeApiError(response.status, info.path, statusMessage(text, response.statusText));
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new KubeApiError(response.status, info.path, 'response is not JSON');
  }
  const list = body as Partial<KubernetesListObject<KubeObject>> | null;
  if (list === null || typeof list !== 'object' || !Array.isArray(list.items)) {
    throw new KubeApiError(response.status, info.path, 'response has no items array');
  }
  for (const item of list.items) {
    item.kind ??= kind;
    item.apiVersion ??= info.apiVersion;
  }
  return { ...list, items: list.items };
}

/** The message of a Kubernetes Status body, else the HTTP status text. */
function statusMessage(text: string, fallback: string): string {
  try {
    const status = JSON.parse(text) as { message?: unknown };
    if (typeof status.message === 'string' && status.message !== '') return status.message;
  } catch {
    // not a Status object
  }
  return fallback !== '' ? fallback : 'request failed';
}
