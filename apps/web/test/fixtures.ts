import { TRPCClientError } from '@trpc/client';
import type { Attempt, Order, OrderWithAttempts, Refund } from '../src/order/view';

type Capture = OrderWithAttempts['captures'][number];

/** An order as `orders.get` answers it: $42.00, pending, unless told otherwise. */
export const order = (over: Partial<Order> = {}): Order => ({
  id: 'o1',
  userId: 'u1',
  amount: 4200,
  currency: 'usd',
  status: 'pending',
  version: 1,
  paymentMethodId: 'pm_card_visa',
  paymentIntentId: null,
  createdAt: '2026-12-01T10:00:00.000Z',
  updatedAt: '2026-12-01T10:00:00.000Z',
  paidAt: null,
  refundedAmount: 0,
  refundedAt: null,
  canceledAt: null,
  captureMethod: 'automatic',
  authorizedAt: null,
  capturedAmount: null,
  ...over,
});

export const attempt = (claimVersion: number, over: Partial<Attempt> = {}): Attempt => ({
  id: `a${claimVersion}`,
  claimVersion,
  status: 'failed',
  paymentMethodId: 'pm_card_chargeDeclined',
  paymentIntentId: null,
  errorCode: 'card_declined',
  declineCode: 'generic_decline',
  actionUrl: null,
  claimedAt: '2026-12-01T10:00:00.000Z',
  completedAt: '2026-12-01T10:00:01.000Z',
  ...over,
});

export const refund = (id: string, over: Partial<Refund> = {}): Refund => ({
  id,
  orderId: 'o1',
  amount: 1000,
  currency: 'usd',
  reason: null,
  status: 'succeeded',
  stripeRefundId: `re_${id}`,
  errorCode: null,
  createdAt: '2026-12-01T11:00:00.000Z',
  completedAt: '2026-12-01T11:00:01.000Z',
  ...over,
});

/** A capture or void of the order's hold, as `orders.get` lists it: a full capture that succeeded, unless told. */
export const capture = (id: string, over: Partial<Capture> = {}): Capture => ({
  id,
  orderId: 'o1',
  kind: 'capture',
  amount: null,
  status: 'succeeded',
  errorCode: null,
  createdAt: '2026-12-01T12:00:00.000Z',
  completedAt: '2026-12-01T12:00:01.000Z',
  ...over,
});

/** The page's data: the order with its attempts, refunds and captures (none unless told). */
export const data = (o: Order, more: Partial<Omit<OrderWithAttempts, 'order'>> = {}): OrderWithAttempts => ({
  order: o,
  attempts: [],
  refunds: [],
  captures: [],
  ...more,
});

/** A tRPC error as the server's error formatter sends it. */
export const answer = (code: string, domainCode: string | null, httpStatus: number) =>
  TRPCClientError.from({ error: { message: 'm', code: -32000, data: { code, domainCode, httpStatus } } });
