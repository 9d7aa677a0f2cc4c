import { refundOrder } from '@chargeonce/payments';
import { z } from 'zod';
import {
  movedAmountSchema,
  orderDto,
  orderIdSchema,
  refundDto,
  toOrderDto,
  toRefundDto,
  userIdSchema,
} from '../dto';
import { idempotencyKeyField, idempotentMutation } from '../idempotency';
import { ownerFor } from '../owner';

export const REFUND_REASONS = ['duplicate', 'fraudulent', 'requested_by_customer'] as const;

export const refundInput = z.strictObject({
  orderId: orderIdSchema,
  /** Minor units; the whole amount still unrefunded when absent. */
  amount: movedAmountSchema.optional(),
  /** Stripe's refund reasons. */
  reason: z
    .enum(REFUND_REASONS, { message: `reason must be one of ${REFUND_REASONS.join(', ')}` })
    .optional(),
  /** Optional for a service: the order's owner, checked against the order. */
  userId: userIdSchema.optional(),
  ...idempotencyKeyField,
});

export const refundOutput = z.object({
  outcome: z.enum(['refunded', 'pending']),
  order: orderDto,
  refund: refundDto,
});

/**
 * `orders.refund`: gives money back once per request. The amount is reserved on the order before
 * the provider is called, so no concurrency refunds more than was charged; `pending` (the
 * provider's outcome not known yet, or its refund still pending) is settled later with the same
 * Stripe key and is no final answer: a retry with the caller's key asks again.
 */
export const refund = idempotentMutation(
  'orders:refund',
  { input: refundInput, output: refundOutput, isFinal: (out) => out.outcome !== 'pending' },
  async ({ ctx, input }) => {
    ctx.audit.orderId = input.orderId;
    const principal = ctx.principal;
    const result = await refundOrder(ctx.payments, {
      orderId: input.orderId,
      userId: ownerFor(principal, input.userId, false),
      amount: input.amount,
      reason: input.reason,
      requestedBy:
        principal.kind === 'user'
          ? { kind: 'user', id: principal.userId }
          : { kind: 'service', id: principal.serviceId },
      idempotencyKeyId: ctx.idempotency?.keyId,
    });
    ctx.audit.outcome = result.outcome;
    return { outcome: result.outcome, order: toOrderDto(result.order), refund: toRefundDto(result.refund) };
  },
);
