import { randomUUID } from 'node:crypto';
import type { Database } from '@chargeonce/db';
import { claimOrder, DEFAULT_PAY_POLICY, finalizeAttempt } from '@chargeonce/payments';

/**
 * The database's own ceiling for one payment as seen from Node: the product's claim statement and
 * settle statement (the same prepared statements `payOrder` sends, built by the same code, so they
 * cannot drift apart), with a zero-latency provider stub in between and none of `payOrder`'s
 * decisions, waits or logging.
 */
export function floorPay(db: Database, userId: string): (orderId: string) => Promise<void> {
  return async (orderId) => {
    const { attempt } = await claimOrder(db, {
      orderId,
      userId,
      claimedBy: 'bench-floor',
      declineCooldownMs: DEFAULT_PAY_POLICY.declineCooldownMs,
    });
    if (!attempt) throw new Error(`floor: claim missed ${orderId}`);
    // The zero-latency provider stub: an id, no I/O.
    const paid = await finalizeAttempt(db, {
      orderId,
      attemptId: attempt.id,
      claimVersion: attempt.claimVersion,
      outcome: { status: 'succeeded', paymentIntentId: `pi_floor_${randomUUID()}` },
    });
    if (!paid) throw new Error(`floor: settle missed ${orderId}`);
  };
}
