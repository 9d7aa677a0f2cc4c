import type { AppRouter } from '@chargeonce/api';
import type { inferRouterOutputs } from '@trpc/server';

export type OrderWithAttempts = inferRouterOutputs<AppRouter>['orders']['get'];
export type Order = OrderWithAttempts['order'];
export type Attempt = OrderWithAttempts['attempts'][number];
export type Refund = OrderWithAttempts['refunds'][number];
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

/** Since when the page waits on the provider: a payment in flight, or a refund not confirmed yet. */
function waitingSince(data: OrderWithAttempts): string | undefined {
  if (isInFlight(data.order.status)) return data.order.updatedAt;
  return data.refunds.find((r) => r.status === 'pending')?.createdAt;
}

/**
 * Poll interval while an outcome is unknown: a quarter of how long it has been waited for, between
 * 0.5 s and 8 s, so a quick confirmation shows at once and a stuck one costs little.
 */
export function pollDelayMs(data: OrderWithAttempts | undefined, now = Date.now()): number | false {
  const since = data && waitingSince(data);
  if (!since) return false;
  const age = now - Date.parse(since);
  return Math.min(8_000, Math.max(500, Math.round(age / 4)));
}

/** Keeps the newer of two snapshots of one order: answers to concurrent requests arrive in any order. */
export function newerOrder(a: Order, b: Order): Order {
  return b.version > a.version ? b : a;
}

/**
 * The page's data with a mutation's answer in it: the newer order, and the refund it made if the
 * list lacks it (the re-read that follows every mutation brings the rest).
 */
export function withAnswer(
  data: OrderWithAttempts,
  answer: { order: Order; refund?: Refund },
): OrderWithAttempts {
  const { refund } = answer;
  const known = !refund || data.refunds.some((r) => r.id === refund.id);
  return {
    ...data,
    order: newerOrder(data.order, answer.order),
    refunds: known ? data.refunds : [...data.refunds, refund],
  };
}
