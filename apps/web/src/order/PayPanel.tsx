import { useState } from 'react';
import { cardLabel } from '../cards';
import { CardPicker } from '../components/CardPicker';
import { declineInWords, isCardDecline } from '../errors';
import { formatMoney } from '../money';
import { ChallengePanel, ClosedPanel, ConfirmingPanel, HoldPanel, PaidPanel } from './PayStates';
import type { OrderWithAttempts, PayView } from './view';

interface Props {
  data: OrderWithAttempts;
  view: PayView;
  onPay: (paymentMethodId: string | undefined) => void;
}

/**
 * The payment part of the order page, one block per view. Pay is offered only while the order is
 * payable: never while a challenge or a hold is open. The Pay button is disabled while a pay is in
 * flight so people see it is happening; it is not what prevents a double charge (the server is:
 * every pay of an order after the first answers with the first one's outcome, a challenge included).
 */
export function PayPanel({ data, view, onPay }: Props) {
  const [card, setCard] = useState('pm_card_visa');
  const { order } = data;
  const amount = formatMoney(order.amount, order.currency);

  switch (view.kind) {
    case 'paid':
      return <PaidPanel order={order} />;
    case 'confirming':
      return <ConfirmingPanel />;
    case 'challenge':
      return <ChallengePanel order={order} actionUrl={view.actionUrl} />;
    case 'authorized':
      return <HoldPanel order={order} phase={view.phase} />;
    case 'closed':
      return <ClosedPanel data={data} />;
    case 'payable':
      break;
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
      {order.captureMethod === 'manual' ? (
        <p className="muted">
          Capture later: paying authorizes {amount} now (the funds are held on the card); it is charged when
          the order ships.
        </p>
      ) : null}
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
