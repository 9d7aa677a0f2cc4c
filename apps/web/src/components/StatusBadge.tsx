import { STATUS_LABELS } from '../order/status-text';
import type { OrderStatus } from '../order/view';

/** A status in words (colour is a hint only, never the sole carrier of meaning). */
export function StatusBadge({ status }: { status: OrderStatus }) {
  return <span className={`badge badge-${status}`}>{STATUS_LABELS[status]}</span>;
}
