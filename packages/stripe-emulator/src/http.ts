import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import type { StripeErrorBody } from './errors';

export const MAX_BODY_BYTES = 1024 * 1024;

export class BodyTooLargeError extends Error {}

/** Reads the whole request body as UTF-8, rejecting bodies over `limit` bytes. */
export function readBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      if (done) return;
      size += chunk.length;
      if (size > limit) {
        done = true;
        reject(new BodyTooLargeError(`Request body exceeds ${limit} bytes.`));
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => {
      if (done) return;
      done = true;
      resolve(Buffer.concat(chunks).toString('utf8'));
    });
    req.on('error', (err) => {
      if (done) return;
      done = true;
      reject(err);
    });
    // A client that goes away (or close() destroying the socket) mid-body must not leave this pending.
    req.on('close', () => {
      if (done) return;
      done = true;
      reject(new Error('The client closed the connection before sending the whole body.'));
    });
  });
}

export function serialize(body: unknown): string {
  return `${JSON.stringify(body, null, 2)}\n`;
}

export function errorJson(error: StripeErrorBody): string {
  return serialize({ error });
}

/** Writes a JSON response (body already serialised or a value to serialise). No-op on a destroyed socket. */
export function sendJson(
  res: ServerResponse,
  status: number,
  body: string | object,
  headers: OutgoingHttpHeaders = {},
): void {
  if (res.headersSent || res.destroyed) return;
  const text = typeof body === 'string' ? body : serialize(body);
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'no-cache, no-store',
    ...headers,
  });
  res.end(text);
}

/** Stripe-Should-Retry for a response status: conflicts and server errors may be retried, the rest not. */
export function shouldRetryHeader(status: number): Record<string, string> {
  if (status < 400) return {};
  return { 'Stripe-Should-Retry': status === 409 || status === 429 || status >= 500 ? 'true' : 'false' };
}

export function headerValue(req: IncomingMessage, name: string): string | undefined {
  const value = req.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}
