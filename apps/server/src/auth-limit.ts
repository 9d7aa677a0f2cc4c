import type { FastifyInstance, FastifyRequest } from 'fastify';

export const DEFAULT_AUTH_FAILURES_PER_MINUTE = 20;
const WINDOW_MS = 60_000;
/** Sources tracked at once; past it the oldest window is dropped (memory stays bounded). */
const MAX_SOURCES = 10_000;

export interface AuthFailureLimiter {
  /** A presented credential was refused (unknown, expired, revoked): counts against its source. */
  fail(req: FastifyRequest): void;
}

/**
 * The client a request counts against: its address (the client's, through TRUST_PROXY), an IPv6
 * address by its /64, since anyone holding one holds all of it.
 */
export function sourceOf(req: FastifyRequest): string {
  const ip = req.ip ?? 'unknown';
  if (!ip.includes(':') || ip.startsWith('::ffff:')) return ip;
  const [head] = ip.split('::');
  return `${(head ?? '').split(':').slice(0, 4).join(':')}::/64`;
}

const carriesCredential = (req: FastifyRequest) =>
  req.headers.authorization !== undefined || (req.headers.cookie ?? '').includes('co_session=');

/**
 * Failed authentication is rate-limited per source: after `maxFailures` refused credentials from
 * one source within a minute, its requests that carry a credential are answered 429 at once,
 * before any token lookup, until the minute is over. A failure counts when it happens (each call of
 * a batch separately), not when the response goes out. Requests without a credential (health
 * checks, the web client's sign-in page) are never blocked; successful requests never count.
 * A fresh source's first concurrent burst can exceed the limit by its concurrency: tokens carry
 * 192 random bits, so this protects the database from floods of garbage tokens, not the tokens.
 * In memory per instance: a fleet of N instances allows N times as many.
 *
 * (Not `@fastify/rate-limit`: it counts every request; what is limited here is failures only.)
 */
export function limitFailedAuthentication(
  app: FastifyInstance,
  options: { maxFailures: number },
): AuthFailureLimiter {
  const failures = new Map<string, { count: number; until: number }>();
  const current = (key: string) => {
    const entry = failures.get(key);
    if (entry && entry.until <= Date.now()) failures.delete(key);
    return entry && entry.until > Date.now() ? entry : undefined;
  };
  app.addHook('onRequest', async (req, reply) => {
    if (!carriesCredential(req)) return;
    const entry = current(sourceOf(req));
    if (entry && entry.count >= options.maxFailures) {
      return reply
        .code(429)
        .header('retry-after', String(Math.ceil((entry.until - Date.now()) / 1000)))
        .send({ error: { message: 'Too many failed authentications from this address; try again later.' } });
    }
  });
  return {
    fail(req) {
      const key = sourceOf(req);
      const entry = current(key);
      if (entry) {
        entry.count++;
        return;
      }
      if (failures.size >= MAX_SOURCES) failures.delete(failures.keys().next().value as string);
      failures.set(key, { count: 1, until: Date.now() + WINDOW_MS });
    },
  };
}
