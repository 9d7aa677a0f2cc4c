import { AsyncLocalStorage } from 'node:async_hooks';
import { randomUUID } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import type { Logger } from '@chargeonce/payments';
import type { FastifyInstance } from 'fastify';

/** A logger that makes children (pino's, fastify's `req.log`). */
export interface ChildLogger extends Logger {
  child(bindings: Record<string, unknown>): ChildLogger;
}

/**
 * The logger of the work in progress: the request being served (its `req.log`, carrying `reqId`), a
 * webhook event, a recovery pass. Whatever runs on its behalf (payments use cases, provider calls)
 * logs through it, however deep, without being handed it.
 */
const current = new AsyncLocalStorage<ChildLogger>();

/** Runs `fn` with `logger` as the logger of everything it causes. */
export function withLogger<T>(logger: ChildLogger, fn: () => T): T {
  return current.run(logger, fn);
}

/**
 * A Logger (for `payments.logger`, the Stripe gateway) that writes through the logger of the work in
 * progress, else through `fallback()` (the server's own, before or outside any request), adding
 * `bindings` to every line.
 */
export function contextualLogger(
  fallback: () => ChildLogger | undefined,
  bindings: Record<string, unknown> = {},
): Logger {
  const write =
    (level: 'info' | 'warn' | 'error') =>
    (obj: object, msg?: string): void =>
      (current.getStore() ?? fallback())?.[level]({ ...bindings, ...obj }, msg);
  return { info: write('info'), warn: write('warn'), error: write('error') };
}

/** A caller's `x-request-id` is kept if it is this short and plain (it ends up in every log line). */
const CALLER_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** fastify's `genReqId`: the caller's well-formed `x-request-id`, else a new UUID. */
export function requestIdOf(req: IncomingMessage): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && CALLER_REQUEST_ID.test(given) ? given : randomUUID();
}

/**
 * Echoes the request id (`x-request-id`) and makes `req.log` the logger of the work in progress for
 * the whole request. Entered twice, as @fastify/request-context does: from onRequest (hooks before
 * the body is read), and again from preValidation, because the handler runs from the body's `end`
 * event, outside the context the first hook entered.
 */
export function registerRequestContext(app: FastifyInstance): void {
  app.addHook('onRequest', (req, reply, done) => {
    reply.header('x-request-id', req.id);
    withLogger(req.log, done);
  });
  app.addHook('preValidation', (req, _reply, done) => withLogger(req.log, done));
}
