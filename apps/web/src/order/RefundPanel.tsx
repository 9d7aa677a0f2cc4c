import { type FormEvent, useId, useState } from 'react';
import { formatMoney, plainAmount } from '../money';
import { checkRefundAmount, REFUND_REASONS, type RefundReason, refundableAmount } from './actions';
import type { Order } from './view';

export interface RefundRequest {
  amount: number | undefined;
  reason: RefundReason | undefined;
}

interface Props {
  order: Order;
  refunding: boolean;
  /** The form now describes another refund: the next press is another action (a new key). */
  onEdit: () => void;
  /** `done` runs once this refund succeeded: the form is cleared for the next one. */
  onRefund: (request: RefundRequest, done: () => void) => void;
}

/**
 * The refund form of a paid order: all that is left by default, or the amount typed (checked here
 * first: integer minor units, more than 0, at most what is left). The button is disabled while a
 * refund is under way; a second press before that (the same key) is answered by the first refund.
 */
export function RefundPanel({ order, refunding, onEdit, onRefund }: Props) {
  const id = useId();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState<RefundReason | ''>('');
  const [amountError, setAmountError] = useState<string | undefined>();
  const left = formatMoney(refundableAmount(order), order.currency);
  const check = checkRefundAmount(amount, order);
  const edited = (change: () => void) => {
    change();
    onEdit();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!check.ok) {
      setAmountError(check.message);
      return;
    }
    setAmountError(undefined);
    onRefund({ amount: check.amount, reason: reason || undefined }, () => {
      setAmount('');
      setReason('');
    });
  };

  const describedBy = [`${id}-amount-hint`, amountError ? `${id}-amount-error` : ''].join(' ').trim();
  return (
    <section className="panel" aria-labelledby="refund-heading">
      <h2 id="refund-heading">Refund</h2>
      <p>
        {left} of the {formatMoney(order.amount, order.currency)} charged can be refunded, to the card it was
        paid with.
      </p>
      <form onSubmit={onSubmit} className="stack" noValidate>
        <label htmlFor={`${id}-amount`}>Amount to refund (optional)</label>
        <input
          id={`${id}-amount`}
          inputMode="decimal"
          autoComplete="off"
          placeholder={plainAmount(refundableAmount(order), order.currency)}
          value={amount}
          onChange={(e) => edited(() => setAmount(e.target.value))}
          aria-invalid={amountError ? true : undefined}
          aria-describedby={describedBy}
        />
        <p id={`${id}-amount-hint`} className="muted hint">
          Leave it empty to refund all that is left ({left}).
        </p>
        {amountError ? (
          <p id={`${id}-amount-error`} role="alert" className="error">
            {amountError}
          </p>
        ) : null}
        <label htmlFor={`${id}-reason`}>Reason (optional)</label>
        <select
          id={`${id}-reason`}
          value={reason}
          onChange={(e) => edited(() => setReason(e.target.value as RefundReason | ''))}
        >
          <option value="">No reason given</option>
          {Object.entries(REFUND_REASONS).map(([value, words]) => (
            <option key={value} value={value}>
              {words}
            </option>
          ))}
        </select>
        <button type="submit" className="primary" data-refund-button="" disabled={refunding}>
          {refunding
            ? 'Refunding…'
            : check.ok
              ? `Refund ${check.amount === undefined ? left : formatMoney(check.amount, order.currency)}`
              : 'Refund'}
        </button>
      </form>
    </section>
  );
}
