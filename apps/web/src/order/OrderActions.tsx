import { useMutation } from '@tanstack/react-query';
import { ErrorMessage } from '../components/ErrorMessage';
import { useTRPC } from '../trpc';
import { offeredAction } from './actions';
import { useActionKey, useOrderAnswers } from './mutations';
import { RefundPanel } from './RefundPanel';
import type { Order } from './view';

interface Props {
  order: Order;
  /** A pay from this page is under way: a cancel now would only meet it (PAYMENT_IN_PROGRESS). */
  paying: boolean;
}

/**
 * Cancel (an unpaid order) or Refund (a paid one), whichever the order's status allows, each with
 * its own idempotency key per intended action. Their errors stay shown after the panel goes (the
 * re-read may show why), until the next press.
 */
export function OrderActions({ order, paying }: Props) {
  const trpc = useTRPC();
  const refundKey = useActionKey();
  const cancelKey = useActionKey();
  const refund = useMutation(trpc.orders.refund.mutationOptions(useOrderAnswers(order.id, refundKey)));
  const cancel = useMutation(trpc.orders.cancel.mutationOptions(useOrderAnswers(order.id, cancelKey)));
  const action = offeredAction(order);

  return (
    <>
      {action === 'cancel' ? (
        <section className="panel" aria-labelledby="cancel-heading">
          <h2 id="cancel-heading">Cancel this order</h2>
          <p>Nothing has been charged. Once canceled, the order cannot be paid.</p>
          <button
            type="button"
            data-cancel-button=""
            disabled={cancel.isPending || paying}
            onClick={() => cancel.mutate({ orderId: order.id, idempotencyKey: cancelKey.key })}
          >
            {cancel.isPending ? 'Canceling…' : 'Cancel order'}
          </button>
        </section>
      ) : null}
      {action === 'refund' ? (
        <RefundPanel
          order={order}
          refunding={refund.isPending}
          unsure={refundKey.unsure}
          onEdit={refundKey.renew}
          onRefund={(request) =>
            refund.mutate({ orderId: order.id, ...request, idempotencyKey: refundKey.key })
          }
        />
      ) : null}
      <ErrorMessage error={cancel.error} />
      <ErrorMessage error={refund.error} />
    </>
  );
}
