import { type Database, orders } from '@chargeonce/db';
import { eq } from 'drizzle-orm';
import type Stripe from 'stripe';

/**
 * The textbook check-then-act payment, kept here (never in the product) so the concurrency harness
 * can prove it catches a double charge: two calls inside the read-to-update window both pass the
 * check and both charge.
 */
export async function naivePay(
  db: Database,
  stripe: Stripe,
  orderId: string,
): Promise<'charged' | 'already_paid'> {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  if (!order) throw new Error('order not found');
  if (order.status === 'paid') return 'already_paid';
  const intent = await stripe.paymentIntents.create({
    amount: order.amount,
    currency: order.currency,
    payment_method: order.paymentMethodId,
    confirm: true,
    metadata: { order_id: order.id },
  });
  await db.update(orders).set({ status: 'paid', paymentIntentId: intent.id }).where(eq(orders.id, orderId));
  return 'charged';
}
