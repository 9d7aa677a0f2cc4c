import type { OrderStatus } from '../order/view';

const LABELS: Record<OrderStatus, string> = {
  pending: 'Not paid',
  processing: 'Confirming',
  requires_action: 'Confirming',
  paid: 'Paid',
  failed: 'Declined',
  canceled: 'Canceled',
  partially_refunded: 'Partly refunded',
  refunded: 'Refunded',
};

/** A status in words (colour is a hint only, never the sole carrier of meaning). */
export function StatusBadge({ status }: { status: OrderStatus }) {
  return <span className={`badge badge-${status}`}>{LABELS[status]}</span>;
}
