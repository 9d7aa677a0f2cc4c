import { type Stack, startStack } from '../support/stack';
import { onCleanup } from './cleanup';
import { countDuplicates, freshOrders } from './environment';
import { closedLoop } from './load';
import { summarize } from './stats';
import { DISTINCT_CLIENTS } from './workloads';

export const HTTP_INSTANCES = [1, 3] as const;
export type HttpInstances = (typeof HTTP_INSTANCES)[number];

// A type alias, not an interface: aggregate() needs it to be a Record<string, number>.
export type HttpRound = {
  pays_per_s: number;
  p50_ms: number;
  p99_ms: number;
  duplicates: number;
  errors: number;
};

export interface HttpBench {
  /** One cell: 32 clients paying distinct orders through `@chargeonce/client` over HTTP. */
  run(instances: HttpInstances, durationMs: number): Promise<HttpRound>;
  stop(): Promise<void>;
}

/**
 * The product end to end: real server processes (fastify, tRPC, auth, payOrder, the Stripe SDK)
 * on one database and one emulator, provider latency 0. One stack of 3 processes serves both cells:
 * `instances_1` sends every pay to the first server, `instances_3` spreads them round-robin; an idle
 * process costs nothing, and keeping one stack lets the two cells alternate.
 */
export async function startHttpBench(): Promise<HttpBench> {
  let stack: Stack | undefined = await startStack({ instances: 3, emulatorLatencyMs: 0 });
  const unregister = onCleanup('server processes', () => stack?.stop() ?? Promise.resolve());
  const user = await stack.newUser('bench-http');
  return {
    async run(instances, durationMs) {
      if (!stack) throw new Error('http bench stopped');
      stack.emulator.reset();
      const ids = await freshOrders(stack.db.sql, user.id, Math.ceil((durationMs / 1000) * 4_000) + 64);
      let i = 0;
      const load = await closedLoop({
        clients: DISTINCT_CLIENTS,
        durationMs,
        next: (client) => {
          const orderId = ids[i++];
          const api = user.clients[client % instances]!;
          return orderId === undefined ? undefined : () => api.orders.pay.mutate({ orderId });
        },
      });
      if (load.errors > 0)
        console.error(`bench: http: ${load.errors} pay(s) failed; first:`, load.firstError);
      const s = summarize(load.latenciesMs, load.elapsedMs);
      return {
        pays_per_s: s.perSecond,
        p50_ms: s.p50,
        p99_ms: s.p99,
        duplicates: countDuplicates(stack.emulator),
        errors: load.errors,
      };
    },
    async stop() {
      const s = stack;
      stack = undefined;
      unregister();
      await s?.stop();
    },
  };
}
