import type { AppRouter } from '@chargeonce/api';
import type { inferRouterOutputs } from '@trpc/server';

export type OrderWithAttempts = inferRouterOutputs<AppRouter>['orders']['get'];
export type Order = OrderWithAttempts['order'];
export type Attempt = OrderWithAttempts['attempts'][number];
export type OrderStatus = Order['status'];

const PAID: readonly OrderStatus[] = ['paid', 'partially_refunded', 'refunded'];
/** The provider's outcome is not known yet: the page waits, and never offers to pay again. */
const IN_FLIGHT: readonly OrderStatus[] = ['processing', 'requires_action'];

export const isPaidStatus = (s: OrderStatus) => PAID.includes(s);
export const isInFlight = (s: OrderStatus) => IN_FLIGHT.includes(s);

/** What the order page shows. The order's status decides; the local pay request only adds "paying". */
export type PayView =
  | { kind: 'paid'; paymentIntentId: string | null }
  | { kind: 'confirming' }
  | { kind: 'payable'; paying: boolean; declineCode: string | null }
  | { kind: 'closed' };

export function payView(
  data: OrderWithAttempts,
  local: { paying: boolean; declineCode: string | undefined },
): PayView {
  const { order } = data;
  // Paid wins over everything, whichever tab or request got there first.
  if (isPaidStatus(order.status)) return { kind: 'paid', paymentIntentId: order.paymentIntentId };
  if (local.paying && (order.status === 'pending' || order.status === 'failed' || isInFlight(order.status)))
    return { kind: 'payable', paying: true, declineCode: null };
  if (isInFlight(order.status)) return { kind: 'confirming' };
  if (order.status === 'pending' || order.status === 'failed') {
    const declineCode =
      local.declineCode ??
      (order.status === 'failed'
        ? (lastAttempt(data)?.declineCode ?? lastAttempt(data)?.errorCode ?? 'generic_decline')
        : null);
    return { kind: 'payable', paying: false, declineCode };
  }
  return { kind: 'closed' };
}

export function lastAttempt(data: OrderWithAttempts): Attempt | undefined {
  return data.attempts.reduce<Attempt | undefined>(
    (last, a) => (!last || a.claimVersion > last.claimVersion ? a : last),
    undefined,
  );
}

/**
 * Poll interval while the outcome is unknown: a quarter of how long the order has been in flight,
 * between 0.5 s and 8 s, so a quick confirmation shows at once and a stuck one costs little.
 */
export function pollDelayMs(order: Order | undefined, now = Date.now()): number | false {
  if (!order || !isInFlight(order.status)) return false;
  const age = now - Date.parse(order.updatedAt);
  return Math.min(8_000, Math.max(500, Math.round(age / 4)));
}

/** Keeps the newer of two snapshots of one order: answers to concurrent requests arrive in any order. */
export function newerOrder(a: Order, b: Order): Order {
  return b.version > a.version ? b : a;
}
