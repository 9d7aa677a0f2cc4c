import type { AppRouter } from '@chargeonce/api';
import type { inferRouterInputs } from '@trpc/server';
import { formatMoney, parseMoney, plainAmount } from '../money';
import type { Order, OrderStatus, Refund } from './view';

/**
 * What the order page offers besides paying: Cancel while nothing is charged, Refund while some of
 * the charge is left to give back. The web client is always the order's owner, who may do both.
 * Capturing or releasing a hold (`orders.capture`, `orders.void`) is the merchant's, never offered here.
 */
export type OrderAction = 'cancel' | 'refund' | null;

/**
 * As the server's state machine has them: a payment in flight (a 3-D Secure challenge included) can
 * be neither canceled nor refunded, nor can an open hold (authorized, capturing, voiding): the
 * merchant captures or releases it.
 */
const CANCELABLE: readonly OrderStatus[] = ['pending', 'failed'];
const REFUNDABLE: readonly OrderStatus[] = ['paid', 'partially_refunded'];

/** What was taken from the card, in minor units: less than the amount after a partial capture. */
export const chargedAmount = (order: Order) => order.capturedAmount ?? order.amount;

/** What is left to refund, in minor units: refunds reserved or made count as gone. */
export const refundableAmount = (order: Order) => Math.max(0, chargedAmount(order) - order.refundedAmount);

export function offeredAction(order: Order): OrderAction {
  if (CANCELABLE.includes(order.status)) return 'cancel';
  if (REFUNDABLE.includes(order.status) && refundableAmount(order) > 0) return 'refund';
  return null;
}

export type RefundReason = NonNullable<inferRouterInputs<AppRouter>['orders']['refund']['reason']>;

/** Stripe's refund reasons in words; typed by the API's input, so a new reason does not compile unnamed. */
export const REFUND_REASONS: Record<RefundReason, string> = {
  requested_by_customer: 'Requested by the customer',
  duplicate: 'Duplicate payment',
  fraudulent: 'Fraudulent payment',
};

export function reasonInWords(reason: string | null): string {
  if (!reason) return '—';
  return Object.hasOwn(REFUND_REASONS, reason) ? REFUND_REASONS[reason as RefundReason] : reason;
}

/** Why the provider could not refund (Stripe's `failure_reason`, or ours when it was never reached). */
const FAILURES: Record<string, string> = {
  expired_or_canceled_card: 'the card can no longer take the money back',
  lost_or_stolen_card: 'the card was reported lost or stolen',
  provider_unavailable: 'the payment service was unavailable',
};

export function refundFailureInWords(code: string | null): string {
  return code && Object.hasOwn(FAILURES, code) ? FAILURES[code]! : 'the payment provider could not make it';
}

export type RefundAmountCheck = { ok: true; amount: number | undefined } | { ok: false; message: string };

/**
 * The refund form's amount field: empty is a full refund of what is left (no amount sent: the
 * server refunds what is left when it executes); else integer minor units (`parseMoney`, never
 * through floats), more than 0 and at most what is left.
 */
export function checkRefundAmount(text: string, order: Order): RefundAmountCheck {
  if (text.trim() === '') return { ok: true, amount: undefined };
  const left = refundableAmount(order);
  const amount = parseMoney(text, order.currency);
  if (amount === undefined) {
    return {
      ok: false,
      message: `Enter an amount greater than 0, like ${plainAmount(left, order.currency)}, or leave it empty to refund all that is left.`,
    };
  }
  if (amount > left) {
    return { ok: false, message: `At most ${formatMoney(left, order.currency)} is left to refund.` };
  }
  return { ok: true, amount };
}

/** How much of the refunded amount the provider has not confirmed yet (refunds reserved and sent, still pending). */
export function pendingRefundAmount(refunds: readonly Refund[]): number {
  return refunds.filter((r) => r.status === 'pending').reduce((sum, r) => sum + r.amount, 0);
}
