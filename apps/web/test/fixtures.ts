import { TRPCClientError } from '@trpc/client';
import type { Attempt, Order, OrderWithAttempts, Refund } from '../src/order/view';

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

/** The page's data: the order with its attempts and refunds (none unless told). */
export const data = (o: Order, more: Partial<Omit<OrderWithAttempts, 'order'>> = {}): OrderWithAttempts => ({
  order: o,
  attempts: [],
  refunds: [],
  ...more,
});

/** A tRPC error as the server's error formatter sends it. */
export const answer = (code: string, domainCode: string | null, httpStatus: number) =>
  TRPCClientError.from({ error: { message: 'm', code: -32000, data: { code, domainCode, httpStatus } } });
