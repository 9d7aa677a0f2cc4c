import type { FastifyInstance, FastifyRequest } from 'fastify';

export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 20;
const WINDOW_MS = 60_000;
/** Sources tracked at once; past it the oldest window is dropped (memory stays bounded). */
const MAX_SOURCES = 10_000;

/**
 * Failed authentication is rate-limited per source address: after `maxFailures` 401s from one
 * address within a minute, its requests are answered 429 at once, before any token lookup, until
 * the minute is over. Successful requests do not count (a busy service is never throttled here).
 * In memory per instance: a fleet of N instances allows N times as many guesses.
 *
 * (Not `@fastify/rate-limit`: it counts every request; what is limited here is failures only.)
 */
export function limitFailedAuthentication(app: FastifyInstance, options: { maxFailures: number }): void {
  const failures = new Map<string, { count: number; until: number }>();
  const source = (req: FastifyRequest) => req.socket.remoteAddress ?? 'unknown';
  app.addHook('onRequest', async (req, reply) => {
    const entry = failures.get(source(req));
    if (!entry) return;
    if (entry.until <= Date.now()) {
      failures.delete(source(req));
      return;
    }
    if (entry.count >= options.maxFailures) {
      return reply
        .code(429)
        .header('retry-after', String(Math.ceil((entry.until - Date.now()) / 1000)))
        .send({ error: { message: 'Too many failed authentications from this address; try again later.' } });
    }
  });
  app.addHook('onResponse', async (req, reply) => {
    if (reply.statusCode !== 401) return;
    const key = source(req);
    const entry = failures.get(key);
    if (entry && entry.until > Date.now()) {
      entry.count++;
      return;
    }
    if (failures.size >= MAX_SOURCES) failures.delete(failures.keys().next().value as string);
    failures.set(key, { count: 1, until: Date.now() + WINDOW_MS });
  });
}
