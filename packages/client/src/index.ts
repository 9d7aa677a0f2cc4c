import type { AppRouter } from '@chargeonce/api';
import { createTRPCClient, httpBatchLink, httpLink, splitLink, type TRPCClient } from '@trpc/client';
import { idempotencyLink, retryLink } from './links';
import { DEFAULT_RETRY_POLICY, type RetryPolicy } from './retry';

export type { AppRouter, OrderDto, PayOutput } from '@chargeonce/api';
export { TRPCClientError } from '@trpc/client';
export { type IdempotencyReceipt, idempotencyLink, newIdempotencyKey, retryLink } from './links';
export { DEFAULT_RETRY_POLICY, isRetryable, type RetryPolicy, retryDelayMs, TryTimeoutError } from './retry';

export interface ChargeonceClientOptions {
  /** Server base URL, e.g. `http://127.0.0.1:3000` (the `/trpc` path is added). */
  url: string;
  /** Bearer token identifying the calling user or service. */
  token: string;
  /** Custom fetch (tests, instrumentation). */
  fetch?: typeof fetch;
  /** Retries after a call's first try (default 3); 0 turns retrying off. */
  maxRetries?: number;
  /** Each try is abandoned and retried after this long (default 80 000 ms; see RetryPolicy). */
  timeoutMs?: number;
  /** Backoff bounds (defaults 250 ms, then doubling up to 5 000 ms); see `retryDelayMs`. */
  baseDelayMs?: number;
  maxDelayMs?: number;
}

export type ChargeonceClient = TRPCClient<AppRouter>;

/**
 * The typed client for internal services, safe to retry the way stripe-node is: every mutation
 * gets an idempotency key (a new one, or the caller's from `input.idempotencyKey` or
 * `context.idempotency.key`), and a call that got no answer, a 5xx or IDEMPOTENCY_KEY_IN_USE is
 * retried with that same key, with backoff and jitter, so a retried create makes one order and a
 * retried pay charges once. A typed domain error (a decline) is never retried. Mutations go
 * unbatched through `httpLink` (each pay its own request, timeout and log line); queries are
 * batched.
 */
export function createChargeonceClient(options: ChargeonceClientOptions): ChargeonceClient {
  const url = `${options.url.replace(/\/+$/, '')}/trpc`;
  const headers = () => ({ authorization: `Bearer ${options.token}` });
  const common = { url, headers, ...(options.fetch ? { fetch: options.fetch } : {}) };
  const policy: RetryPolicy = {
    maxRetries: options.maxRetries ?? DEFAULT_RETRY_POLICY.maxRetries,
    timeoutMs: options.timeoutMs ?? DEFAULT_RETRY_POLICY.timeoutMs,
    baseDelayMs: options.baseDelayMs ?? DEFAULT_RETRY_POLICY.baseDelayMs,
    maxDelayMs: options.maxDelayMs ?? DEFAULT_RETRY_POLICY.maxDelayMs,
  };
  return createTRPCClient<AppRouter>({
    links: [
      idempotencyLink(),
      retryLink(policy),
      splitLink({
        condition: (op) => op.type === 'mutation',
        true: httpLink(common),
        false: httpBatchLink(common),
      }),
    ],
  });
}
