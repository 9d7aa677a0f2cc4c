import { type Executor, isAttemptInFlight, paymentAttempts, stripeEvents } from '@chargeonce/db';
import { eq, or } from 'drizzle-orm';
import { authorizationOutcome } from './capture';
import { settleAuthorization } from './capture-store';
import { noopLogger, type PaymentsDeps } from './deps';
import { isUuid } from './ids';
import { attemptOutcome } from './outcome';
import { applyRefundEvent } from './refund-events';
import { finalizeAttempt } from './settle';

/** The part of a (signature-verified) Stripe event chargeonce acts on. */
export interface PaymentIntentEvent {
  id: string;
  type: string;
  /** The PaymentIntent the event's object is, or belongs to (a refund's, a charge's). */
  paymentIntentId: string | null;
  /** Set when the event's object is a refund. */
  refundId?: string | null | undefined;
  /** The object's metadata (ours: `order_id`, `attempt_id` / `refund_id`). */
  metadata: Record<string, string>;
}

export type EventResult =
  /** The event settled an attempt and its order. */
  | 'finalized'
  /** The attempt was already settled (by the payer, recovery, or an earlier event). */
  | 'already_final'
  /** This event id was applied before. */
  | 'duplicate'
  /** The PaymentIntent's outcome is not final yet (e.g. `processing`); a later event settles it. */
  | 'pending'
  /** The PaymentIntent could not be re-read: nothing applied; answer non-2xx so Stripe retries. */
  | 'retry_later'
  /** No attempt of ours matches: left for reconciliation to report. */
  | 'unknown_payment_intent'
  /** No refund of ours matches: left for reconciliation to report. */
  | 'unknown_refund'
  /** Not a PaymentIntent event. */
  | 'ignored';

/**
 * Applies a Stripe `payment_intent.*` event (refund events go to `applyRefundEvent`). Webhooks arrive at least once, late and in any order,
 * so the event is only a hint: the PaymentIntent is re-read (outside any transaction), and the
 * attempt is finalized with the same conditional update as `orders.pay`, in one transaction with
 * the insert into `stripe_events` that makes a redelivery a no-op.
 */
export async function applyPaymentIntentEvent(
  deps: PaymentsDeps,
  event: PaymentIntentEvent,
): Promise<EventResult> {
  const logger = deps.logger ?? noopLogger;
  const record = (result: EventResult) => recordEvent(deps.db, event, result);
  if (await seenEvent(deps.db, event.id)) return 'duplicate';
  // refund.*, charge.refunded, charge.refund.updated
  if (event.type.startsWith('refund.') || event.type.startsWith('charge.refund')) {
    return applyRefundEvent(deps, event);
  }
  if (!event.type.startsWith('payment_intent.') || !event.paymentIntentId) {
    return record('ignored');
  }

  const attemptId = event.metadata.attempt_id;
  const [attempt] = await deps.db
    .select()
    .from(paymentAttempts)
    .where(
      isUuid(attemptId)
        ? or(eq(paymentAttempts.id, attemptId), eq(paymentAttempts.paymentIntentId, event.paymentIntentId))
        : eq(paymentAttempts.paymentIntentId, event.paymentIntentId),
    )
    .limit(1);
  if (!attempt) {
    logger.warn(
      { eventId: event.id, paymentIntentId: event.paymentIntentId },
      'webhook for an unknown PaymentIntent',
    );
    return record('unknown_payment_intent');
  }

  if (attempt.status === 'authorized' && attempt.paymentIntentId) {
    return applyToAuthorization(deps, event, {
      orderId: attempt.orderId,
      paymentIntentId: attempt.paymentIntentId,
    });
  }

  const current = await deps.gateway.retrieve(event.paymentIntentId);
  const outcome = attemptOutcome(current, { keyMayHaveExecuted: true });
  // An attempt still awaiting the customer that the provider says still awaits them: no change.
  if (!outcome || (isAttemptInFlight(attempt.status) && outcome.status === attempt.status)) {
    // Not recorded either way, so a redelivery is applied afresh. A PaymentIntent that is really
    // still processing is acknowledged (its final event will come); a failed re-read is not.
    return outcome || (current.kind === 'unknown' && current.paymentIntentId) ? 'pending' : 'retry_later';
  }
  return recordAndSettle(deps, event, (tx) =>
    finalizeAttempt(tx, {
      orderId: attempt.orderId,
      attemptId: attempt.id,
      claimVersion: attempt.claimVersion,
      outcome,
    }),
  );
}

/**
 * An event for an open authorization (`payment_intent.succeeded` after a capture, `.canceled`
 * when the hold lapsed or was voided): the PaymentIntent re-read decides, as for attempts.
 */
async function applyToAuthorization(
  deps: PaymentsDeps,
  event: PaymentIntentEvent,
  held: { orderId: string; paymentIntentId: string },
): Promise<EventResult> {
  const current = await deps.gateway.retrieve(held.paymentIntentId);
  const outcome = authorizationOutcome(current);
  if (!outcome) return current.kind === 'unknown' ? 'retry_later' : 'pending';
  return recordAndSettle(deps, event, (tx) => settleAuthorization(tx, { ...held, outcome }));
}

/** Records the event and settles in one transaction: a redelivery (or a racing one) is a no-op. */
async function recordAndSettle(
  deps: PaymentsDeps,
  event: PaymentIntentEvent,
  settle: (tx: Executor) => Promise<unknown>,
): Promise<EventResult> {
  return deps.db.transaction(async (tx) => {
    if ((await recordEvent(tx, event, 'finalized')) === 'duplicate') return 'duplicate';
    if (await settle(tx)) {
      (deps.logger ?? noopLogger).info(
        { eventId: event.id, type: event.type, paymentIntentId: event.paymentIntentId },
        'webhook settled the payment',
      );
      return 'finalized';
    }
    await tx.update(stripeEvents).set({ result: 'already_final' }).where(eq(stripeEvents.id, event.id));
    return 'already_final';
  });
}

/** Whether this event id was applied before (Stripe delivers at least once). */
export async function seenEvent(db: Executor, eventId: string): Promise<boolean> {
  const [seen] = await db
    .select({ id: stripeEvents.id })
    .from(stripeEvents)
    .where(eq(stripeEvents.id, eventId));
  return seen !== undefined;
}

/** Records what applying an event did; `duplicate` when another delivery recorded it first. */
export async function recordEvent(
  db: Executor,
  event: PaymentIntentEvent,
  result: EventResult,
): Promise<EventResult> {
  const [inserted] = await db
    .insert(stripeEvents)
    .values({ id: event.id, type: event.type, paymentIntentId: event.paymentIntentId, result })
    .onConflictDoNothing()
    .returning({ id: stripeEvents.id });
  return inserted ? result : 'duplicate';
}
