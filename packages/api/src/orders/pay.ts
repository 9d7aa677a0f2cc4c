import { payOrder } from '@chargeonce/payments';
import { toOrderDto } from '../dto';
import { idempotentMutation } from '../idempotency';
import { ownerFor } from '../owner';
import { payInput, payOutput } from './pay.schema';

/**
 * `orders.pay`: safe to call any number of times, concurrently, from any instance. Exactly one
 * call answers `charged`; the others `already_paid` with the same payment intent, or `processing`
 * while the outcome is not known yet. A decline is an error (PAYMENT_REQUIRED) and leaves the order
 * payable. Under an idempotency key a retry replays the first final answer (see idempotency.ts).
 */
export const pay = idempotentMutation(
  'orders:pay',
  // `processing` is no final answer: a retry with the key asks again and gets the outcome.
  { input: payInput, output: payOutput, isFinal: (out) => out.outcome !== 'processing' },
  async ({ ctx, input }) => {
    ctx.audit.orderId = input.orderId;
    const result = await payOrder(ctx.payments, {
      orderId: input.orderId,
      userId: ownerFor(ctx.principal, input.userId, false),
      paymentMethodId: input.paymentMethodId,
    });
    ctx.audit.outcome = result.outcome;
    const order = toOrderDto(result.order);
    return result.outcome === 'processing'
      ? { outcome: result.outcome, order }
      : { outcome: result.outcome, order, paymentIntentId: result.paymentIntentId };
  },
);
