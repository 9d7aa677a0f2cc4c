import type { AppRouter } from '@chargeonce/api';
import type { inferRouterOutputs } from '@trpc/server';

export type OrderWithAttempts = inferRouterOutputs<AppRouter>['orders']['get'];
export type Order = OrderWithAttempts['order'];
export type Attempt = OrderWithAttempts['attempts'][number];
export type Refund = OrderWithAttempts['refunds'][number];
export type OrderStatus = Order['status'];
export type PayAnswer = inferRouterOutputs<AppRouter>['orders']['pay'];
/** An order holding an authorization: open, being captured, or being released. */
export type HoldPhase = Extract<OrderStatus, 'authorized' | 'capturing' | 'voiding'>;

const PAID: readonly OrderStatus[] = ['paid', 'partially_refunded', 'refunded'];
/** The provider's outcome is not known yet: the page waits, and never offers to pay again. */
const IN_FLIGHT: readonly OrderStatus[] = ['processing', 'requires_action'];
/** The funds are held on the card (manual capture): the merchant captures or releases them, not the customer. */
const AUTHORIZED: readonly HoldPhase[] = ['authorized', 'capturing', 'voiding'];
/** A capture or a release of the hold is under way: its outcome comes soon, by itself. */
const HOLD_CHANGING: readonly OrderStatus[] = ['capturing', 'voiding'];

export const isPaidStatus = (s: OrderStatus) => PAID.includes(s);
export const isInFlight = (s: OrderStatus) => IN_FLIGHT.includes(s);
export const isAuthorizedStatus = (s: OrderStatus): s is HoldPhase =>
  (AUTHORIZED as readonly string[]).includes(s);
/** The status will change by itself before long: worth looking again (a payment, a capture or a release). */
export const awaitsOutcome = (s: OrderStatus) => isInFlight(s) || HOLD_CHANGING.includes(s);

/** What the order page shows. The order's status decides; the local pay request only adds "paying". */
export type PayView =
  | { kind: 'paid'; paymentIntentId: string | null }
  | { kind: 'confirming' }
  /** 3-D Secure: the customer confirms at their bank (`actionUrl`, the challenge page, when known). */
  | { kind: 'challenge'; actionUrl: string | null }
  /** Manual capture: the funds are held; `phase` says whether a capture or a release is under way. */
  | { kind: 'authorized'; phase: HoldPhase; paymentIntentId: string | null }
  | { kind: 'payable'; paying: boolean; declineCode: string | null }
  | { kind: 'closed' };

export function payView(
  data: OrderWithAttempts,
  local: { paying: boolean; declineCode: string | undefined },
): PayView {
  const { order } = data;
  // Paid wins over everything, whichever tab or request got there first; so does an open hold.
  if (isPaidStatus(order.status)) return { kind: 'paid', paymentIntentId: order.paymentIntentId };
  if (isAuthorizedStatus(order.status)) {
    return { kind: 'authorized', phase: order.status, paymentIntentId: order.paymentIntentId };
  }
  // A challenge is open: whichever pay opened it, the next step is the bank's page, never Pay again.
  if (order.status === 'requires_action') return { kind: 'challenge', actionUrl: challengeUrl(data) };
  if (local.paying && (order.status === 'pending' || order.status === 'failed' || isInFlight(order.status)))
    return { kind: 'payable', paying: true, declineCode: null };
  if (isInFlight(order.status)) return { kind: 'confirming' };
  if (order.status === 'pending' || order.status === 'failed') {
    const last = lastAttempt(data);
    const declineCode =
      local.declineCode ??
      (order.status === 'failed' ? (last?.declineCode ?? last?.errorCode ?? 'generic_decline') : null);
    return { kind: 'payable', paying: false, declineCode };
  }
  return { kind: 'closed' };
}

/** The challenge page of the attempt awaiting the customer (so a reload or another tab can resume it). */
export function challengeUrl(data: OrderWithAttempts): string | null {
  const last = lastAttempt(data);
  return last?.status === 'requires_action' ? webPage(last.actionUrl) : null;
}

/** Where a pay's answer sends the browser: the bank's challenge page, or nowhere. */
export function challengeRedirect(answer: PayAnswer): string | null {
  return answer.outcome === 'requires_action' ? webPage(answer.redirectUrl) : null;
}

/** Only an http(s) address is followed or linked to (never `javascript:` or the like). */
function webPage(url: string | null): string | null {
  if (!url || !URL.canParse(url)) return null;
  const { protocol } = new URL(url);
  return protocol === 'https:' || protocol === 'http:' ? url : null;
}

/**
 * Stripe's query on the way back from a challenge (`?payment_intent=...&redirect_status=...`). The
 * page does not trust it: `orders.get` re-reads the PaymentIntent and the order says what happened.
 */
export function isChallengeReturn(search: string): boolean {
  const query = new URLSearchParams(search);
  return query.has('payment_intent') || query.has('redirect_status');
}

export function lastAttempt(data: OrderWithAttempts): Attempt | undefined {
  return data.attempts.reduce<Attempt | undefined>(
    (last, a) => (!last || a.claimVersion > last.claimVersion ? a : last),
    undefined,
  );
}

/**
 * Since when the page waits on the provider: a payment in flight (a 3-D Secure challenge included:
 * each read of it re-reads the PaymentIntent, so an abandoned one shows payable again once recovery
 * cancels it), a capture or release under way, or a refund not confirmed yet. An open hold
 * (`authorized`) is not polled: the merchant may capture it days later.
 */
function waitingSince(data: OrderWithAttempts): string | undefined {
  if (awaitsOutcome(data.order.status)) return data.order.updatedAt;
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
