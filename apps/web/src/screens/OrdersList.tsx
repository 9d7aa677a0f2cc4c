import { keepPreviousData, useQuery } from '@tanstack/react-query';
import { useState } from 'react';
import { ErrorMessage } from '../components/ErrorMessage';
import { PageHeading } from '../components/PageHeading';
import { StatusBadge } from '../components/StatusBadge';
import { formatMoney } from '../money';
import { Link } from '../navigation';
import { awaitsOutcome } from '../order/view';
import { useTRPC } from '../trpc';

const PAGE_SIZE = 10;

/** Newest first, one page at a time (cursor pagination: earlier cursors are kept for "Previous"). */
export function OrdersList() {
  const trpc = useTRPC();
  const [cursors, setCursors] = useState<Array<string | null>>([null]);
  const cursor = cursors[cursors.length - 1] ?? null;
  const list = useQuery(
    trpc.orders.list.queryOptions(
      { limit: PAGE_SIZE, cursor },
      {
        placeholderData: keepPreviousData,
        // Orders still being confirmed (or captured, or released) change by themselves: look again until they settle.
        refetchInterval: (query) =>
          query.state.data?.items.some((o) => awaitsOutcome(o.status)) ? 2_000 : false,
      },
    ),
  );
  const page = cursors.length;

  return (
    <>
      <PageHeading title="Orders">Orders</PageHeading>
      <p>
        <Link to="/orders/new" className="button primary">
          New order
        </Link>
      </p>
      {list.isError ? <ErrorMessage error={list.error} /> : null}
      {list.isPending ? <p role="status">Loading orders…</p> : null}
      {list.data && list.data.items.length === 0 && page === 1 ? (
        <p>No orders yet. Create one to try a payment.</p>
      ) : null}
      {list.data && list.data.items.length > 0 ? (
        <table className="orders" aria-busy={list.isPlaceholderData}>
          <caption>Your orders, newest first (page {page})</caption>
          <thead>
            <tr>
              <th scope="col">Order</th>
              <th scope="col">Amount</th>
              <th scope="col">Status</th>
              <th scope="col">Created</th>
            </tr>
          </thead>
          <tbody>
            {list.data.items.map((order) => (
              <tr key={order.id}>
                <td>
                  <Link to={`/orders/${order.id}`}>
                    <code>{order.id.slice(0, 8)}</code>
                    <span className="sr-only"> (open order)</span>
                  </Link>
                </td>
                <td>{formatMoney(order.amount, order.currency)}</td>
                <td>
                  <StatusBadge status={order.status} />
                </td>
                <td>{new Date(order.createdAt).toLocaleString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ) : null}
      <nav aria-label="Pages" className="pager">
        <button type="button" disabled={page === 1} onClick={() => setCursors((c) => c.slice(0, -1))}>
          Previous page
        </button>
        <button
          type="button"
          disabled={!list.data?.nextCursor || list.isPlaceholderData}
          onClick={() => {
            const next = list.data?.nextCursor;
            if (next) setCursors((c) => [...c, next]);
          }}
        >
          Next page
        </button>
      </nav>
    </>
  );
}
