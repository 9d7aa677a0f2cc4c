import { useMutation, useQuery } from '@tanstack/react-query';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeading } from '../components/PageHeading';
import { StatusBadge } from '../components/StatusBadge';
import { declineCodeOf, declineInWords } from '../errors';
import { formatMoney } from '../money';
import { Link } from '../navigation';
import { AttemptHistory } from '../order/AttemptHistory';
import { refundableAmount } from '../order/actions';
import { useOrderAnswers } from '../order/mutations';
import { OrderActions } from '../order/OrderActions';
import { PayPanel } from '../order/PayPanel';
import { RefundHistory } from '../order/RefundHistory';
import { isPaidStatus, type Order, type PayView, payView, pollDelayMs } from '../order/view';
import { useTRPC } from '../trpc';

/** What the live region says for each view, so a status change is announced without moving focus. */
function announcement(view: PayView, order: Order): string {
  switch (view.kind) {
    case 'paid':
      if (order.status === 'refunded') return 'Refunded in full.';
      if (order.status === 'partially_refunded')
        return `Partly refunded: ${formatMoney(refundableAmount(order), order.currency)} is left to refund.`;
      return 'Paid.';
    case 'confirming':
      return 'Your payment is being confirmed.';
    case 'closed':
      return order.status === 'canceled'
        ? 'Canceled. This order cannot be paid.'
        : 'This order cannot be paid.';
    case 'payable':
      if (view.paying) return 'Paying…';
      return view.declineCode ? `Payment declined: ${declineInWords(view.declineCode)}.` : 'Not paid yet.';
  }
}

export function OrderPage({ orderId }: { orderId: string }) {
  const trpc = useTRPC();
  const orderQuery = useQuery(
    trpc.orders.get.queryOptions(
      { orderId },
      // Follows an unknown outcome (a payment, a refund) to its end without a reload; stops once settled.
      { refetchInterval: (query) => pollDelayMs(query.state.data) },
    ),
  );
  const pay = useMutation(trpc.orders.pay.mutationOptions(useOrderAnswers(orderId)));

  const data = orderQuery.data;
  if (!data) {
    return (
      <>
        <PageHeading title="Order">Order</PageHeading>
        {orderQuery.isError ? (
          <ErrorMessage error={orderQuery.error} />
        ) : (
          <p role="status">Loading the order…</p>
        )}
        <p>
          <Link to="/">Back to orders</Link>
        </p>
      </>
    );
  }

  const { order } = data;
  const view = payView(data, { paying: pay.isPending, declineCode: declineCodeOf(pay.error) });
  // A decline is shown by the pay panel; any other failure of the last pay is shown in words here.
  const payError = pay.isError && !declineCodeOf(pay.error) ? pay.error : null;

  return (
    <>
      <PageHeading title={`Order ${formatMoney(order.amount, order.currency)}`}>
        Order {formatMoney(order.amount, order.currency)} <StatusBadge status={order.status} />
      </PageHeading>
      <p className="muted">
        <code>{order.id}</code> · created {new Date(order.createdAt).toLocaleString()}
      </p>
      <p role="status" aria-live="polite" className="sr-only" data-testid="pay-status">
        {announcement(view, order)}
      </p>
      <PayPanel
        order={order}
        view={view}
        onPay={(paymentMethodId) => pay.mutate({ orderId, ...(paymentMethodId ? { paymentMethodId } : {}) })}
      />
      {view.kind !== 'paid' ? <ErrorMessage error={payError} /> : null}
      <OrderActions order={order} paying={pay.isPending} />
      {orderQuery.isRefetchError ? <ErrorMessage error={orderQuery.error} /> : null}
      {isPaidStatus(order.status) || data.refunds.length > 0 ? (
        <section aria-labelledby="refunds-heading">
          <h2 id="refunds-heading">Refunds</h2>
          <RefundHistory order={order} refunds={data.refunds} />
        </section>
      ) : null}
      <section aria-labelledby="attempts-heading">
        <h2 id="attempts-heading">Attempt history</h2>
        <AttemptHistory attempts={data.attempts} />
      </section>
      <p>
        <Link to="/">Back to orders</Link>
      </p>
    </>
  );
}
