import { type ApiDeps, type AppRouter, appRouter, bearerToken, createContextInner } from '@chargeonce/api';
import {
  type CreateFastifyContextOptions,
  type FastifyTRPCPluginOptions,
  fastifyTRPCPlugin,
} from '@trpc/server/adapters/fastify';
import Fastify, { type FastifyInstance, LogController } from 'fastify';
import { DEFAULT_AUTH_FAILURES_PER_MINUTE, limitFailedAuthentication } from './auth-limit';
import { type ObservabilityOptions, registerObservability } from './observability';
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
  /** 401s per source address per minute before it is answered 429 (see auth-limit.ts). */
  authFailuresPerMinute?: number;
}

/** Calls in one batched request; more is refused (400) without running any. */
export const MAX_BATCH_SIZE = 20;

/**
 * The HTTP adapter: tRPC at /trpc, health, readiness and metrics. Thin on purpose: procedures live in
 * `@chargeonce/api`, payment logic in `@chargeonce/payments`.
 */
export async function buildServer(deps: ApiDeps, options: BuildServerOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: {
      level: options.logLevel ?? 'info',
      redact: { paths: ['req.headers.authorization', 'headers.authorization'], censor: '[redacted]' },
      ...(options.logStream ? { stream: options.logStream } : {}),
    },
    // One line per request is written by the onResponse hook below instead of fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    requestIdHeader: 'x-request-id',
    bodyLimit: 1024 * 1024,
    // Close idle keep-alive sockets at shutdown; in-flight requests are drained.
    forceCloseConnections: 'idle',
    routerOptions: { maxParamLength: 5000 },
  });

  registerObservability(app, options);
  limitFailedAuthentication(app, {
    maxFailures: options.authFailuresPerMinute ?? DEFAULT_AUTH_FAILURES_PER_MINUTE,
  });

  await app.register(fastifyTRPCPlugin, {
    prefix: '/trpc',
    trpcOptions: {
      router: appRouter,
      maxBatchSize: MAX_BATCH_SIZE,
      createContext: ({ req }: CreateFastifyContextOptions) =>
        createContextInner({
          deps,
          token: bearerToken(req.headers.authorization),
          logger: req.log,
          audit: req.audit,
        }),
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
