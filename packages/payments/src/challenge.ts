import { type Executor, paymentAttempts, status } from '@chargeonce/db';
import { and, desc, eq, sql } from 'drizzle-orm';
import type { PaymentsDeps } from './deps';
import { attemptOutcome } from './outcome';
import { finalizeAttempt } from './settle';

/** The order's attempt awaiting the customer (a 3-D Secure challenge), if one is open. */
async function challengedAttempt(db: Executor, orderId: string) {
  const a = paymentAttempts;
  const [attempt] = await db
    .select()
    .from(a)
    .where(and(eq(a.orderId, orderId), sql`${a.status} = ${status('requires_action')}`))
    .orderBy(desc(a.claimVersion))
    .limit(1);
  return attempt;
}

/** The challenge page of the order's attempt awaiting the customer, if one is open. */
export async function currentChallenge(db: Executor, orderId: string): Promise<string | null> {
  return (await challengedAttempt(db, orderId))?.actionUrl ?? null;
}

/**
 * The customer is back from a challenge (or someone looks at the order): re-read the PaymentIntent of
 * the order's attempt awaiting the customer and settle what the provider says, with the same
 * conditional statement as the webhook and recovery, so whichever comes first settles it once. A
 * read that fails changes nothing.
 */
export async function refreshChallenge(
  deps: PaymentsDeps,
  orderId: string,
  options: { minIntervalMs?: number } = {},
): Promise<boolean> {
  const attempt = await challengedAttempt(deps.db, orderId);
  if (!attempt?.paymentIntentId) return false;
  // A page polling the order (or a caller looping) reaches Stripe at most once per interval per
  // order from this process: the account's read rate limit is shared with every payment.
  if (!takeRefreshTurn(deps, orderId, options.minIntervalMs ?? REFRESH_INTERVAL_MS)) return false;
  const outcome = attemptOutcome(await deps.gateway.retrieve(attempt.paymentIntentId), {
    keyMayHaveExecuted: true,
  });
  if (!outcome || outcome.status === 'requires_action') return false;
  const settled = await finalizeAttempt(deps.db, {
    orderId,
    attemptId: attempt.id,
    claimVersion: attempt.claimVersion,
    outcome,
  });
  return settled !== undefined;
}

/** How often one process re-reads one order's open challenge at most. */
export const REFRESH_INTERVAL_MS = 2_000;
const lastRefresh = new WeakMap<PaymentsDeps, Map<string, number>>();

/** How many orders one process remembers a re-read of before it forgets those past their interval. */
export const REFRESH_MEMORY = 10_000;

/**
 * Whether this process may re-read the order's challenge now (and notes that it did). Exported for
 * its test, with `rememberedRefreshes`: memory stays bounded however many orders are polled.
 */
export function takeRefreshTurn(deps: PaymentsDeps, orderId: string, minIntervalMs: number): boolean {
  const now = (deps.now ?? Date.now)();
  const seen = lastRefresh.get(deps) ?? new Map<string, number>();
  lastRefresh.set(deps, seen);
  const last = seen.get(orderId);
  if (last !== undefined && now - last < minIntervalMs) return false;
  if (seen.size >= REFRESH_MEMORY) {
    for (const [id, at] of seen) if (now - at >= minIntervalMs) seen.delete(id);
  }
  seen.set(orderId, now);
  return true;
}

export const rememberedRefreshes = (deps: PaymentsDeps): number => lastRefresh.get(deps)?.size ?? 0;
