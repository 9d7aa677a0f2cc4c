import { useMutation, useQuery } from '@tanstack/react-query';
import { useEffect, useState } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeading } from '../components/PageHeading';
import { StatusBadge } from '../components/StatusBadge';
import { declineCodeOf } from '../errors';
import { formatMoney } from '../money';
import { Link } from '../navigation';
import { AttemptHistory } from '../order/AttemptHistory';
import { usePayAnswers } from '../order/mutations';
import { OrderActions } from '../order/OrderActions';
import { PayPanel } from '../order/PayPanel';
import { RefundHistory } from '../order/RefundHistory';
import { announcement } from '../order/status-text';
import { isChallengeReturn, isPaidStatus, payView, pollDelayMs } from '../order/view';
import { useTRPC } from '../trpc';

export function OrderPage({ orderId }: { orderId: string }) {
  const trpc = useTRPC();
  const orderQuery = useQuery(
    trpc.orders.get.queryOptions(
      { orderId },
      // Follows an unknown outcome (a payment, a refund) to its end without a reload; stops once settled.
      { refetchInterval: (query) => pollDelayMs(query.state.data) },
    ),
  );
  const pay = useMutation(trpc.orders.pay.mutationOptions(usePayAnswers(orderId)));
  const backFromBank = useChallengeReturn();

  const data = orderQuery.data;
  if (!data) {
    return (
      <>
        <PageHeading title="Order">Order</PageHeading>
        {orderQuery.isError ? (
          <ErrorMessage error={orderQuery.error} />
        ) : (
          <p role="status">
            {backFromBank ? 'Back from your bank: checking the payment…' : 'Loading the order…'}
          </p>
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
        {announcement(view, data)}
      </p>
      <PayPanel
        data={data}
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

/**
 * Whether the page was reached on the way back from a 3-D Secure challenge. Stripe's query (which
 * carries the PaymentIntent's client secret) is taken out of the address bar and the history entry;
 * what happened is read from the order, never from the query.
 */
function useChallengeReturn(): boolean {
  const [back] = useState(() => isChallengeReturn(location.search));
  useEffect(() => {
    if (back) history.replaceState(history.state, '', location.pathname + location.hash);
  }, [back]);
  return back;
}
