import { pgEnum } from 'drizzle-orm/pg-core';

/**
 * Order lifecycle. The allowed transitions live in `@chargeonce/payments` (order-state.ts);
 * the enum makes PostgreSQL refuse any value outside this set.
 */
export const orderStatus = pgEnum('order_status', [
  'pending',
  'processing',
  'paid',
  'failed',
  'requires_action',
  'canceled',
  'partially_refunded',
  'refunded',
]);

/** One payment attempt per claim: `processing` until the provider's outcome is known. */
export const attemptStatus = pgEnum('attempt_status', [
  'processing',
  'succeeded',
  'failed',
  'requires_action',
]);

export type OrderStatus = (typeof orderStatus.enumValues)[number];
export type AttemptStatus = (typeof attemptStatus.enumValues)[number];
