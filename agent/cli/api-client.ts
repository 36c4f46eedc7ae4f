// The agent's HTTP API over its unix socket (the contract is in
// agent/api/README.md): JSON requests and
// newline-delimited JSON streams, with typed errors so the CLI can tell "the
// agent is not there" (exit 4) from "the agent said no" (its status and
// message). node:http with `socketPath`: no dependency, one connection per
// request, nothing kept open between commands.
import http from 'node:http';

export const DEFAULT_API_SOCKET = '/run/flagella/api.sock';

/** Nothing answers on the socket: no agent, a stale socket file, no permission, or no answer in time. */
export class AgentUnreachableError extends Error {
  override readonly name = 'AgentUnreachableError';
  constructor(
    readonly socketPath: string,
    /** The errno code (ENOENT, ECONNREFUSED, EACCES, ...) or 'ETIMEDOUT'. */
    readonly code: string,
    options?: ErrorOptions,
  ) {
    super(`${unreachableReason(socketPath, code)}`, options);
  }
}

function unreachableReason(socketPath: string, code: string): string {
  switch (code) {
    case 'ENOENT':
      return `agent not running: no API socket at ${socketPath} (start it with "flagella agent", or point --api-socket at its socket)`;
    case 'ECONNREFUSED':
      return `agent not running: nothing listens on ${socketPath}, a stale socket file (start it with "flagella agent")`;
    case 'EACCES':
    case 'EPERM':
      return `cannot connect to the agent at ${socketPath}: permission denied (the socket is mode 0600: run as the agent's user, usually root)`;
    case 'ETIMEDOUT':
      return `the agent at ${socketPath} did not answer in time`;
    case 'ECONNRESET':
      return `the agent at ${socketPath} closed the connection (is it stopping or restarting?)`;
    default:
      return `cannot connect to the agent at ${socketPath}: ${code}`;
  }
}

/** The agent answered with a 4xx or 5xx: its `error` message and `details`. */
export class ApiResponseError extends Error {
  override readonly name = 'ApiResponseError';
  constructor(
    readonly status: number,
    readonly path: string,
    readonly apiMessage: string,
    readonly details: unknown,
  ) {
    super(apiMessage);
  }
}

/** The agent answered something that is not the contract's JSON (a bug or a version mismatch). */
export class ApiProtocolError extends Error {
  override readonly name = 'ApiProtocolError';
}

export interface ApiClientOptions {
  /** How long a request may take until its whole answer is in (default 30 s). */
  readonly timeoutMs?: number;
  /** How long a stream may stay silent; the agent sends a keep-alive every 30 s (default 90 s). */
  readonly streamIdleMs?: number;
}

interface Answer {
  readonly status: number;
  readonly body: string;
}

const CONNECT_ERRORS = new Set(['ENOENT', 'ECONNREFUSED', 'EACCES', 'EPERM', 'ENOTSOCK', 'ENOTDIR', 'ENAMETOOLONG']);

export class ApiClient {
  private readonly timeoutMs: number;
  private readonly streamIdleMs: number;

  constructor(
    readonly socketPath: string,
    opts: ApiClientOptions = {},
  ) {
    this.timeoutMs = opts.timeoutMs ?? 30_000;
    this.streamIdleMs = opts.streamIdleMs ?? 90_000;
  }

  /**
   * GET a JSON document. Rejects with AgentUnreachableError (no connection
   * or no answer in time), ApiResponseError (a 4xx/5xx with the agent's
   * message), ApiProtocolError (not JSON), or the signal's abort reason.
   */
  async get<T>(path: string, signal?: AbortSignal): Promise<T> {
    return this.send<T>('GET', path, undefined, signal);
  }

  /** Any method with an optional JSON body; same failures as get(). Never retried (PUT and DELETE are idempotent, but the caller decides). */
  async send<T>(method: string, path: string, body?: unknown, signal?: AbortSignal): Promise<T> {
    const answer = await this.exchange(method, path, body, signal);
    const parsed = parseJSON(answer.body, path);
    if (answer.status >= 400) throw responseError(answer.status, path, parsed);
    return parsed as T;
  }

  /**
   * A newline-delimited JSON stream: yields each parsed line except the
   * agent's keep-alives, until the agent ends it, `signal` aborts (ends
   * quietly) or the consumer stops (either closes the connection, which
   * closes the agent's iterator). Fails like get() before the first line;
   * after it with ApiProtocolError (a line that is not JSON, or silence
   * past streamIdleMs) or AgentUnreachableError (the agent ended the stream
   * or the connection broke: it is stopping). `onOpen` runs
   * once the agent has accepted the stream (its response headers are in).
   */
  async *stream(path: string, signal: AbortSignal, onOpen?: () => void): AsyncGenerator<unknown> {
    if (signal.aborted) return;
    const req = http.request({ socketPath: this.socketPath, path, method: 'GET', headers: { accept: 'application/x-ndjson' } });
    let idle: NodeJS.Timeout | undefined;
    // Destroying a request whose response is being read surfaces as the
    // response's own "aborted" error, so the reason is kept here.
    let silent: ApiProtocolError | undefined;
    const armIdle = () => {
      clearTimeout(idle);
      idle = setTimeout(() => {
        silent = new ApiProtocolError(`${path}: no data or keep-alive from the agent for ${this.streamIdleMs} ms`);
        req.destroy(silent);
      }, this.streamIdleMs);
    };
    const onAbort = () => req.destroy();
    signal.addEventListener('abort', onAbort, { once: true });
    try {
      armIdle();
      const res = await this.response(req, path);
      if ((res.statusCode ?? 0) >= 400) {
        const body = await readBody(res);
        throw responseError(res.statusCode ?? 0, path, parseJSON(body, path));
      }
      onOpen?.();
      let buffered = '';
      res.setEncoding('utf8');
      for await (const chunk of res as AsyncIterable<string>) {
        armIdle();
        buffered += chunk;
        let nl: number;
        while ((nl = buffered.indexOf('\n')) >= 0) {
          const line = buffered.slice(0, nl).trim();
          buffered = buffered.slice(nl + 1);
          if (line === '') continue;
          const item = parseJSON(line, path);
          if (isKeepAlive(item)) continue;
          yield item;
        }
      }
      if (buffered.trim() !== '' && !signal.aborted) {
        const item = parseJSON(buffered.trim(), path);
        if (!isKeepAlive(item)) yield item;
      }
      // The agent ends its streams only when it stops.
      if (!signal.aborted) throw new AgentUnreachableError(this.socketPath, 'ECONNRESET');
    } catch (e) {
      if (signal.aborted) return;
      if (silent !== undefined) throw silent;
      if (e instanceof AgentUnreachableError || e instanceof ApiResponseError || e instanceof ApiProtocolError) throw e;
      throw new AgentUnreachableError(this.socketPath, 'ECONNRESET', { cause: e });
    } finally {
      clearTimeout(idle);
      signal.removeEventListener('abort', onAbort);
      req.destroy();
    }
  }

  private exchange(method: string, path: string, body: unknown, signal: AbortSignal | undefined): Promise<Answer> {
    const payload = body === undefined ? undefined : JSON.stringify(body);
    const headers: http.OutgoingHttpHeaders = { accept: 'application/json' };
    if (payload !== undefined) {
      headers['content-type'] = 'application/json';
      headers['content-length'] = Buffer.byteLength(payload);
    }
    const req = http.request({ socketPath: this.socketPath, path, method, headers, ...(signal ? { signal } : {}) });
    const timer = setTimeout(() => req.destroy(Object.assign(new Error('timed out'), { code: 'ETIMEDOUT' })), this.timeoutMs);
    req.end(payload);
    return this.response(req, path)
      .then(async (res) => ({ status: res.statusCode ?? 0, body: await readBody(res) }))
      .finally(() => clearTimeout(timer));
  }

  /** The response of a sent request; connection failures become AgentUnreachableError. */
  private response(req: http.ClientRequest, path: string): Promise<http.IncomingMessage> {
    if (!req.writableEnded) req.end();
    return new Promise((resolve, reject) => {
      req.once('response', resolve);
      req.once('error', (e: NodeJS.ErrnoException) => {
        if (e instanceof ApiProtocolError || e.name === 'AbortError') reject(e);
        else if (e.code !== undefined && (CONNECT_ERRORS.has(e.code) || e.code === 'ETIMEDOUT')) reject(new AgentUnreachableError(this.socketPath, e.code, { cause: e }));
        else reject(new ApiProtocolError(`${path}: connection to the agent failed: ${e.message}`, { cause: e }));
      });
    });
  }
}

function readBody(res: http.IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    res.setEncoding('utf8');
    res.on('data', (d: string) => (text += d));
    res.on('end', () => resolve(text));
    res.on('error', reject);
  });
}

function parseJSON(text: string, path: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (e) {
    const shown = text.length > 200 ? `${text.slice(0, 200)}...` : text;
    throw new ApiProtocolError(`${path}: the agent's answer is not JSON (${(e as Error).message}): ${JSON.stringify(shown)}`);
  }
}

function isKeepAlive(item: unknown): boolean {
  return typeof item === 'object' && item !== null && (item as { keepalive?: unknown }).keepalive === true;
}

function responseError(status: number, path: string, body: unknown): ApiResponseError {
  const record = typeof body === 'object' && body !== null ? (body as { error?: unknown; details?: unknown }) : {};
  const message = typeof record.error === 'string' ? record.error : `HTTP ${status} from ${path}`;
  return new ApiResponseError(status, path, message, record.details);
}
