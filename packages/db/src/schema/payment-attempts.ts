import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { attemptStatus, IN_FLIGHT_ATTEMPT_STATUSES, status, statusIn } from '../states';
import { orders } from './orders';

/**
 * One row per claim of an order. The Stripe idempotency key is derived from the order id and the
 * claim's version, so every retry of the same claim (by this request, a recovery worker, or another
 * process) reaches Stripe with the same key, and a new claim gets a new key.
 */
export const paymentAttempts = pgTable(
  'payment_attempts',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    orderId: uuid('order_id')
      .notNull()
      .references(() => orders.id),
    claimVersion: integer('claim_version').notNull(),
    idempotencyKey: text('idempotency_key').notNull().unique('payment_attempts_idempotency_key_uq'),
    status: attemptStatus('status').notNull().default('processing'),
    amount: integer('amount').notNull(),
    currency: text('currency').notNull(),
    paymentMethodId: text('payment_method_id').notNull(),
    paymentIntentId: text('payment_intent_id').unique('payment_attempts_payment_intent_uq'),
    errorCode: text('error_code'),
    declineCode: text('decline_code'),
    claimedBy: text('claimed_by').notNull(),
    claimedAt: timestamp('claimed_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
    /**
     * Recovery lease: a worker re-driving this attempt owns it until then. Taken with a conditional
     * UPDATE (and SKIP LOCKED), so many workers on many instances never re-drive one attempt at once.
     */
    leaseUntil: timestamp('lease_until', { withTimezone: true }),
    recoveryRuns: integer('recovery_runs').notNull().default(0),
  },
  (t) => [
    unique('payment_attempts_order_claim_uq').on(t.orderId, t.claimVersion),
    // Last line of defence: at most one successful payment per order, enforced by PostgreSQL.
    // (Column unqualified, as when the index was first made: drizzle-kit sees nothing to rebuild.)
    uniqueIndex('payment_attempts_one_success_per_order_uq')
      .on(t.orderId)
      .where(sql`${sql.raw(t.status.name)} = ${status('succeeded')}`),
    // The recovery worker scans attempts left in flight.
    index('payment_attempts_in_flight_idx')
      .on(t.claimedAt)
      .where(statusIn(t.status, IN_FLIGHT_ATTEMPT_STATUSES)),
  ],
);
