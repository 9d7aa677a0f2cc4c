import { declineInWords, isCardDecline } from '../errors';
import { formatMoney } from '../money';
import { chargedAmount, refundableAmount } from './actions';
import type { Attempt, HoldPhase, Order, OrderStatus, OrderWithAttempts, PayView } from './view';

/** A status in a word or two, for the badge and the orders list. */
export const STATUS_LABELS: Record<OrderStatus, string> = {
  pending: 'Not paid',
  processing: 'Confirming',
  requires_action: 'Awaiting your bank',
  paid: 'Paid',
  failed: 'Declined',
  canceled: 'Canceled',
  partially_refunded: 'Partly refunded',
  refunded: 'Refunded',
  authorized: 'Authorized',
  capturing: 'Capturing',
  voiding: 'Releasing',
};

const ATTEMPT_RESULTS: Record<Attempt['status'], string> = {
  processing: 'Being confirmed',
  requires_action: 'Awaiting your bank',
  succeeded: 'Succeeded',
  failed: 'Declined',
  authorized: 'Authorized (funds held)',
  canceled: 'Released',
};

/** How an attempt ended, in a word or two: a failure that was not the bank declining the card says so. */
export function attemptResult(attempt: Attempt): string {
  if (attempt.status === 'failed' && !isCardDecline(attempt.declineCode ?? attempt.errorCode))
    return 'Failed';
  return ATTEMPT_RESULTS[attempt.status];
}

/** The heading of the pay panel while the funds are held (manual capture). */
export const HOLD_HEADINGS: Record<HoldPhase, string> = {
  authorized: 'Authorized — will be charged when shipped',
  capturing: 'Capturing…',
  voiding: 'Releasing the authorization…',
};

export const CHALLENGE_HEADING = 'Confirm with your bank…';

/** The merchant released the hold (`orders.void`): canceled, with nothing charged. */
export function wasReleased(data: OrderWithAttempts): boolean {
  return (
    data.order.status === 'canceled' &&
    data.captures.some((c) => c.kind === 'void' && c.status === 'succeeded')
  );
}

/** The heading of a closed order's panel: canceled by the customer, released by the merchant, or else. */
export function closedHeading(data: OrderWithAttempts): string {
  if (wasReleased(data)) return 'Authorization released';
  return data.order.status === 'canceled' ? 'Canceled' : 'This order cannot be paid';
}

/**
 * What was charged, in one sentence: the amount, or (after a partial capture) the part of the
 * authorized amount that was taken.
 */
export function chargedInWords(order: Order): string {
  const money = (amount: number) => formatMoney(amount, order.currency);
  const charged = chargedAmount(order);
  if (charged === order.amount) return `${money(charged)} was charged once.`;
  return `${money(charged)} of the ${money(order.amount)} authorized was charged, once; the rest was released.`;
}

/** What the live region says for each view, so a status change is announced without moving focus. */
export function announcement(view: PayView, data: OrderWithAttempts): string {
  const { order } = data;
  switch (view.kind) {
    case 'paid':
      if (order.status === 'refunded') return 'Refunded in full.';
      if (order.status === 'partially_refunded')
        return `Partly refunded: ${formatMoney(refundableAmount(order), order.currency)} is left to refund.`;
      return 'Paid.';
    case 'confirming':
      return 'Your payment is being confirmed.';
    case 'challenge':
      return 'Confirm the payment with your bank.';
    case 'authorized':
      return HOLD_HEADINGS[view.phase];
    case 'closed':
      if (wasReleased(data)) return 'Authorization released. Nothing was charged.';
      return order.status === 'canceled'
        ? 'Canceled. This order cannot be paid.'
        : 'This order cannot be paid.';
    case 'payable':
      if (view.paying) return 'Paying…';
      if (!view.declineCode) return 'Not paid yet.';
      return `${isCardDecline(view.declineCode) ? 'Payment declined' : 'Payment failed'}: ${declineInWords(view.declineCode)}.`;
  }
}
