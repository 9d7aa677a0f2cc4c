import type { ApiContext } from './context';
import { invalidRequest, resourceMissing } from './errors';
import type { EventCause, PaymentIntentRecord } from './store';
import type { PaymentIntentObject } from './types';

/** The PaymentIntent named in the path (`/v1/payment_intents/:id/...`), or Stripe's 404. */
export function findRecord(ctx: ApiContext): PaymentIntentRecord {
  const id = ctx.path.id ?? '';
  const record = ctx.state.getPaymentIntent(id);
  if (!record) throw resourceMissing(`No such payment_intent: '${id}'`, 'intent');
  return record;
}

/** Stripe's 400 for an operation the PaymentIntent's status does not allow; it carries the PaymentIntent. */
export function unexpectedState(pi: PaymentIntentObject, message: string) {
  const error = invalidRequest(message, { code: 'payment_intent_unexpected_state' });
  error.body.payment_intent = structuredClone(pi);
  return error;
}

/** The request behind an event (`event.request`). */
export function requestCause(ctx: ApiContext): EventCause {
  return { id: ctx.requestId, idempotency_key: ctx.idempotencyKey };
}

/** `event.request` of a change nobody's API request made (settling, expiry, a challenge page). */
export const ASYNC_CAUSE: EventCause = { id: null, idempotency_key: null };
