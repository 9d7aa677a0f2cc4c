import { noopLogger, type PaymentsDeps } from './deps';
import type { ProviderRefund, RefundResult } from './gateway';
import { refundOutcome } from './refund';
import { findRefundByProvider, settleRefund } from './refund-store';
import { type EventResult, type PaymentIntentEvent, recordEvent } from './webhook';

/** A provider refund as the result a refund call would have given. */
export const asRefundResult = (r: ProviderRefund): RefundResult =>
  r.status === 'failed'
    ? { kind: 'failed', refundId: r.id, reason: r.failureReason ?? 'failed' }
    : { kind: r.status, refundId: r.id };

/**
 * Applies `refund.created|updated|failed`, `charge.refund.updated` and `charge.refunded`. As for
 * PaymentIntents, the event is only a hint: the refund (or, for a charge, every refund of its
 * PaymentIntent) is re-read, and each refund of ours settles with the same conditional statement as
 * the requester's; the event is recorded after, so a redelivery finds it applied (and a settle
 * repeated by a delivery that raced it is a no-op: the statement moves a refund once).
 */
export async function applyRefundEvent(deps: PaymentsDeps, event: PaymentIntentEvent): Promise<EventResult> {
  const logger = deps.logger ?? noopLogger;
  /** Each refund the provider reports now, with our id from its metadata. */
  let provider: { result: RefundResult; ourId: string | undefined }[];
  if (event.refundId) {
    const result = await deps.gateway.retrieveRefund(event.refundId);
    provider = [{ result, ourId: event.metadata.refund_id }];
  } else if (event.paymentIntentId) {
    const listed = await deps.gateway.listRefunds(event.paymentIntentId);
    if (!Array.isArray(listed)) return 'retry_later';
    provider = listed.map((r) => ({ result: asRefundResult(r), ourId: r.metadata.refund_id }));
  } else {
    return recordEvent(deps.db, event, 'ignored');
  }
  if (provider.some((p) => p.result.kind === 'unknown')) return 'retry_later';

  let settledAny = false;
  let ours = 0;
  let stillPending = false;
  for (const { result, ourId } of provider) {
    if (!('refundId' in result)) continue;
    const refund = await findRefundByProvider(deps.db, { stripeRefundId: result.refundId, refundId: ourId });
    if (!refund) continue;
    ours++;
    const outcome = refundOutcome(result, { keyMayHaveExecuted: true });
    if (!outcome) continue;
    if (outcome.status === 'pending') stillPending = true;
    const settled = await settleRefund(deps.db, refund.id, outcome);
    if (settled && outcome.status !== 'pending') {
      settledAny = true;
      logger.info(
        { eventId: event.id, refundId: refund.id, status: outcome.status },
        'webhook settled refund',
      );
    }
  }
  if (ours === 0) {
    logger.warn({ eventId: event.id, refundId: event.refundId }, 'webhook for an unknown refund');
    return recordEvent(deps.db, event, 'unknown_refund');
  }
  // A refund still pending is not recorded: its later events (or this one again) settle it.
  if (stillPending && !settledAny) return 'pending';
  return recordEvent(deps.db, event, settledAny ? 'finalized' : 'already_final');
}
