import type { RequestAudit } from '@chargeonce/api';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Metrics } from './metrics';

declare module 'fastify' {
  interface FastifyRequest {
    /** Filled in by tRPC procedures (user, order, outcome) for the request's log line. */
    audit: RequestAudit;
  }
}

export interface Readiness {
  ok: boolean;
  reason?: string;
}

export interface ObservabilityOptions {
  metrics?: Metrics | undefined;
  /** false: /metrics is served on a listener of its own (METRICS_PORT), not here. */
  serveMetrics?: boolean;
  /** Database reachable and migrated? Answered by GET /readyz. */
  readiness?: (() => Promise<Readiness>) | undefined;
  /** True once shutdown began: /readyz answers 503 from then on, before the listener closes. */
  draining?: () => boolean;
}

/**
 * The procedure(s) a request ran (recorded by the tRPC middleware, see packages/api trpc.ts), or its
 * route, for logs and metric labels. Bounded: a request that ran no procedure (an unknown path, a
 * body that does not parse) is `unknown`, so a scanner cannot blow up label cardinality.
 */
export function procedureOf(req: FastifyRequest, reply: FastifyReply): string {
  if (req.audit.procedures?.length) return req.audit.procedures.join(',');
  const route = reply.routeOptions.url;
  return route && !route.startsWith('/trpc') ? route : 'unknown';
}

/** One log line per request, HTTP metrics, /healthz, /readyz and /metrics. */
export function registerObservability(app: FastifyInstance, options: ObservabilityOptions): void {
  app.decorateRequest('audit', null as unknown as RequestAudit);
  app.addHook('onRequest', async (req) => {
    req.audit = {};
  });
  app.addHook('onResponse', async (req, reply) => {
    const procedure = procedureOf(req, reply);
    options.metrics?.observeHttp(procedure, reply.statusCode, reply.elapsedTime / 1000);
    const { procedures: _, ...facts } = req.audit;
    req.log.info(
      {
        method: req.method,
        procedure,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
        ...facts,
      },
      'request',
    );
  });

  // Liveness: the process answers. Never touches the database.
  app.get('/healthz', async () => ({ ok: true }));

  // Readiness: not shutting down, and the database is reachable and fully migrated; 503 with the
  // reason otherwise.
  app.get('/readyz', async (_req, reply) => {
    const state: Readiness = options.draining?.()
      ? { ok: false, reason: 'shutting down' }
      : options.readiness
        ? await options.readiness()
        : { ok: true };
    return reply.code(state.ok ? 200 : 503).send(state);
  });

  if (options.metrics && options.serveMetrics !== false) metricsRoute(app, options.metrics);
}

/** `GET /metrics` in Prometheus text format. */
export function metricsRoute(app: FastifyInstance, metrics: Metrics): void {
  app.get('/metrics', async (_req, reply) =>
    reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
  );
}
