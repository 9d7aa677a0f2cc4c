import { useState } from 'react';
import { cardLabel } from '../cards';
import { CardPicker } from '../components/CardPicker';
import { declineInWords, isCardDecline } from '../errors';
import { formatMoney } from '../money';
import type { Order, PayView } from './view';

interface Props {
  order: Order;
  view: PayView;
  onPay: (paymentMethodId: string | undefined) => void;
}

/**
 * The payment part of the order page, one block per view. The Pay button is disabled while a pay
 * is in flight so people see it is happening; it is not what prevents a double charge (the
 * server is: every pay of an order after the first answers with the first one's outcome).
 */
export function PayPanel({ order, view, onPay }: Props) {
  const [card, setCard] = useState('pm_card_visa');
  const amount = formatMoney(order.amount, order.currency);

  if (view.kind === 'paid') {
    return (
      <section className="panel panel-paid" aria-labelledby="pay-heading">
        <h2 id="pay-heading">Paid</h2>
        <p>
          {amount} was charged once.
          {order.paidAt ? ` Paid at ${new Date(order.paidAt).toLocaleString()}.` : ''}
        </p>
        {view.paymentIntentId ? (
          <p>
            Payment intent: <code data-testid="payment-intent-id">{view.paymentIntentId}</code>
          </p>
        ) : null}
      </section>
    );
  }
  if (view.kind === 'confirming') {
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
  if (view.kind === 'closed') {
    return (
      <section className="panel" aria-labelledby="pay-heading">
        {order.status === 'canceled' ? (
          <>
            <h2 id="pay-heading">Canceled</h2>
            <p>
              This order was canceled
              {order.canceledAt ? ` at ${new Date(order.canceledAt).toLocaleString()}` : ''}. Nothing was
              charged, and it cannot be paid.
            </p>
          </>
        ) : (
          <>
            <h2 id="pay-heading">This order cannot be paid</h2>
            <p>Its status is {order.status.replace('_', ' ')}.</p>
          </>
        )}
      </section>
    );
  }

  const declined = view.declineCode !== null;
  // A decline is the bank's answer; other failures (provider down, never sent) are not the card's fault.
  const cardDecline = isCardDecline(view.declineCode);
  return (
    <section className="panel" aria-labelledby="pay-heading">
      <h2 id="pay-heading">
        {view.paying
          ? 'Paying…'
          : declined
            ? cardDecline
              ? 'Payment declined'
              : 'Payment failed'
            : 'Pay this order'}
      </h2>
      {view.paying ? (
        <p>Sending the payment to the provider. It is charged once, however often Pay is pressed.</p>
      ) : declined ? (
        <p className="declined">
          {cardDecline ? 'The payment was declined' : 'The payment did not go through'}:{' '}
          {declineInWords(view.declineCode)}. Nothing was charged. You can pay again, with this or another
          card.
        </p>
      ) : (
        <p>
          Card: {cardLabel(order.paymentMethodId)} <code>{order.paymentMethodId}</code>
        </p>
      )}
      {declined ? (
        <CardPicker legend="Another card" value={card} onChange={setCard} disabled={view.paying} />
      ) : null}
      <button
        type="button"
        className="primary"
        data-pay-button=""
        disabled={view.paying}
        onClick={() => onPay(declined ? card : undefined)}
      >
        {view.paying ? 'Paying…' : declined ? `Pay ${amount} with this card` : `Pay ${amount}`}
      </button>
    </section>
  );
}
