import { MAXIMUM_CHARGE, minimumChargeAmount } from '@chargeonce/payments';
import { z } from 'zod';
import { paymentMethodIdSchema, userIdSchema } from '../dto';
import { idempotencyKeyField } from '../idempotency';

/**
 * `orders.create` input. An amount the provider would refuse for its currency (under Stripe's
 * minimum charge, over its eight digits) is refused here, when the order is created, instead of
 * when the customer pays.
 */
export const createInput = z
  .strictObject({
    /** Minor units (e.g. cents; yen for jpy). */
    amount: z
      .number()
      .int({ message: 'amount must be an integer number of minor units' })
      .positive({ message: 'amount must be greater than 0' })
      .max(MAXIMUM_CHARGE, { message: `amount must be at most ${MAXIMUM_CHARGE}` }),
    currency: z
      .string()
      .regex(/^[A-Za-z]{3}$/, { message: 'currency must be a 3-letter ISO code' })
      .transform((c) => c.toLowerCase()),
    paymentMethodId: paymentMethodIdSchema,
    /**
     * `manual`: paying only authorizes; capture with `orders.capture` (or release with `orders.void`).
     * Absent: `automatic` (optional, not defaulted here, so the fingerprint of a request stored under
     * an idempotency key before this field existed is unchanged).
     */
    captureMethod: z
      .enum(['automatic', 'manual'], { message: 'captureMethod must be automatic or manual' })
      .optional(),
    /** The customer, when a service creates the order (required then). */
    userId: userIdSchema.optional(),
    ...idempotencyKeyField,
  })
  .superRefine((input, ctx) => {
    const minimum = minimumChargeAmount(input.currency);
    if (input.amount < minimum) {
      ctx.addIssue({
        code: 'custom',
        path: ['amount'],
        message: `amount must be at least ${minimum} (minor units of ${input.currency}): the smallest charge the payment provider accepts in ${input.currency}`,
      });
    }
  });
