import { randomUUID } from 'node:crypto';
import type { Database } from '@chargeonce/db';
import { claimOrder, DEFAULT_PAY_POLICY, finalizeAttempt } from '@chargeonce/payments';

/**
 * What one floor pay did: paid; no such order of this user's; the claim matched no row (already
 * paid, or a claim in flight); or the settle matched no row (someone else settled that claim).
 */
export type FloorOutcome = 'paid' | 'not_found' | 'not_claimable' | 'settle_missed';

/**
 * The database's own ceiling for one payment as seen from Node: the product's claim statement and
 * settle statement (the same prepared statements `payOrder` sends, built by the same code, so they
 * cannot drift apart), with a zero-latency provider stub in between and none of `payOrder`'s
 * decisions, waits or logging. A missed claim (order paid, in flight, or not this user's) changes
 * nothing: the conditional UPDATE matched no row.
 */
export async function floorAttempt(db: Database, userId: string, orderId: string): Promise<FloorOutcome> {
  const { order, attempt } = await claimOrder(db, {
    orderId,
    userId,
    claimedBy: 'bench-floor',
    declineCooldownMs: DEFAULT_PAY_POLICY.declineCooldownMs,
  });
  if (!attempt) return order ? 'not_claimable' : 'not_found';
  // The zero-latency provider stub: an id, no I/O.
  const paid = await finalizeAttempt(db, {
    orderId,
    attemptId: attempt.id,
    claimVersion: attempt.claimVersion,
    outcome: { status: 'succeeded', paymentIntentId: `pi_floor_${randomUUID()}` },
  });
  return paid ? 'paid' : 'settle_missed';
}

/** `floorAttempt` for the in-process bench, where every order is fresh: anything but paid is a bug. */
export function floorPay(db: Database, userId: string): (orderId: string) => Promise<void> {
  return async (orderId) => {
    const outcome = await floorAttempt(db, userId, orderId);
    if (outcome !== 'paid') throw new Error(`floor: ${outcome} ${orderId}`);
  };
}
