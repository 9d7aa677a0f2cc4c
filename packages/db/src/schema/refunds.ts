import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';
import { IN_FLIGHT_REFUND_STATUSES, refundStatus, statusIn } from '../states';
import { idempotencyKeys } from './idempotency-keys';
import { orders } from './orders';
import { principalKind } from './users';

/**
 * One row per refund requested. Its amount is reserved on the order (`orders.refunded_amount`) by
 * the same statement that inserts it, before the provider is called; the Stripe idempotency key is
 * derived from this row's id, so every retry of this refund (the requester, recovery, another
 * process) reaches Stripe with the same key, and a new refund gets a new one.
 */
export const refunds = pgTable(
  'refunds',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    /** The PaymentIntent refunded (the order's). */
    paymentIntentId: text('payment_intent_id').notNull(),
    /** Minor units, as the order's. */
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    /** Stripe's reason (`duplicate`, `fraudulent`, `requested_by_customer`), if one was given. */
    reason: text('reason'),
    status: refundStatus('status').notNull().default('pending'),
    idempotencyKey: text('idempotency_key').notNull().unique('refunds_idempotency_key_uq'),
    stripeRefundId: text('stripe_refund_id').unique('refunds_stripe_refund_id_uq'),
    /** Why it failed: Stripe's failure reason or error code, `abandoned`, `provider_unavailable`. */
    errorCode: text('error_code'),
    requestedByKind: principalKind('requested_by_kind').notNull(),
    /** The user's or the service's id. */
    requestedById: uuid('requested_by_id').notNull(),
    /** The caller idempotency key it was requested under: a re-run under it finds this refund. */
    idempotencyKeyId: uuid('idempotency_key_id')
      .unique('refunds_idempotency_key_id_uq')
      .references(() => idempotencyKeys.id, { onDelete: 'set null' }),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    /** Recovery lease, as on payment attempts. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    recoveryRuns: integer('recovery_runs').notNull().default(0),
  },
  (t) => [
    check('refunds_amount_positive', sql`${t.amount} > 0`),
    index('refunds_order_idx').on(t.orderId, t.createdAt),
    // The recovery worker scans refunds still pending.
    index('refunds_pending_idx').on(t.createdAt).where(statusIn(t.status, IN_FLIGHT_REFUND_STATUSES)),
  ],
);
