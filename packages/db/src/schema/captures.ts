import { sql } from 'drizzle-orm';
import { check, index, integer, pgTable, text, timestamp, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { captureKind, captureStatus, status, statusIn } from '../states';
import { orders } from './orders';
import { paymentAttempts } from './payment-attempts';
import { principalKind } from './users';

/**
 * One row per capture or void of an authorization. The statement that inserts it moves the order
 * `authorized -> capturing | voiding`, so of a capture and a void racing, one inserts and the
 * other finds the order taken. The Stripe idempotency key is derived from this row's id: every
 * retry (the requester, recovery, another process) sends the same key. No caller key is linked: a
 * request re-run under one finds the order captured or capturing (one per hold) and answers from it.
 */
export const captures = pgTable(
  'captures',
  {
    id: uuid('id').primaryKey(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    /** The authorized attempt whose hold this captures or releases. */
    attemptId: uuid('attempt_id')
      .notNull()
      .references(() => paymentAttempts.id),
    paymentIntentId: text('payment_intent_id').notNull(),
    kind: captureKind('kind').notNull(),
    /** A capture's requested amount (minor units); null: all of it (and always for a void). */
    amount: integer('amount'),
    status: captureStatus('status').notNull().default('pending'),
    idempotencyKey: text('idempotency_key').notNull().unique('captures_idempotency_key_uq'),
    /** Why it failed: Stripe's error code, `authorization_expired`, `payment_intent_captured`, ... */
    errorCode: text('error_code'),
    requestedByKind: principalKind('requested_by_kind').notNull(),
    requestedById: uuid('requested_by_id').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    updatedAt: timestamp('updated_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    /** Recovery lease, as on payment attempts. */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    recoveryRuns: integer('recovery_runs').notNull().default(0),
  },
  (t) => [
    check('captures_amount_positive', sql`${t.amount} is null or ${t.amount} > 0`),
    // Last line of defence: one hold is captured or voided at most once (a failed try may be retried).
    uniqueIndex('captures_one_per_authorization_uq')
      .on(t.attemptId)
      .where(statusIn(sql.raw(t.status.name), ['pending', 'succeeded'])),
    index('captures_order_idx').on(t.orderId, t.createdAt),
    // The recovery worker scans captures and voids still pending.
    index('captures_pending_idx')
      .on(t.createdAt)
      .where(sql`${t.status} = ${status('pending')}`),
  ],
);
