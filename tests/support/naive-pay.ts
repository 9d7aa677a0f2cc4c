import { randomUUID } from 'node:crypto';
import { type Database, type Executor, orders, preparedStatement } from '@chargeonce/db';
import type { Order, PaymentGateway } from '@chargeonce/payments';
import { eq, sql } from 'drizzle-orm';

/**
 * The textbook check-then-act payment, kept in the test harness (never in the product) so the
 * concurrency tests and the bench can prove they catch a double charge: two calls inside the
 * read-to-update window both pass the check and both charge.
 */
export async function naivePay(
  db: Database,
  gateway: PaymentGateway,
  orderId: string,
): Promise<'charged' | 'already_paid'> {
  const [order] = await selectOrder(db).execute({ orderId });
  if (!order) throw new Error(`order ${orderId} not found`);
  if (order.status === 'paid') return 'already_paid';
  await markPaid(db, orderId, await chargeBlindly(gateway, order));
  return 'charged';
}

/**
 * Charges an order the way textbook code does: it sends no idempotency key of its own; the gateway
 * needs one, so each call gets a fresh random key, which dedupes nothing.
 */
export async function chargeBlindly(gateway: PaymentGateway, order: Order): Promise<string> {
  const result = await gateway.charge({
    amount: order.amount,
    currency: order.currency,
    paymentMethodId: order.paymentMethodId,
    idempotencyKey: `naive-${randomUUID()}`,
    captureMethod: 'automatic',
    returnUrl: null,
    metadata: { order_id: order.id },
  });
  if (result.kind !== 'succeeded') throw new Error(`charge ${result.kind}`);
  return result.paymentIntentId;
}

/**
 * The baselines' statements are prepared, built once per database handle, as the product's are:
 * so a CPU comparison with the product measures the designs, not drizzle building a query per pay.
 */
const selectOrder = preparedStatement('bench_naive_read', (db) =>
  db
    .select()
    .from(orders)
    .where(eq(orders.id, sql.placeholder('orderId'))),
);
const markPaidStatement = preparedStatement('bench_mark_paid', (db) =>
  db
    .update(orders)
    .set({
      status: 'paid',
      version: sql`${orders.version} + 1`,
      paymentIntentId: sql`${sql.placeholder('paymentIntentId')}`,
      paidAt: sql`now()`,
      updatedAt: sql`now()`,
    })
    .where(eq(orders.id, sql.placeholder('orderId'))),
);

/** The blind write of textbook code: whatever the order's state now, it is paid. */
export async function markPaid(db: Executor, orderId: string, paymentIntentId: string): Promise<void> {
  await markPaidStatement(db).execute({ orderId, paymentIntentId });
}
