import type Stripe from 'stripe';
import type { ProviderRefund, RefundGateway, RefundRequest, RefundResult } from './gateway';
import { runCall } from './stripe-client';
import { classifyStripeError } from './stripe-gateway';

/** Stripe refund statuses mapped to ours, in one place. */
export function fromRefund(refund: Stripe.Refund): RefundResult {
  switch (refund.status) {
    case 'succeeded':
      return { kind: 'succeeded', refundId: refund.id };
    case 'failed':
    case 'canceled':
      return { kind: 'failed', refundId: refund.id, reason: refund.failure_reason ?? refund.status };
    default:
      // pending, requires_action: accepted, not final yet.
      return { kind: 'pending', refundId: refund.id };
  }
}

/**
 * A refund request's error: what Stripe refused before executing (400: more than is left, nothing
 * charged to refund), our credentials refused, or unknown (timeouts, 5xx, the key in use).
 */
function classifyRefundError(err: unknown): RefundResult {
  const result = classifyStripeError(err);
  switch (result.kind) {
    case 'declined':
    case 'rejected':
      return { kind: 'rejected', code: result.code, message: result.message };
    case 'unavailable':
      return result;
    default:
      return { kind: 'unknown', reason: result.kind === 'unknown' ? result.reason : result.kind };
  }
}

export function stripeRefunds(client: Stripe, callTimeoutMs: number): RefundGateway {
  return {
    async refund(request: RefundRequest): Promise<RefundResult> {
      const call = await runCall(callTimeoutMs, () =>
        client.refunds.create(
          {
            payment_intent: request.paymentIntentId,
            amount: request.amount,
            ...(request.reason ? { reason: request.reason as Stripe.RefundCreateParams.Reason } : {}),
            metadata: request.metadata,
          },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      if (call.ok) return fromRefund(call.value);
      const result = classifyRefundError(call.error);
      // Refused after one of the SDK's retries: an earlier try may have executed.
      if ((result.kind === 'unavailable' || result.kind === 'rejected') && call.tries > 1) {
        return { kind: 'unknown', reason: `${result.kind}_after_retry` };
      }
      return result;
    },

    async retrieveRefund(refundId: string): Promise<RefundResult> {
      const call = await runCall(callTimeoutMs, () => client.refunds.retrieve(refundId));
      if (call.ok) return fromRefund(call.value);
      const result = classifyRefundError(call.error);
      return result.kind === 'unknown' ? result : { kind: 'unknown', reason: `retrieve_${result.kind}` };
    },

    async listRefunds(paymentIntentId: string) {
      try {
        const refunds: ProviderRefund[] = [];
        for await (const r of client.refunds.list({ payment_intent: paymentIntentId, limit: 100 })) {
          const mapped = fromRefund(r);
          refunds.push({
            id: r.id,
            status: mapped.kind === 'succeeded' || mapped.kind === 'failed' ? mapped.kind : 'pending',
            amount: r.amount,
            failureReason: mapped.kind === 'failed' ? mapped.reason : null,
            metadata: r.metadata ?? {},
          });
        }
        return refunds;
      } catch (err) {
        const result = classifyRefundError(err);
        return { kind: 'unknown' as const, reason: `list_${result.kind}` };
      }
    },
  };
}
