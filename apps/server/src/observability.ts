import { appRouter, type RequestAudit } from '@chargeonce/api';
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
  /** Database reachable and migrated? Answered by GET /readyz. */
  readiness?: (() => Promise<Readiness>) | undefined;
}

const PROCEDURES = new Set(Object.keys(appRouter._def.procedures));

/**
 * The procedure(s) a request called, for logs and metric labels. Bounded: anything that is not a
 * known procedure or route is `unknown`, so a scanner cannot blow up label cardinality.
 */
export function procedureOf(req: FastifyRequest, reply: FastifyReply): string {
  const path = req.url.split('?')[0] ?? '';
  if (path.startsWith('/trpc/')) {
    const names = decodeURIComponent(path.slice('/trpc/'.length)).split(',');
    return names.every((n) => PROCEDURES.has(n)) ? names.join(',') : 'unknown';
  }
  return reply.routeOptions.url ?? 'unknown';
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
    req.log.info(
      {
        method: req.method,
        procedure,
        statusCode: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime),
        ...req.audit,
      },
      'request',
    );
  });

  // Liveness: the process answers. Never touches the database.
  app.get('/healthz', async () => ({ ok: true }));

  // Readiness: the database is reachable and fully migrated; 503 with the reason otherwise.
  app.get('/readyz', async (_req, reply) => {
    const state = options.readiness ? await options.readiness() : { ok: true };
    return reply.code(state.ok ? 200 : 503).send(state);
  });

  const { metrics } = options;
  if (metrics) {
    app.get('/metrics', async (_req, reply) =>
      reply.header('content-type', metrics.registry.contentType).send(await metrics.registry.metrics()),
    );
  }
}
