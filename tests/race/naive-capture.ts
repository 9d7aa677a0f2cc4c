import { randomUUID } from 'node:crypto';
import { type Database, orders } from '@chargeonce/db';
import type { PaymentGateway } from '@chargeonce/payments';
import { eq, sql } from 'drizzle-orm';

/** What a capture or a void answers its caller, as `orders.capture` / `orders.void` do. */
export interface AuthorizationCalls {
  capture(orderId: string): Promise<{ outcome: string }>;
  void(orderId: string): Promise<{ outcome: string }>;
}

/**
 * Capture and void as textbook check-then-act code does them, kept in the race harness (never in
 * the product) so `--op capture-vs-void --naive` can show the race catches it: read the order,
 * check it is authorized, call Stripe, then write the outcome with no conditional guard (no
 * `status in (...)`, no version in the WHERE). Like much retry-safe code it takes Stripe's
 * `payment_intent_unexpected_state` as "already done" so a repeated call succeeds. A capture and a
 * void inside the read-to-write window both pass the check and both reach Stripe; Stripe lets the
 * first through and refuses the other, which counts as done: both callers are told they won, and
 * the order ends as the last write says, whatever the provider did. (Without that habit Stripe's
 * own refusal of the second call keeps the counts clean: the harness sees outcomes, and the only
 * flaw left, a second call reaching the provider, is not one of them.)
 */
export function naiveAuthorizationCalls(db: Database, gateway: PaymentGateway): AuthorizationCalls {
  return {
    capture: (orderId) => naiveTake(db, gateway, 'capture', orderId),
    void: (orderId) => naiveTake(db, gateway, 'void', orderId),
  };
}

async function naiveTake(
  db: Database,
  gateway: PaymentGateway,
  kind: 'capture' | 'void',
  orderId: string,
): Promise<{ outcome: string }> {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!order?.paymentIntentId) throw new Error(`order ${orderId} not found or never paid`);
  if (order.status !== 'authorized') {
    throw new Error(kind === 'capture' ? 'ORDER_NOT_CAPTURABLE' : 'ORDER_NOT_VOIDABLE');
  }
  // A fresh key per call, as code without keys of its own does: it dedupes nothing.
  const request = { paymentIntentId: order.paymentIntentId, idempotencyKey: `naive-${randomUUID()}` };
  const result =
    kind === 'capture'
      ? await gateway.capture({ ...request, amount: null })
      : await gateway.cancel({ ...request, reason: 'requested_by_customer' });
  const done = kind === 'capture' ? 'succeeded' : 'canceled';
  const alreadyDone = result.kind === 'rejected' && result.code === 'payment_intent_unexpected_state';
  if (result.kind !== done && !alreadyDone) throw new Error(`${kind} ${result.kind}`);
  // The blind write: whatever the order's state now, it is what this call did.
  const outcome =
    kind === 'capture'
      ? ({ status: 'paid', capturedAmount: order.amount, paidAt: sql`now()` } as const)
      : ({ status: 'canceled', canceledAt: sql`now()` } as const);
  await db
    .update(orders)
    .set({ ...outcome, version: sql`${orders.version} + 1`, updatedAt: sql`now()` })
    .where(eq(orders.id, orderId));
  return { outcome: kind === 'capture' ? 'captured' : 'voided' };
}
