import type { FastifyInstance } from 'fastify';

/** A request still being served, as the forced-exit log line names it. */
export interface InFlightRequest {
  reqId: string;
  method: string;
  url: string;
  ageMs: number;
}

/**
 * Shutdown's first phase, before the listener closes: `/readyz` answers 503 (observability.ts) so a
 * load balancer stops sending traffic, and every response carries `Connection: close` so keep-alive
 * clients reconnect elsewhere. Also keeps the requests in flight, for the log line of a shutdown that
 * runs out of time.
 */
export class Drain {
  private started = false;
  // A set, not a map by id: callers choose request ids, and two may send the same one.
  private readonly inFlight = new Set<{ reqId: string; method: string; url: string; since: number }>();

  get draining(): boolean {
    return this.started;
  }

  start(): void {
    this.started = true;
  }

  requests(): InFlightRequest[] {
    const now = Date.now();
    return [...this.inFlight].map((r) => ({
      reqId: r.reqId,
      method: r.method,
      url: r.url.split('?')[0] ?? '',
      ageMs: now - r.since,
    }));
  }

  register(app: FastifyInstance): void {
    app.addHook('onRequest', async (req, reply) => {
      const request = { reqId: req.id, method: req.method, url: req.url, since: Date.now() };
      this.inFlight.add(request);
      // The response's end or its connection's loss, whichever comes first (a client may give up).
      reply.raw.once('close', () => this.inFlight.delete(request));
    });
    app.addHook('onSend', async (_req, reply) => {
      if (this.started) reply.header('connection', 'close');
    });
  }
}
