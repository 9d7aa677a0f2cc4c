import type { EmulatedPaymentIntent, EmulatedRefund } from '@chargeonce/stripe-emulator';
import type { AnswerRecord } from './answers';
import type { OrderRow } from './invariants';
import type { RefundRow } from './refund-invariants';

/**
 * Rows, ledger entries and answers for the audits' own tests (tests/integration/chaos.test.ts),
 * consistent with each other unless a test says otherwise.
 */
export const order = (id: string, over: Partial<OrderRow> = {}): OrderRow => ({
  id,
  status: 'paid',
  payment_intent_id: `pi_${id}`,
  amount: 1000,
  currency: 'usd',
  refunded_amount: 0,
  ...over,
});

export const intent = (
  orderId: string,
  status = 'succeeded',
  over: Partial<EmulatedPaymentIntent> = {},
): EmulatedPaymentIntent => ({
  id: `pi_${orderId}`,
  amount: 1000,
  currency: 'usd',
  status,
  capture_method: 'automatic',
  amount_capturable: 0,
  amount_received: status === 'succeeded' ? 1000 : 0,
  cancellation_reason: null,
  payment_method: 'pm_card_visa',
  metadata: { order_id: orderId },
  created: 0,
  idempotency_key: `key-${orderId}`,
  last_payment_error: null,
  ...over,
});

/** A succeeded refund at the provider, of refund row `refundId`. */
export const atProvider = (
  id: string,
  orderId: string,
  amount: number,
  refundId: string,
): EmulatedRefund => ({
  id,
  amount,
  currency: 'usd',
  status: 'succeeded',
  payment_intent: `pi_${orderId}`,
  charge: `ch_${orderId}`,
  reason: null,
  failure_reason: null,
  metadata: { order_id: orderId, refund_id: refundId },
  created: 0,
  idempotency_key: `chargeonce-refund-${refundId}`,
});

/** A succeeded refund row, made under caller key `k-<id>`. */
export const refundRow = (
  id: string,
  orderId: string,
  amount: number,
  over: Partial<RefundRow> = {},
): RefundRow => ({
  id,
  order_id: orderId,
  amount,
  status: 'succeeded',
  stripe_refund_id: `re_${id}`,
  key: `k-${id}`,
  ...over,
});

/** A pay answered 200. */
export const answer = (over: Partial<AnswerRecord> = {}): AnswerRecord => ({
  procedure: 'orders.pay',
  caller: 'k1',
  status: 200,
  code: undefined,
  domainCode: undefined,
  retryAfterMs: undefined,
  retryAfter: null,
  calls: 1,
  ...over,
});

/** A retryable typed 503: the database could not serve, with its retry hint (data and header). */
export const databaseUnavailable = answer({
  status: 503,
  code: 'SERVICE_UNAVAILABLE',
  domainCode: 'DATABASE_UNAVAILABLE',
  retryAfterMs: 1000,
  retryAfter: '1',
});
