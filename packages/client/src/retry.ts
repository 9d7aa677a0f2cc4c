import { TRPCClientError } from '@trpc/client';

/** How the typed client retries a call (see `createChargeonceClient`). */
export interface RetryPolicy {
  /** Retries after the first try (default 3): at most `maxRetries + 1` requests per call. */
  maxRetries: number;
  /**
   * Each try is abandoned (and retried) after this long (default 80 s, stripe-node's own): longer
   * than the longest pay under the server's defaults (a 10 s pay deadline, then a provider call of
   * up to 60 s), so a slow pay is waited for rather than raced by its own retry.
   */
  timeoutMs: number;
  /** Backoff: the first retry waits up to `baseDelayMs`, each next one twice as long, at most `maxDelayMs`. */
  baseDelayMs: number;
  maxDelayMs: number;
}

export const DEFAULT_RETRY_POLICY: RetryPolicy = {
  maxRetries: 3,
  timeoutMs: 80_000,
  baseDelayMs: 250,
  maxDelayMs: 5_000,
};

/** A try the client abandoned at `timeoutMs`: its outcome is unknown, so it is retried with its key. */
export class TryTimeoutError extends Error {
  override name = 'TryTimeoutError';
  constructor(readonly timeoutMs: number) {
    super(`No answer within ${timeoutMs} ms.`);
  }
}

interface ErrorFacts {
  data?: { domainCode?: string | null; httpStatus?: number; retryAfterMs?: number } | undefined;
  meta?: { response?: { status?: number } } | undefined;
}
const factsOf = (error: unknown): ErrorFacts =>
  error instanceof TRPCClientError ? (error as ErrorFacts) : {};

/**
 * Typed answers that say "not now, ask again with the key": the first try still runs
 * (IDEMPOTENCY_KEY_IN_USE), or the database could not serve (DATABASE_UNAVAILABLE: restarting,
 * failing over). PROVIDER_UNAVAILABLE is not one: our Stripe credentials were refused, and a retry
 * within seconds is refused again.
 */
const RETRYABLE_DOMAIN_CODES: ReadonlySet<string> = new Set([
  'IDEMPOTENCY_KEY_IN_USE',
  'DATABASE_UNAVAILABLE',
]);

/**
 * Whether a failed try is worth another with the same key: no answer (network error, our timeout),
 * a server or proxy error (5xx without a domain code), or a retryable typed answer (above). Never a typed domain error otherwise (a decline stays a decline), never a 4xx, and
 * never a call its caller aborted.
 */
export function isRetryable(error: unknown, callerAborted: boolean): boolean {
  if (callerAborted) return false;
  const { data, meta } = factsOf(error);
  if (data?.domainCode) return RETRYABLE_DOMAIN_CODES.has(data.domainCode);
  const status = data?.httpStatus ?? meta?.response?.status;
  // No status: the request never got an answer (refused, reset, timed out).
  return status === undefined || status >= 500;
}

/**
 * The pause before retry `retry` (1-based): exponential with equal jitter (half fixed, half random,
 * so concurrent callers spread out), and never shorter than the server's own hint (IN_USE's
 * `retryAfterMs`).
 */
export function retryDelayMs(
  policy: RetryPolicy,
  retry: number,
  error: unknown,
  random = Math.random,
): number {
  const ceiling = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  const backoff = ceiling / 2 + (random() * ceiling) / 2;
  return Math.max(backoff, factsOf(error).data?.retryAfterMs ?? 0);
}
