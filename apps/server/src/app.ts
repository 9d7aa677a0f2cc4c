import { type ApiDeps, type AppRouter, appRouter, createContextInner } from '@chargeonce/api';
import {
  type CreateFastifyContextOptions,
  type FastifyTRPCPluginOptions,
  fastifyTRPCPlugin,
} from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyInstance, type FastifyReply, LogController } from 'fastify';
import { DEFAULT_AUTH_FAILURES_PER_MINUTE, limitFailedAuthentication } from './auth-limit';
import { Drain } from './drain';
import { registerRequestContext, requestIdOf } from './log-context';
import { type ObservabilityOptions, registerObservability } from './observability';
import { registerSessions, requestToken, type SessionOptions } from './session';
import { type WebOptions, webPlugin } from './web';
import { type WebhookOptions, webhookRoutes } from './webhooks';

export interface BuildServerOptions extends ObservabilityOptions {
  logLevel?: string;
  /** A pino destination/stream for tests; default stdout. */
  logStream?: NodeJS.WritableStream;
  /** The built web client and the demo token (see web.ts); default: neither. */
  web?: WebOptions;
  /** Serve `POST /webhooks/stripe` (see webhooks.ts); default: not served. */
  webhooks?: WebhookOptions | undefined;
  /** Refused credentials per source per minute before it is answered 429 (see auth-limit.ts). */
  authFailuresPerMinute?: number;
  /** fastify's trustProxy (TRUST_PROXY): whose X-Forwarded-For/-Proto name the client. */
  trustProxy?: boolean | string[];
  /** The web client's session cookie (see session.ts); default: 12 h sessions. */
  session?: SessionOptions;
  /** Shutdown's first phase (see drain.ts); default: one of its own. */
  drain?: Drain;
}

/** Calls in one batched request; more is refused (400) without running any. */
export const MAX_BATCH_SIZE = 20;

const TRPC_PREFIX = '/trpc';

/** A header's value; sent twice, its values joined as HTTP does (`a, b`: still one stable key). */
const singleHeader = (value: string | string[] | undefined) =>
  Array.isArray(value) ? value.join(', ') : value;

/**
 * The HTTP adapter: tRPC at /trpc, health, readiness and metrics. Thin on purpose: procedures live in
 * `@chargeonce/api`, payment logic in `@chargeonce/payments`.
 */
export async function buildServer(deps: ApiDeps, options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      redact: {
        paths: ['req.headers.authorization', 'headers.authorization', 'req.headers.cookie', 'headers.cookie'],
        censor: '[redacted]',
      },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    // One line per request is written by the onResponse hook below instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Not fastify's requestIdHeader, which takes any value verbatim: a caller's id is kept only if it
    // is short and plain (it goes into every log line); else a new one. Echoed by log-context.ts.
    requestIdHeader: false,
    genReqId: requestIdOf,
    trustProxy: options.trustProxy ?? false,
    bodyLimit: 1024 * 1024,
    // A URL the router refuses outright (a path past maxParamLength, a malformed one): a fixed
    // answer; fastify's own would quote the whole URL back.
    frameworkErrors: (error, req, reply: FastifyReply) => {
      reply.header('x-request-id', req.id);
      const status =
        error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 400;
      reply.code(status).send({ error: { message: status === 414 ? 'URL too long.' : 'Bad request.' } });
    },
    // Close idle keep-alive sockets at shutdown; in-flight requests are drained.
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 5000 },
  });

  registerRequestContext(app);
  const drain = options.drain ?? new Drain();
  drain.register(app);
  registerObservability(app, { ...options, draining: () => drain.draining });
  // No route: a fixed answer, never the URL the caller sent (fastify's default quotes it).
  app.setNotFoundHandler((_req, reply) => reply.code(404).send({ error: { message: 'Not found.' } }));
  const authFailures = limitFailedAuthentication(app, {
    maxFailures: options.authFailuresPerMinute ?? DEFAULT_AUTH_FAILURES_PER_MINUTE,
  });
  // Before tRPC: its CSRF check runs ahead of every procedure.
  await registerSessions(app, {
    db: deps.db,
    auth: deps.auth,
    apiPrefix: TRPC_PREFIX,
    authFailures,
    ...options.session,
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: TRPC_PREFIX,
    trpcOptions: {
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      createContext: ({ req, info }: CreateFastifyContextOptions) =>
        createContextInner({
          deps,
          // The Authorization header, else the web client's session cookie.
          token: requestToken(req),
          logger: req.log,
          audit: req.audit,
          onAuthFailure: () => authFailures.fail(req),
          idempotencyKey: singleHeader(req.headers['idempotency-key']),
          calls: info.calls.length,
        }),
      // A replayed answer says so (Stripe's header); IN_USE says when to try again. Headers are the
      // whole response's, so only a request of one call gets them (a batch's calls share them).
      responseMeta({ ctx }) {
        const headers: Record<string, string> = {};
        if (ctx?.calls !== 1) return { headers };
        if (ctx.audit.idempotency === 'replayed') headers['idempotent-replayed'] = 'true';
        if (ctx?.audit.retryAfterMs)
          headers['retry-after'] = String(Math.ceil(ctx.audit.retryAfterMs / 1000));
        return { headers };
      },
      onError({ error, path, req }) {
        // Only unexpected errors are errors; domain and validation errors are answers.
        if (error.code === 'INTERNAL_SERVER_ERROR')
          req.log.error({ err: error.cause ?? error, path }, 'procedure failed');
      },
    } satisfies FastifyTRPCPluginOptions<AppRouter>['trpcOptions'],
  });
  if (options.webhooks) await app.register(webhookRoutes, options.webhooks);
  await app.register(webPlugin, options.web ?? {});
  return app;
}
