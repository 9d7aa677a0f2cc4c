export interface BackoffPolicy {
  /** Delay cap for the first retry, in ms. */
  baseMs: number;
  /** Upper bound of any single delay, in ms. */
  maxMs: number;
}

/**
 * "Full jitter" exponential backoff: a uniformly random delay in [0, min(max, base * 2^n)).
 * Spreads a storm of waiting callers out instead of having them all wake together.
 */
export function fullJitterDelay(
  policy: BackoffPolicy,
  retry: number,
  random: () => number = Math.random,
): number {
  const cap = Math.min(policy.maxMs, policy.baseMs * 2 ** Math.min(retry, 30));
  return Math.floor(random() * cap);
}
