import type { AppRouter } from '@chargeonce/api';
import { createTRPCClient, httpBatchLink, httpLink, splitLink, type TRPCClient } from '@trpc/client';

export type { AppRouter, OrderDto, PayOutput } from '@chargeonce/api';
export { TRPCClientError } from '@trpc/client';

export interface ChargeonceClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:3000` (the `/trpc` path is added). */
  url: string;
  /** Bearer token identifying the calling user or service. */
  token: string;
  /** Custom fetch (tests, instrumentation). */
  fetch?: typeof fetch;
}

export type ChargeonceClient = TRPCClient<AppRouter>;

/**
 * The typed client for internal services. Mutations go unbatched through `httpLink` so that each
 * pay is its own HTTP request (its own timeout, retry and log line); queries are batched.
 */
export function createChargeonceClient(options: ChargeonceClientOptions): ChargeonceClient {
  const url = `${options.url.replace(/\/+$/, '')}/trpc`;
  const headers = () => ({ authorization: `Bearer ${options.token}` });
  const common = { url, headers, ...(options.fetch ? { fetch: options.fetch } : {}) };
  return createTRPCClient<AppRouter>({
    links: [
      splitLink({
        condition: (op) => op.type === 'mutation',
        true: httpLink(common),
        false: httpBatchLink(common),
      }),
    ],
  });
}
