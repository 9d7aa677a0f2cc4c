import { cancelOrder } from '@chargeonce/payments';
import { z } from 'zod';
import { orderDto, orderIdSchema, toOrderDto, userIdSchema } from '../dto';
import { idempotencyKeyField, idempotentMutation } from '../idempotency';
import { ownerFor } from '../owner';

export const cancelInput = z.strictObject({
  orderId: orderIdSchema,
  /** Optional for a service: the order's owner, checked against the order. */
  userId: userIdSchema.optional(),
  ...idempotencyKeyField,
});

export const cancelOutput = z.object({ outcome: z.enum(['canceled', 'already_canceled']), order: orderDto });

/**
 * `orders.cancel`: closes an unpaid order (pending, or its payment failed). Against a payment in
 * flight it answers CONFLICT (PAYMENT_IN_PROGRESS) and changes nothing; a paid order is refunded,
 * not canceled (ORDER_NOT_CANCELABLE). Canceling twice answers `already_canceled`.
 */
export const cancel = idempotentMutation(
  'orders:write',
  { input: cancelInput, output: cancelOutput },
  async ({ ctx, input }) => {
    ctx.audit.orderId = input.orderId;
    const result = await cancelOrder(ctx.db, {
      orderId: input.orderId,
      userId: ownerFor(ctx.principal, input.userId, false),
    });
    ctx.audit.outcome = result.outcome;
    return { outcome: result.outcome, order: toOrderDto(result.order) };
  },
);
