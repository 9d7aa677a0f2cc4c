import { type Executor, findUser, orders, paymentAttempts } from '@chargeonce/db';
import { and, asc, desc, eq, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import { DomainError } from './errors';

export type Order = typeof orders.$inferSelect;
export type PaymentAttempt = typeof paymentAttempts.$inferSelect;

/**
 * A new pending order for an existing user (USER_NOT_FOUND otherwise: a service named no one).
 * Under a caller idempotency key (`idempotencyKeyId`) it is made at most once: a create re-run
 * under the same key (its first request died before its answer was stored) gets the order the
 * first one made.
 */
export async function createOrder(
  db: Executor,
  params: {
    userId: string;
    amount: number;
    currency: string;
    paymentMethodId: string;
    /** `manual`: paying only authorizes (capture later). Default `automatic`. */
    captureMethod?: 'automatic' | 'manual' | undefined;
    idempotencyKeyId?: string | undefined;
  },
): Promise<Order> {
  if (!(await findUser(db, params.userId)))
    throw new DomainError({ code: 'USER_NOT_FOUND', userId: params.userId });
  const [order] = await db
    .insert(orders)
    .values({
      userId: params.userId,
      amount: params.amount,
      currency: params.currency,
      paymentMethodId: params.paymentMethodId,
      captureMethod: params.captureMethod ?? 'automatic',
      idempotencyKeyId: params.idempotencyKeyId ?? null,
    })
    .onConflictDoNothing({ target: orders.idempotencyKeyId })
    .returning();
  if (order) return order;
  const keyId = params.idempotencyKeyId;
  const [made] = keyId ? await db.select().from(orders).where(eq(orders.idempotencyKeyId, keyId)) : [];
  if (!made) throw new Error('order insert returned no row');
  return made;
}

/** An order by id, whoever owns it (internal use: authorization happens before). */
export async function findOrder(db: Executor, orderId: string): Promise<Order | undefined> {
  const [order] = await db.select().from(orders).where(eq(orders.id, orderId));
  return order;
}

/**
 * The order with its attempts (oldest first). Someone else's order is not found; `userId: null`
 * reads any owner's (a service acting on an order by its id).
 */
export async function getOrder(
  db: Executor,
  params: { orderId: string; userId: string | null },
): Promise<{ order: Order; attempts: PaymentAttempt[] }> {
  const owned = params.userId === null ? undefined : eq(orders.userId, params.userId);
  const [order] = await db
    .select()
    .from(orders)
    .where(and(eq(orders.id, params.orderId), owned));
  if (!order) throw new DomainError({ code: 'ORDER_NOT_FOUND', orderId: params.orderId });
  const attempts = await db
    .select()
    .from(paymentAttempts)
    .where(eq(paymentAttempts.orderId, order.id))
    .orderBy(asc(paymentAttempts.claimVersion));
  return { order, attempts };
}

/**
 * A user's orders, newest first, keyset-paginated. The cursor is the id of the last order of the
 * previous page; the comparison reads that row's exact `created_at` in SQL (no precision lost in a
 * JS Date round trip).
 */
export async function listOrders(
  db: Executor,
  params: { userId: string; limit: number; cursor?: string | undefined },
): Promise<{ items: Order[]; nextCursor: string | null }> {
  const c = alias(orders, 'cursor_order');
  const cursorRow = (cursor: string) =>
    db
      .select({ createdAt: c.createdAt, id: c.id })
      .from(c)
      .where(and(eq(c.id, cursor), eq(c.userId, params.userId)));
  const after = params.cursor
    ? sql`(${orders.createdAt}, ${orders.id}) < (${cursorRow(params.cursor)})`
    : undefined;
  const rows = await db
    .select()
    .from(orders)
    .where(and(eq(orders.userId, params.userId), after))
    .orderBy(desc(orders.createdAt), desc(orders.id))
    .limit(params.limit + 1);
  const items = rows.slice(0, params.limit);
  const last = items[items.length - 1];
  return { items, nextCursor: rows.length > params.limit && last ? last.id : null };
}
