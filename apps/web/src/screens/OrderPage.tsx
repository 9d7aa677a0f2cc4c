import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeading } from '../components/PageHeading';
import { StatusBadge } from '../components/StatusBadge';
import { declineCodeOf, declineInWords } from '../errors';
import { formatMoney } from '../money';
import { Link } from '../navigation';
import { AttemptHistory } from '../order/AttemptHistory';
import { PayPanel } from '../order/PayPanel';
import { newerOrder, type PayView, payView, pollDelayMs } from '../order/view';
import { useTRPC } from '../trpc';

/** What the live region says for each view, so a status change is announced without moving focus. */
function announcement(view: PayView): string {
  switch (view.kind) {
    case 'paid':
      return 'Paid.';
    case 'confirming':
      return 'Your payment is being confirmed.';
    case 'closed':
      return 'This order cannot be paid.';
    case 'payable':
      if (view.paying) return 'Paying…';
      return view.declineCode ? `Payment declined: ${declineInWords(view.declineCode)}.` : 'Not paid yet.';
  }
}

export function OrderPage({ orderId }: { orderId: string }) {
  const trpc = useTRPC();
  const queryClient = useQueryClient();
  const getOptions = trpc.orders.get.queryOptions(
    { orderId },
    // Follows an unknown outcome to its end without a reload; stops once the order is settled.
    { refetchInterval: (query) => pollDelayMs(query.state.data?.order) },
  );
  const orderQuery = useQuery(getOptions);

  const pay = useMutation(
    trpc.orders.pay.mutationOptions({
      // Runs for every pay sent from this page, in whatever order the answers arrive.
      onSuccess: (result) => {
        queryClient.setQueryData(getOptions.queryKey, (prev) =>
          prev ? { ...prev, order: newerOrder(prev.order, result.order) } : prev,
        );
      },
      // The attempts (and, after an error, the status) come from the server, never guessed here.
      onSettled: () =>
        Promise.all([
          queryClient.invalidateQueries(trpc.orders.get.queryFilter({ orderId })),
          queryClient.invalidateQueries(trpc.orders.list.queryFilter()),
        ]),
    }),
  );

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
        {announcement(view)}
      </p>
      <PayPanel
        order={order}
        view={view}
        onPay={(paymentMethodId) => pay.mutate({ orderId, ...(paymentMethodId ? { paymentMethodId } : {}) })}
      />
      {view.kind !== 'paid' ? <ErrorMessage error={payError} /> : null}
      {orderQuery.isRefetchError ? <ErrorMessage error={orderQuery.error} /> : null}
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
