import { sql } from 'drizzle-orm';
import { index, integer, pgTable, text, timestamp, unique, uniqueIndex, uuid } from 'drizzle-orm/pg-core';
import { attemptStatus, captureMethod, IN_FLIGHT_ATTEMPT_STATUSES, status, statusIn } from '../states';
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
    /** Copied from the order by the claim: what the provider request asks for, on every retry. */
    captureMethod: captureMethod('capture_method').notNull().default('automatic'),
    /**
     * Where the customer's browser returns after a 3-D Secure challenge, fixed by the claim (every
     * retry with the key sends the same request); null: no customer to send anywhere (3-D Secure fails).
     */
    returnUrl: text('return_url'),
    /** The challenge the customer must complete (`next_action.redirect_to_url.url`) while `requires_action`. */
    actionUrl: text('action_url'),
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
    // An open authorization counts: an order holds at most one hold or one charge.
    uniqueIndex('payment_attempts_one_success_per_order_uq')
      .on(t.orderId)
      .where(statusIn(sql.raw(t.status.name), ['succeeded', 'authorized'])),
    // Recovery re-reads open authorizations (did the hold lapse?); metrics count them.
    index('payment_attempts_authorized_idx')
      .on(t.completedAt)
      .where(sql`${t.status} = ${status('authorized')}`),
    // The recovery worker scans attempts left in flight.
    index('payment_attempts_in_flight_idx')
      .on(t.claimedAt)
      .where(statusIn(t.status, IN_FLIGHT_ATTEMPT_STATUSES)),
  ],
);
