import { type FormEvent, useId, useState } from 'react';
import { formatMoney, plainAmount } from '../money';
import {
  chargedAmount,
  checkRefundAmount,
  REFUND_REASONS,
  type RefundReason,
  refundableAmount,
} from './actions';
import type { Order } from './view';

export interface RefundRequest {
  amount: number | undefined;
  reason: RefundReason | undefined;
}

interface Props {
  order: Order;
  refunding: boolean;
  /**
   * The last press got no definite answer: the form is locked (an edit would make another refund
   * while the first may have been made) until pressing again with the same key tells.
   */
  unsure: boolean;
  /** The form now describes another refund: the next press is another action (a new key). */
  onEdit: () => void;
  onRefund: (request: RefundRequest) => void;
}

/**
 * The refund form of a paid order: all that is left by default, or the amount typed (checked here
 * first: integer minor units, more than 0, at most what is left). The button is disabled while a
 * refund is under way; a second press before that (the same key) is answered by the first refund.
 */
export function RefundPanel({ order, refunding, unsure, onEdit, onRefund }: Props) {
  const id = useId();
  const [amount, setAmount] = useState('');
  const [reason, setReason] = useState<RefundReason | ''>('');
  const [amountError, setAmountError] = useState<string | undefined>();
  const left = formatMoney(refundableAmount(order), order.currency);
  const check = checkRefundAmount(amount, order);
  const edited = (change: () => void) => {
    change();
    setAmountError(undefined);
    onEdit();
  };

  const onSubmit = (e: FormEvent) => {
    e.preventDefault();
    if (!check.ok) {
      setAmountError(check.message);
      return;
    }
    setAmountError(undefined);
    // The form keeps what it sent: pressing again (same key, same input) replays this refund's
    // answer; another refund starts with an edit (a new key).
    onRefund({ amount: check.amount, reason: reason || undefined });
  };
  const locked = refunding || unsure;

  const describedBy = [`${id}-amount-hint`, amountError ? `${id}-amount-error` : ''].join(' ').trim();
  return (
    <section className="panel" aria-labelledby="refund-heading">
      <h2 id="refund-heading">Refund</h2>
      <p>
        {left} of the {formatMoney(chargedAmount(order), order.currency)} charged can be refunded, to the card
        it was paid with.
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
          disabled={locked}
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
          disabled={locked}
        >
          <option value="">No reason given</option>
          {Object.entries(REFUND_REASONS).map(([value, words]) => (
            <option key={value} value={value}>
              {words}
            </option>
          ))}
        </select>
        {unsure && !refunding ? (
          <p className="hint" role="status">
            We could not confirm whether this refund was made. Press Refund again to check: it will not refund
            twice.
          </p>
        ) : null}
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
