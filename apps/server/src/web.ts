import { existsSync } from 'node:fs';
import { join } from 'node:path';
import fastifyStatic from '@fastify/static';
import type { FastifyInstance, FastifyRequest } from 'fastify';

export interface WebOptions {
  /** The built web client (`apps/web/dist`); unset or without index.html: no web client served. */
  distDir?: string | undefined;
  /** The demo user's token, offered to the sign-in screen; unset: `GET /demo-token` is a 404. */
  demoToken?: string | undefined;
}

/** Paths that belong to the API or operations, never to the single-page app's fallback. */
const NOT_THE_APP = /^\/(trpc|healthz|readyz|metrics|webhooks|demo-token|session)(\/|$)/;

/** True when `dir` holds a built web client. */
export function hasWebBuild(dir: string | undefined): dir is string {
  return dir !== undefined && existsSync(join(dir, 'index.html'));
}

/**
 * Serves the built web client at `/` (hashed assets cached for a year, index.html never cached, any
 * other page path answered with index.html so client-side routes survive a reload), and the demo
 * token when the demo user is enabled.
 */
export async function webPlugin(app: FastifyInstance, options: WebOptions): Promise<void> {
  const { demoToken } = options;
  app.get('/demo-token', async (req, reply) => {
    // The demo token is only a convenience for someone at this machine: even when the server
    // listens on every interface, it is never handed to a remote caller.
    if (!demoToken || !isLocalRequest(req)) return reply.callNotFound();
    reply.header('cache-control', 'no-store');
    return { token: demoToken };
  });

  if (!hasWebBuild(options.distDir)) return;
  await app.register(fastifyStatic, {
    root: options.distDir,
    // Explicit routes for the built files, so the catch-all below only sees unknown paths.
    wildcard: false,
    setHeaders(reply, path) {
      reply.header(
        'cache-control',
        path.includes('/assets/') ? 'public, max-age=31536000, immutable' : 'no-cache',
      );
    },
  });
  app.get('/*', async (req, reply) => {
    const path = req.url.split('?')[0] ?? '/';
    // API paths and missing files (anything with an extension) stay real 404s.
    if (NOT_THE_APP.test(path) || /\.[A-Za-z0-9]+$/.test(path)) return reply.callNotFound();
    reply.header('cache-control', 'no-cache');
    return reply.sendFile('index.html');
  });
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;
const FORWARDING_HEADERS = [
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
  'x-real-ip',
  'via',
];

/**
 * A request from someone at this machine, not relayed: the socket is loopback, the Host it asked
 * for is a loopback name, and no proxy has left its mark. A reverse proxy on the same host also
 * connects from 127.0.0.1, so the socket alone cannot tell; one that forwards the public Host or
 * adds forwarding headers is refused. A fully transparent one (e.g. a bare nginx proxy_pass, which
 * sends Host 127.0.0.1 and no X-Forwarded-For) cannot be told apart by any request: that is why the
 * demo user exists only on a developer's machine (CHARGEONCE_DEMO=auto with nothing configured, or
 * =on without a real Stripe key).
 */
export function isLocalRequest(req: FastifyRequest): boolean {
  const address = req.socket.remoteAddress ?? '';
  const socketIsLoopback =
    address === '::1' || address.startsWith('127.') || address.startsWith('::ffff:127.');
  if (!socketIsLoopback) return false;
  if (FORWARDING_HEADERS.some((h) => req.headers[h] !== undefined)) return false;
  return LOOPBACK_HOST.test(req.headers.host ?? '');
}
