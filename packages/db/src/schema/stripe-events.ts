import { pgTable, text, timestamp } from 'drizzle-orm/pg-core';

/**
 * Stripe webhook events already applied. The insert happens in the same transaction as the state
 * change it causes, so an event delivered twice (Stripe delivers at least once) is applied once.
 */
export const stripeEvents = pgTable('stripe_events', {
  id: text('id').primaryKey(),
  type: text('type').notNull(),
  paymentIntentId: text('payment_intent_id'),
  /** What applying it did: finalized, already_final, unknown_payment_intent, ignored. */
  result: text('result').notNull(),
  receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
});
