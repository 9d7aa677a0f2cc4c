import { z } from 'zod';
import { orderDto, orderIdSchema, paymentMethodIdSchema, userIdSchema } from '../dto';
import { idempotencyKeyField } from '../idempotency';

export const payInput = z.strictObject({
  orderId: orderIdSchema,
  /** Pay with another payment method than the order's (e.g. after a decline). */
  paymentMethodId: paymentMethodIdSchema.optional(),
  /** Optional for a service: the order's owner, checked against the order. */
  userId: userIdSchema.optional(),
  ...idempotencyKeyField,
});

export const payOutput = z.discriminatedUnion('outcome', [
  z.object({ outcome: z.literal('charged'), order: orderDto, paymentIntentId: z.string() }),
  z.object({ outcome: z.literal('already_paid'), order: orderDto, paymentIntentId: z.string() }),
  z.object({ outcome: z.literal('processing'), order: orderDto }),
  z.object({ outcome: z.literal('authorized'), order: orderDto, paymentIntentId: z.string() }),
  z.object({ outcome: z.literal('already_authorized'), order: orderDto, paymentIntentId: z.string() }),
  /** Send the customer to `redirectUrl` (the bank's 3-D Secure challenge); they come back to the order. */
  z.object({ outcome: z.literal('requires_action'), order: orderDto, redirectUrl: z.string().nullable() }),
]);
export type PayOutput = z.infer<typeof payOutput>;
