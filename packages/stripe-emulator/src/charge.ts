import { authorize } from './capture';
import type { ApiResult } from './context';
import { docUrl } from './errors';
import { randomId } from './ids';
import { ASYNC_CAUSE } from './intent-helpers';
import { cardOutcome, type FinalOutcome, paymentMethodObject } from './payment-methods';
import type { EmulatorState, EventCause, PaymentIntentRecord } from './store';
import type { LastPaymentError } from './types';

/**
 * Charges the test card (any 3D Secure authentication it asks for is done: three-d-secure.ts
 * decides that first): success moves the PI on; a decline is a 402 carrying the updated PI; a
 * `processing` card answers 200 with status `processing` and settles later (see `settleProcessing`).
 * Every state change emits its Stripe event.
 */
export function attemptPayment(
  state: EmulatorState,
  record: PaymentIntentRecord,
  paymentMethod: string,
  cause: EventCause,
): ApiResult {
  const { pi } = record;
  pi.latest_charge = randomId('ch');
  const outcome = cardOutcome(paymentMethod);
  if (outcome.kind === 'processing') {
    pi.last_payment_error = null;
    pi.status = 'processing';
    record.settleAt = Date.now() + state.processingDelayMs;
    state.emitEvent('payment_intent.processing', pi, cause);
    state.listeners.processing(record);
    return { status: 200, body: pi };
  }
  return applyFinal(state, record, paymentMethod, outcome, cause);
}

/**
 * Settles a `processing` PaymentIntent to its card's final outcome. Safe to call twice or after a
 * cancel: anything no longer `processing` is left alone.
 */
export function settleProcessing(state: EmulatorState, record: PaymentIntentRecord): boolean {
  const { pi } = record;
  delete record.settleAt;
  if (pi.status !== 'processing' || pi.payment_method === null) return false;
  const outcome = cardOutcome(pi.payment_method);
  applyFinal(
    state,
    record,
    pi.payment_method,
    outcome.kind === 'processing' ? outcome.settlesTo : outcome,
    ASYNC_CAUSE,
  );
  return true;
}

/** Applies a final outcome to the PaymentIntent's latest charge (declines: a 402 with the PI). */
export function applyFinal(
  state: EmulatorState,
  record: PaymentIntentRecord,
  paymentMethod: string,
  outcome: FinalOutcome,
  cause: EventCause,
): ApiResult {
  const { pi } = record;
  const chargeId = pi.latest_charge ?? randomId('ch');
  if (outcome.kind === 'success') {
    pi.last_payment_error = null;
    if (pi.capture_method === 'manual') {
      authorize(state, record, cause);
    } else {
      pi.status = 'succeeded';
      pi.amount_received = pi.amount;
      state.emitEvent('payment_intent.succeeded', pi, cause);
    }
    return { status: 200, body: pi };
  }
  const error: LastPaymentError = {
    type: 'card_error',
    code: outcome.code,
    decline_code: outcome.declineCode,
    message: outcome.message,
    doc_url: docUrl(outcome.code),
    charge: chargeId,
    payment_method: paymentMethodObject(paymentMethod),
  };
  // As in Stripe, a failed attempt detaches the payment method and asks for a new one.
  pi.last_payment_error = error;
  pi.payment_method = null;
  pi.status = 'requires_payment_method';
  state.emitEvent('payment_intent.payment_failed', pi, cause);
  return {
    status: 402,
    body: {
      error: {
        charge: chargeId,
        code: error.code,
        decline_code: error.decline_code,
        doc_url: error.doc_url,
        message: error.message,
        payment_intent: structuredClone(pi),
        payment_method: error.payment_method,
        type: 'card_error',
      },
    },
  };
}
