import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { captureMethod, orderStatus, PAID_STATUSES, statusIn } from '../states';
import { idempotencyKeys } from './idempotency-keys';
import { users } from './users';

export const orders = pgTable(
  'orders',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    userId: uuid('user_id')
      .notNull()
      .references(() => users.id),
    /** Minor units (cents); never a float. */
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    paymentMethodId: text('payment_method_id').notNull(),
    status: orderStatus('status').notNull().default('pending'),
    /** Bumped by every state change; each change is conditional on the version it saw. */
    version: integer('version').notNull().default(1),
    paymentIntentId: text('payment_intent_id'),
    /** `manual`: paying only authorizes; `orders.capture` takes the money later (or `orders.void` releases it). */
    captureMethod: captureMethod('capture_method').notNull().default('automatic'),
    /** When the provider authorized the payment (manual capture), minor units held until then. */
    authorizedAt: timestamp('authorized_at', { withTimezone: true }),
    /**
     * What was taken: the amount for an automatic charge, the captured amount (at most the amount)
     * for a manual one; null until paid. Refunds are bounded by it.
     */
    capturedAmount: integer('captured_amount'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    paidAt: timestamp('paid_at', { withTimezone: true }),
    canceledAt: timestamp('canceled_at', { withTimezone: true }),
    /**
     * Refunds reserved or made (pending + succeeded), minor units. A refund reserves its amount
     * here before the provider is called, so no concurrency refunds more than was charged; a refund
     * that fails gives it back. The status follows it (`refundedStatusFor`).
     */
    refundedAmount: integer('refunded_amount').notNull().default(0),
    /** When the refunded amount last changed. */
    refundedAt: timestamp('refunded_at', { withTimezone: true }),
    /**
     * The caller idempotency key it was created under: a create re-run under the same key (its
     * first request died before its answer was stored) finds this order instead of making another.
     */
    idempotencyKeyId: uuid('idempotency_key_id')
      .unique('orders_idempotency_key_uq')
      .references(() => idempotencyKeys.id, { onDelete: 'set null' }),
  },
  (t) => [
    check('orders_amount_positive', sql`${t.amount} > 0`),
    check('orders_currency_format', sql`${t.currency} ~ '^[a-z]{3}$'`),
    check(
      'orders_refunded_amount_range',
      sql`${t.refundedAmount} >= 0 and ${t.refundedAmount} <= coalesce(${t.capturedAmount}, ${t.amount})`,
    ),
    check(
      'orders_captured_amount_range',
      sql`${t.capturedAmount} is null or (${t.capturedAmount} > 0 and ${t.capturedAmount} <= ${t.amount})`,
    ),
    // A paid order (refunded since or not) names its PaymentIntent.
    check(
      'orders_paid_has_payment_intent',
      sql`not ${statusIn(t.status, PAID_STATUSES)} OR ${t.paymentIntentId} IS NOT NULL`,
    ),
    // Last line of defence: one PaymentIntent can pay at most one order, refunded since or not.
    // (The column is written unqualified, as PostgreSQL prints the index back.)
    uniqueIndex('orders_payment_intent_paid_uq')
      .on(t.paymentIntentId)
      .where(statusIn(sql.raw(t.status.name), PAID_STATUSES)),
    // orders.list: a user's orders, newest first, keyset-paginated on (created_at, id).
    index('orders_user_created_idx').on(t.userId, t.createdAt.desc(), t.id.desc()),
  ],
);
