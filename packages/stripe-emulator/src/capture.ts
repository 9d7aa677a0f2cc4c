import { chargeObject } from './charge-object';
import type { ApiContext, ApiResult } from './context';
import { invalidRequest } from './errors';
import { nowSeconds } from './ids';
import { ASYNC_CAUSE, findRecord, requestCause, unexpectedState } from './intent-helpers';
import type { EmulatorState, EventCause, PaymentIntentRecord } from './store';
import { optionalPositiveInteger, parseMetadata } from './validate';

/**
 * Manual capture (https://docs.stripe.com/payments/place-a-hold-on-a-payment-method): a successful
 * charge of a `capture_method: 'manual'` PaymentIntent only holds the funds. The hold is captured
 * (all or part, the rest released), canceled, or expires after `authorizationTtlMs`.
 */

/** Holds the amount: `requires_capture`, `amount_capturable`, and the expiry armed. */
export function authorize(state: EmulatorState, record: PaymentIntentRecord, cause: EventCause): void {
  const { pi } = record;
  pi.status = 'requires_capture';
  pi.amount_capturable = pi.amount;
  // Measured from the authorization (Stripe's `capture_before` on the charge), fixed then: a later
  // setAuthorizationTtl does not move it.
  record.captureBefore = Date.now() + state.authorizationTtlMs;
  state.emitEvent('payment_intent.amount_capturable_updated', pi, cause);
  state.listeners.authorized(record);
}

/**
 * `POST /v1/payment_intents/:id/capture`. `amount_to_capture` defaults to all of
 * `amount_capturable`; less captures that much and releases the rest (the charge counts it as
 * refunded). Emits `payment_intent.succeeded`, then `charge.captured`.
 */
export function capturePaymentIntent(ctx: ApiContext): ApiResult {
  const record = findRecord(ctx);
  const { pi } = record;
  const metadata = parseMetadata(ctx.params, pi.metadata);
  const requested = optionalPositiveInteger(ctx.params, 'amount_to_capture');
  if (pi.status !== 'requires_capture') {
    throw unexpectedState(
      pi,
      `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
    );
  }
  const amount = requested ?? pi.amount_capturable;
  if (amount > pi.amount_capturable) {
    // Stripe's wording and code as its API answers; `param` is the emulator's choice.
    throw invalidRequest(
      'The payment could not be captured because the requested capture amount is greater than the amount you can capture for this charge.',
      { param: 'amount_to_capture', code: 'amount_too_large' },
    );
  }
  pi.metadata = metadata;
  pi.status = 'succeeded';
  pi.amount_received = amount;
  pi.amount_capturable = 0;
  delete record.captureBefore;
  const cause = requestCause(ctx);
  ctx.state.emitEvent('payment_intent.succeeded', pi, cause);
  ctx.state.emitEvent('charge.captured', chargeObject(pi, ctx.state.refundsOf(pi.id)), cause);
  return { status: 200, body: pi };
}

/**
 * An authorization nobody captured in time: canceled by Stripe, as recorded from its API, with
 * `cancellation_reason: 'automatic'` and the whole amount released (`payment_intent.canceled`, then
 * `charge.expired`). Safe to call twice, or after a capture or cancel: then it does nothing.
 */
export function expireAuthorization(state: EmulatorState, record: PaymentIntentRecord): boolean {
  const { pi } = record;
  if (pi.status !== 'requires_capture' || record.captureBefore === undefined) return false;
  delete record.captureBefore;
  pi.status = 'canceled';
  pi.canceled_at = nowSeconds();
  pi.cancellation_reason = 'automatic';
  pi.amount_capturable = 0;
  state.emitEvent('payment_intent.canceled', pi, ASYNC_CAUSE);
  state.emitEvent('charge.expired', chargeObject(pi, state.refundsOf(pi.id)), ASYNC_CAUSE);
  return true;
}
