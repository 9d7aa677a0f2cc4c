import { when } from '../components/HistoryTable';
import { formatMoney } from '../money';
import { CHALLENGE_HEADING, chargedInWords, closedHeading, HOLD_HEADINGS, wasReleased } from './status-text';
import type { HoldPhase, Order, OrderWithAttempts } from './view';

/** The payment intent, as the tests and support staff look it up. */
function IntentId({ id }: { id: string | null }) {
  if (!id) return null;
  return (
    <p>
      Payment intent: <code data-testid="payment-intent-id">{id}</code>
    </p>
  );
}

export function PaidPanel({ order }: { order: Order }) {
  return (
    <section className="panel panel-paid" aria-labelledby="pay-heading">
      <h2 id="pay-heading">Paid</h2>
      <p>
        {chargedInWords(order)}
        {order.paidAt ? ` Paid at ${when(order.paidAt)}.` : ''}
      </p>
      <IntentId id={order.paymentIntentId} />
    </section>
  );
}

export function ConfirmingPanel() {
  return (
    <section className="panel panel-confirming" aria-labelledby="pay-heading">
      <h2 id="pay-heading">Confirming your payment…</h2>
      <p>
        The payment provider has not confirmed the outcome yet. You do not need to pay again: this page
        follows the payment and updates by itself.
      </p>
    </section>
  );
}

/**
 * A 3-D Secure challenge is open. The link resumes it (after a reload, or from another tab): it is
 * the same challenge the pay opened, never a new payment.
 */
export function ChallengePanel({ order, actionUrl }: { order: Order; actionUrl: string | null }) {
  return (
    <section className="panel panel-confirming" aria-labelledby="pay-heading">
      <h2 id="pay-heading">{CHALLENGE_HEADING}</h2>
      <p>
        Your bank asks you to confirm this payment of {formatMoney(order.amount, order.currency)} (3-D
        Secure). Nothing is charged until you do, and you do not need to pay again.
      </p>
      {actionUrl ? (
        <p>
          <a className="button primary" href={actionUrl} data-challenge-link="">
            Continue to your bank
          </a>
        </p>
      ) : null}
      <p className="muted">
        If the payment is not confirmed in time, it is canceled and you can pay again. This page updates by
        itself.
      </p>
    </section>
  );
}

const HOLD_WORDS: Record<HoldPhase, (amount: string) => string> = {
  authorized: (amount) =>
    `${amount} is held on your card. It is charged when the order ships; if it does not ship, the hold is released and nothing is charged. You do not need to pay again.`,
  capturing: (amount) =>
    `The merchant is charging the ${amount} held on your card. This page updates by itself.`,
  voiding: (amount) =>
    `The merchant is releasing the ${amount} held on your card; nothing will be charged. This page updates by itself.`,
};

/** Manual capture: the funds are held on the card until the merchant captures or releases them. */
export function HoldPanel({ order, phase }: { order: Order; phase: HoldPhase }) {
  return (
    <section className="panel panel-confirming" aria-labelledby="pay-heading">
      <h2 id="pay-heading">{HOLD_HEADINGS[phase]}</h2>
      <p>
        {HOLD_WORDS[phase](formatMoney(order.amount, order.currency))}
        {phase === 'authorized' && order.authorizedAt ? ` Authorized at ${when(order.authorizedAt)}.` : ''}
      </p>
      <IntentId id={order.paymentIntentId} />
    </section>
  );
}

export function ClosedPanel({ data }: { data: OrderWithAttempts }) {
  const { order } = data;
  const at = order.canceledAt ? ` at ${when(order.canceledAt)}` : '';
  return (
    <section className="panel" aria-labelledby="pay-heading">
      <h2 id="pay-heading">{closedHeading(data)}</h2>
      {wasReleased(data) ? (
        <p>
          The merchant released the {formatMoney(order.amount, order.currency)} held on your card{at}. Nothing
          was charged, and this order cannot be paid.
        </p>
      ) : order.status === 'canceled' ? (
        <p>This order was canceled{at}. Nothing was charged, and it cannot be paid.</p>
      ) : (
        <p>Its status is {order.status.replace('_', ' ')}.</p>
      )}
    </section>
  );
}
