import { type Column, HistoryTable, when } from '../components/HistoryTable';
import { formatMoney } from '../money';
import { chargedAmount, pendingRefundAmount, reasonInWords, refundFailureInWords } from './actions';
import type { Order, Refund } from './view';

const RESULT: Record<Refund['status'], string> = {
  pending: 'Being confirmed',
  succeeded: 'Refunded',
  failed: 'Failed',
};

function detail(refund: Refund) {
  if (refund.status === 'failed') {
    return `${refundFailureInWords(refund.errorCode)}; nothing was refunded`;
  }
  if (refund.status === 'pending') return 'Waiting for the payment provider';
  return refund.stripeRefundId ? <code>{refund.stripeRefundId}</code> : '—';
}

const COLUMNS: readonly Column<Refund>[] = [
  { header: 'Requested', cell: (r) => when(r.createdAt) },
  { header: 'Amount', cell: (r) => formatMoney(r.amount, r.currency) },
  { header: 'Reason', cell: (r) => reasonInWords(r.reason) },
  { header: 'Result', cell: (r) => RESULT[r.status] },
  { header: 'Detail', cell: (r) => detail(r) },
];

/** How much of the order went back, and every refund of it, oldest first. */
export function RefundHistory({ order, refunds }: { order: Order; refunds: readonly Refund[] }) {
  const pending = pendingRefundAmount(refunds);
  const money = (amount: number) => formatMoney(amount, order.currency);
  return (
    <>
      <p>
        Refunded: <strong data-testid="refunded-amount">{money(order.refundedAmount)}</strong> of{' '}
        {money(chargedAmount(order))}
        {pending > 0 ? ` (${money(pending)} of it not confirmed yet)` : ''}.
        {order.refundedAt ? ` Last refunded at ${when(order.refundedAt)}.` : ''}
      </p>
      {refunds.length === 0 ? (
        <p>No refunds yet.</p>
      ) : (
        <HistoryTable className="refunds" caption="Refunds, oldest first" columns={COLUMNS} rows={refunds} />
      )}
    </>
  );
}
