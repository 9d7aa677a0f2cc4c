import { CANCEL, type Executor, isOrderInFlight, orders, status, statusIn } from '@chargeonce/db';
import { and, eq, sql } from 'drizzle-orm';
import { DomainError } from './errors';
import type { Order } from './orders';

export type CancelAnswer =
  | { outcome: 'canceled'; order: Order }
  /** Canceled before (by an earlier request): nothing changed. */
  | { outcome: 'already_canceled'; order: Order };

/**
 * Cancels an order nobody is paying, in ONE conditional statement (`CANCEL`: pending or failed ->
 * canceled, version bumped). A claim takes an order only from the same states, and both statements
 * re-check the committed row under its lock, so a cancel and a pay racing on one order have exactly
 * one winner: a pay that finds the order canceled answers ORDER_NOT_PAYABLE; a cancel that finds a
 * payment in flight answers PAYMENT_IN_PROGRESS and changes nothing; a paid order is refunded, not
 * canceled.
 */
export async function cancelOrder(
  db: Executor,
  params: { orderId: string; userId: string | null },
): Promise<CancelAnswer> {
  const owned = params.userId === null ? undefined : eq(orders.userId, params.userId);
  const theOrder = and(eq(orders.id, params.orderId), owned);
  // A pay's attempt can fail between the two reads and make the order cancelable again: look again.
  for (let tries = 0; tries < 3; tries++) {
    const [canceled] = await db
      .update(orders)
      .set({
        status: status(CANCEL.to),
        version: sql`${orders.version} + 1`,
        canceledAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(and(theOrder, statusIn(orders.status, CANCEL.from)))
      .returning();
    if (canceled) return { outcome: 'canceled', order: canceled };
    const [order] = await db.select().from(orders).where(theOrder);
    if (!order) throw new DomainError({ code: 'ORDER_NOT_FOUND', orderId: params.orderId });
    if (order.status === CANCEL.to) return { outcome: 'already_canceled', order };
    if (isOrderInFlight(order.status))
      throw new DomainError({ code: 'PAYMENT_IN_PROGRESS', orderId: order.id });
    if (!(CANCEL.from as readonly string[]).includes(order.status)) {
      throw new DomainError({ code: 'ORDER_NOT_CANCELABLE', orderId: order.id, status: order.status });
    }
  }
  throw new DomainError({ code: 'PAYMENT_IN_PROGRESS', orderId: params.orderId });
}
