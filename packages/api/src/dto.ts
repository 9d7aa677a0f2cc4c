import {
  attemptStatus,
  captureKind,
  captureMethod,
  captureStatus,
  orderStatus,
  refundStatus,
} from '@chargeonce/db';
import {
  type Capture,
  MAXIMUM_CHARGE,
  type Order,
  type PaymentAttempt,
  type Refund,
} from '@chargeonce/payments';
import { z } from 'zod';

export const orderIdSchema = z.uuid({ message: 'orderId must be a UUID' });
/** The customer a service acts for (a user token may only name itself). */
export const userIdSchema = z.uuid({ message: 'userId must be a UUID' });
export const paymentMethodIdSchema = z
  .string()
  .regex(/^pm_[A-Za-z0-9_]{1,100}$/, { message: 'paymentMethodId must look like pm_...' });

/** An amount a caller asks to move (a refund, a capture): integer minor units, within Stripe's bounds. */
export const movedAmountSchema = z
  .number()
  .int({ message: 'amount must be an integer number of minor units' })
  .positive({ message: 'amount must be greater than 0' })
  .max(MAXIMUM_CHARGE, { message: `amount must be at most ${MAXIMUM_CHARGE}` });

export const orderDto = z.object({
  id: z.string(),
  /** The customer who owns the order. */
  userId: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  status: z.enum(orderStatus.enumValues),
  version: z.number().int(),
  paymentMethodId: z.string(),
  paymentIntentId: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  paidAt: z.string().nullable(),
  // Fields added after the first release carry a default: an answer stored under an idempotency key
  // by an older build (kept 24 h) is replayed through this schema, and must still pass it.
  /** Refunds reserved or made (pending + succeeded), minor units. */
  refundedAmount: z.number().int().default(0),
  refundedAt: z.string().nullable().default(null),
  canceledAt: z.string().nullable().default(null),
  /** `manual`: paying authorizes; `orders.capture` takes the money (or `orders.void` releases it). */
  captureMethod: z.enum(captureMethod.enumValues).default('automatic'),
  authorizedAt: z.string().nullable().default(null),
  /** What was taken (minor units): the amount, or less after a partial capture; null until paid. */
  capturedAmount: z.number().int().nullable().default(null),
});
export type OrderDto = z.infer<typeof orderDto>;

export const attemptDto = z.object({
  id: z.string(),
  claimVersion: z.number().int(),
  status: z.enum(attemptStatus.enumValues),
  paymentMethodId: z.string(),
  paymentIntentId: z.string().nullable(),
  errorCode: z.string().nullable(),
  declineCode: z.string().nullable(),
  /** The 3-D Secure challenge page while the attempt awaits the customer. */
  actionUrl: z.string().nullable().default(null),
  claimedAt: z.string(),
  completedAt: z.string().nullable(),
});

export function toOrderDto(order: Order): OrderDto {
  return {
    id: order.id,
    userId: order.userId,
    amount: order.amount,
    currency: order.currency,
    status: order.status,
    version: order.version,
    paymentMethodId: order.paymentMethodId,
    paymentIntentId: order.paymentIntentId,
    createdAt: order.createdAt.toISOString(),
    updatedAt: order.updatedAt.toISOString(),
    paidAt: order.paidAt?.toISOString() ?? null,
    refundedAmount: order.refundedAmount,
    refundedAt: order.refundedAt?.toISOString() ?? null,
    canceledAt: order.canceledAt?.toISOString() ?? null,
    captureMethod: order.captureMethod,
    authorizedAt: order.authorizedAt?.toISOString() ?? null,
    capturedAmount: order.capturedAmount,
  };
}

export function toAttemptDto(attempt: PaymentAttempt): z.infer<typeof attemptDto> {
  return {
    id: attempt.id,
    claimVersion: attempt.claimVersion,
    status: attempt.status,
    paymentMethodId: attempt.paymentMethodId,
    paymentIntentId: attempt.paymentIntentId,
    errorCode: attempt.errorCode,
    declineCode: attempt.declineCode,
    actionUrl: attempt.actionUrl,
    claimedAt: attempt.claimedAt.toISOString(),
    completedAt: attempt.completedAt?.toISOString() ?? null,
  };
}

export const refundDto = z.object({
  id: z.string(),
  orderId: z.string(),
  amount: z.number().int(),
  currency: z.string(),
  reason: z.string().nullable(),
  status: z.enum(refundStatus.enumValues),
  stripeRefundId: z.string().nullable(),
  errorCode: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type RefundDto = z.infer<typeof refundDto>;

export function toRefundDto(refund: Refund): RefundDto {
  return {
    id: refund.id,
    orderId: refund.orderId,
    amount: refund.amount,
    currency: refund.currency,
    reason: refund.reason,
    status: refund.status,
    stripeRefundId: refund.stripeRefundId,
    errorCode: refund.errorCode,
    createdAt: refund.createdAt.toISOString(),
    completedAt: refund.completedAt?.toISOString() ?? null,
  };
}

export const captureDto = z.object({
  id: z.string(),
  orderId: z.string(),
  kind: z.enum(captureKind.enumValues),
  /** A capture's requested amount; null: all of it (always for a void). */
  amount: z.number().int().nullable(),
  status: z.enum(captureStatus.enumValues),
  errorCode: z.string().nullable(),
  createdAt: z.string(),
  completedAt: z.string().nullable(),
});
export type CaptureDto = z.infer<typeof captureDto>;

export function toCaptureDto(capture: Capture): CaptureDto {
  return {
    id: capture.id,
    orderId: capture.orderId,
    kind: capture.kind,
    amount: capture.amount,
    status: capture.status,
    errorCode: capture.errorCode,
    createdAt: capture.createdAt.toISOString(),
    completedAt: capture.completedAt?.toISOString() ?? null,
  };
}
