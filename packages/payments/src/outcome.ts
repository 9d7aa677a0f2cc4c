import { DomainError } from './errors';
import type { ChargeResult, LookupResult } from './gateway';
import { ABANDONED_CODE, type AttemptOutcome, PROVIDER_UNAVAILABLE_CODE } from './settle';

/**
 * What a provider answer settles for the attempt that asked, in one place for the payer, recovery
 * and webhooks; `undefined` while the outcome is not known (the attempt stays in flight).
 *
 * `keyMayHaveExecuted`: an earlier request with this attempt's idempotency key may have executed
 * (every call but the payer's own). It decides what `unavailable` means: the provider refused our
 * credentials before executing *this* request. On the payer's own call that proves nothing was
 * charged (the gateway reports a refusal after one of its own retries as `unknown`), so the attempt
 * fails and the order is payable again; after an earlier request it says nothing about that one.
 */
export function attemptOutcome(
  result: ChargeResult | LookupResult,
  context: { keyMayHaveExecuted: boolean },
): AttemptOutcome | undefined {
  switch (result.kind) {
    case 'succeeded':
      return {
        status: 'succeeded',
        paymentIntentId: result.paymentIntentId,
        amountReceived: result.amountReceived,
      };
    case 'authorized':
      return { status: 'authorized', paymentIntentId: result.paymentIntentId };
    case 'canceled':
      // Canceled before it charged (an abandoned challenge, a cancel outside chargeonce): nothing
      // taken, and no decline of the card, so paying again with it is not held back.
      return {
        status: 'failed',
        paymentIntentId: result.paymentIntentId,
        errorCode: canceledCode(result.reason),
        declineCode: null,
      };
    case 'declined':
      return {
        status: 'failed',
        paymentIntentId: result.paymentIntentId,
        errorCode: result.code,
        declineCode: result.declineCode,
      };
    case 'rejected':
      // Refused before executing; a repeat with the key would have replayed an executed first
      // request instead, so this holds on any call.
      return { status: 'failed', paymentIntentId: null, errorCode: result.code, declineCode: null };
    case 'unavailable':
      return context.keyMayHaveExecuted
        ? undefined
        : {
            status: 'failed',
            paymentIntentId: null,
            errorCode: PROVIDER_UNAVAILABLE_CODE,
            declineCode: null,
          };
    case 'requires_action':
      return {
        status: 'requires_action',
        paymentIntentId: result.paymentIntentId,
        actionUrl: result.redirectUrl,
      };
    case 'not_found':
      // Looked up (consistently) past the key window and the provider never created a PaymentIntent
      // for it: nothing was charged, so the order may be paid again.
      return { status: 'failed', paymentIntentId: null, errorCode: ABANDONED_CODE, declineCode: null };
    case 'unknown':
      return undefined;
  }
}

/** Recorded as `error_code` of an attempt whose PaymentIntent was canceled (`canceled_abandoned`). */
export const canceledCode = (reason: string) => `canceled_${reason}`;

/** The caller's error for a failed attempt, whether this call made it or waited on it. */
export function failureError(
  orderId: string,
  failed: { errorCode: string | null; declineCode: string | null },
  providerMessage = '',
): DomainError {
  if (failed.declineCode) {
    return new DomainError({
      code: 'PAYMENT_DECLINED',
      orderId,
      declineCode: failed.declineCode,
      providerMessage,
    });
  }
  if (failed.errorCode === PROVIDER_UNAVAILABLE_CODE)
    return new DomainError({ code: 'PROVIDER_UNAVAILABLE', orderId });
  return new DomainError({
    code: 'PAYMENT_REJECTED',
    orderId,
    providerCode: failed.errorCode ?? 'unknown',
    providerMessage,
  });
}
