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
  // `processing` and `requires_action` are no final answers: a retry with the key asks again.
  {
    input: payInput,
    output: payOutput,
    isFinal: (out) => out.outcome !== 'processing' && out.outcome !== 'requires_action',
  },
  async ({ ctx, input }) => {
    ctx.audit.orderId = input.orderId;
    const result = await payOrder(ctx.payments, {
      orderId: input.orderId,
      userId: ownerFor(ctx.principal, input.userId, false),
      paymentMethodId: input.paymentMethodId,
    });
    ctx.audit.outcome = result.outcome;
    const order = toOrderDto(result.order);
    switch (result.outcome) {
      case 'processing':
        return { outcome: result.outcome, order };
      case 'requires_action':
        return { outcome: result.outcome, order, redirectUrl: result.redirectUrl };
      default:
        return { outcome: result.outcome, order, paymentIntentId: result.paymentIntentId };
    }
  },
);
