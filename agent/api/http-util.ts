// Small HTTP helpers of the API server: typed errors that become JSON
// answers, bounded JSON bodies, and JSON responses.
import type { IncomingMessage, ServerResponse } from 'node:http';

/** Largest request body accepted (413 beyond). */
export const MAX_BODY_BYTES = 1 << 20;

/** An answer other than 2xx: `{"error": message, "details"?: ...}` with `status`. */
export class HttpError extends Error {
  override readonly name = 'HttpError';
  constructor(
    readonly status: number,
    message: string,
    readonly details?: unknown,
    /** Extra response headers (e.g. Allow for 405). */
    readonly headers: Readonly<Record<string, string>> = {},
  ) {
    super(message);
  }
}

/**
 * Reads and parses a JSON body. Throws HttpError 413 past MAX_BODY_BYTES
 * (checked on Content-Length first, then while reading), 415 for another
 * content type, 400 for an empty body or malformed JSON (with the parser's
 * message).
 */
export async function readJSONBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<unknown> {
  const type = req.headers['content-type'];
  if (type !== undefined && !/^application\/(?:[\w.+-]*\+)?json\b/i.test(type)) {
    throw new HttpError(415, `content type ${type} is not supported; send application/json`);
  }
  const declared = Number(req.headers['content-length'] ?? NaN);
  if (declared > limit) {
    req.resume();
    throw new HttpError(413, `body of ${declared} bytes is over the limit of ${limit} bytes`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) {
      req.resume();
      throw new HttpError(413, `body is over the limit of ${limit} bytes`);
    }
    chunks.push(chunk);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') throw new HttpError(400, 'the body is empty; send a JSON object');
  try {
    return JSON.parse(text) as unknown;
  } catch (err) {
    throw new HttpError(400, `malformed JSON body: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Sends `body` as JSON with `status`. */
export function sendJSON(res: ServerResponse, status: number, body: unknown, headers: Readonly<Record<string, string>> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** Sends an HttpError (or a 500 for anything else) as the contract's error JSON. */
export function sendError(res: ServerResponse, err: unknown): number {
  const e = err instanceof HttpError ? err : new HttpError(500, `internal error: ${err instanceof Error ? err.message : String(err)}`);
  if (res.headersSent) {
    res.destroy();
    return e.status;
  }
  sendJSON(res, e.status, e.details === undefined ? { error: e.message } : { error: e.message, details: e.details }, e.headers);
  return e.status;
}

/**
 * Writes one line of newline-delimited JSON, waiting for 'drain' when the
 * client reads slowly. Resolves false when the connection closed.
 */
export function writeLine(res: ServerResponse, value: unknown): Promise<boolean> {
  if (res.destroyed || res.writableEnded) return Promise.resolve(false);
  if (res.write(`${JSON.stringify(value)}\n`)) return Promise.resolve(true);
  return new Promise((resolve) => {
    const onDrain = () => done(true);
    const onClose = () => done(false);
    const done = (v: boolean) => {
      res.off('drain', onDrain);
      res.off('close', onClose);
      resolve(v);
    };
    res.once('drain', onDrain);
    res.once('close', onClose);
  });
}
