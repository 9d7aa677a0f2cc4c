import { applyFinal, attemptPayment } from './charge';
import type { ApiResult } from './context';
import { docUrl } from './errors';
import { randomId } from './ids';
import { ASYNC_CAUSE } from './intent-helpers';
import { decline, paymentMethodObject, threeDSecure } from './payment-methods';
import type { EmulatorState, EventCause, PaymentIntentRecord } from './store';
import type { ChallengeOutcome, Params } from './types';

/**
 * 3D Secure for the test cards that ask for it (https://docs.stripe.com/payments/3d-secure): a
 * confirmation leaves the PaymentIntent `requires_action` with a `next_action` naming the
 * emulator's challenge page (challenge-page.ts), whose Complete / Fail buttons settle it. Stripe
 * does not expire a challenge the customer abandons: the PaymentIntent stays `requires_action`
 * until it is confirmed again or canceled, and so it does here.
 */

/** `next_action` while a challenge is pending (keys in Stripe's alphabetical order). */
export type NextAction =
  | { redirect_to_url: { return_url: string; url: string }; type: 'redirect_to_url' }
  | {
      type: 'use_stripe_sdk';
      use_stripe_sdk: { source: string; stripe_js: string; type: 'three_d_secure_redirect' };
    };

/** One authentication attempt: its page, where it returns to, and how it ended. */
export interface Challenge {
  /** `src_...` (Stripe names its 3DS attempts so): the page's path segment. */
  source: string;
  /** The test card being authenticated (the page shows it; a failure detaches it from the PI). */
  paymentMethod: string;
  returnUrl: string | null;
  /**
   * `declined`: authenticated, then the card declined the charge; `superseded`: confirmed again or
   * canceled before the customer answered.
   */
  outcome: 'pending' | 'succeeded' | 'failed' | 'declined' | 'superseded';
}

export interface AuthenticationOptions {
  returnUrl: string | null;
  /** `error_on_requires_action=true`, or an off-session payment: fail instead of asking. */
  failInsteadOfAction: boolean;
}

export const CHALLENGE_PATH = '/_emulator/3ds/';

/** What Stripe answers when a payment that needs authentication may not ask for it (recorded). */
const AUTHENTICATION_REQUIRED = decline(
  'authentication_required',
  'authentication_required',
  'Your card was declined. This transaction requires authentication.',
);
const AUTHENTICATION_FAILURE = 'payment_intent_authentication_failure';
const AUTHENTICATION_FAILURE_MESSAGE =
  'The provided PaymentMethod has failed authentication. You can provide payment_method_data or a new PaymentMethod to attempt to fulfill this PaymentIntent again.';

/** Whether charging this payment method now needs the customer to authenticate first. */
export function needsAuthentication(record: PaymentIntentRecord, paymentMethod: string): boolean {
  if (record.authenticated === paymentMethod) return false;
  const card = threeDSecure(paymentMethod);
  const requested = record.pi.payment_method_options.card.request_three_d_secure;
  return card === 'required' || (card === 'optional' && requested !== 'automatic');
}

/** Charges the card, unless it must authenticate first (then asks, or fails as told to). */
export function confirmPayment(
  state: EmulatorState,
  record: PaymentIntentRecord,
  paymentMethod: string,
  options: AuthenticationOptions,
  cause: EventCause,
): ApiResult {
  supersedePending(record);
  if (!needsAuthentication(record, paymentMethod)) {
    delete record.authenticated; // one authentication pays for one charge
    return attemptPayment(state, record, paymentMethod, cause);
  }
  const { pi } = record;
  if (options.failInsteadOfAction) {
    pi.latest_charge = randomId('ch');
    return applyFinal(state, record, paymentMethod, AUTHENTICATION_REQUIRED, cause);
  }
  const challenge: Challenge = {
    source: randomId('src'),
    paymentMethod,
    returnUrl: options.returnUrl,
    outcome: 'pending',
  };
  record.challenges = [...(record.challenges ?? []), challenge];
  const url = `${state.baseUrl}${CHALLENGE_PATH}${challenge.source}`;
  pi.status = 'requires_action';
  pi.last_payment_error = null;
  // Stripe's use_stripe_sdk contents are Stripe.js's private business ("subject to change"); the
  // emulator puts its challenge page there, as Stripe's 3DS1 redirect variant does.
  pi.next_action =
    options.returnUrl === null
      ? {
          type: 'use_stripe_sdk',
          use_stripe_sdk: { source: challenge.source, stripe_js: url, type: 'three_d_secure_redirect' },
        }
      : { redirect_to_url: { return_url: options.returnUrl, url }, type: 'redirect_to_url' };
  state.emitEvent('payment_intent.requires_action', pi, cause);
  return { status: 200, body: pi };
}

/** A pending challenge no longer counts (a new confirmation or a cancel came first). */
export function supersedePending(record: PaymentIntentRecord): void {
  for (const challenge of record.challenges ?? []) {
    if (challenge.outcome === 'pending') challenge.outcome = 'superseded';
  }
  record.pi.next_action = null;
}

/**
 * The customer's answer. Complete charges the card (`succeeded`, `requires_capture` for manual
 * capture, or its decline), or, with `confirmation_method: 'manual'`, leaves it
 * `requires_confirmation` for the server to confirm; Fail is Stripe's authentication failure.
 * Only a pending challenge changes anything.
 */
export function settleChallenge(
  state: EmulatorState,
  record: PaymentIntentRecord,
  challenge: Challenge,
  result: 'succeeded' | 'failed',
): boolean {
  if (challenge.outcome !== 'pending') return false;
  const { pi } = record;
  const { paymentMethod } = challenge;
  challenge.outcome = result;
  pi.next_action = null;
  if (result === 'failed') {
    pi.last_payment_error = {
      code: AUTHENTICATION_FAILURE,
      doc_url: docUrl(AUTHENTICATION_FAILURE),
      message: AUTHENTICATION_FAILURE_MESSAGE,
      payment_method: paymentMethodObject(paymentMethod),
      type: 'invalid_request_error',
    };
    pi.payment_method = null;
    pi.status = 'requires_payment_method';
    state.emitEvent('payment_intent.payment_failed', pi, ASYNC_CAUSE);
  } else if (pi.confirmation_method === 'manual') {
    record.authenticated = paymentMethod;
    pi.status = 'requires_confirmation';
  } else {
    attemptPayment(state, record, paymentMethod, ASYNC_CAUSE);
    if (pi.status === 'requires_payment_method') challenge.outcome = 'declined';
  }
  return true;
}

/** The challenge a page's `src_...` names, with its PaymentIntent. */
export function findChallenge(
  state: EmulatorState,
  source: string,
): { record: PaymentIntentRecord; challenge: Challenge } | null {
  for (const record of state.paymentIntents()) {
    const challenge = record.challenges?.find((c) => c.source === source);
    if (challenge) return { record, challenge };
  }
  return null;
}

/** `completeChallenge` / `failChallenge`: settles the PaymentIntent's latest challenge. */
export function settleLatestChallenge(
  state: EmulatorState,
  paymentIntentId: string,
  result: 'succeeded' | 'failed',
): ChallengeOutcome {
  const record = state.getPaymentIntent(paymentIntentId);
  if (!record) throw new RangeError(`No such payment_intent: '${paymentIntentId}'`);
  const challenge = record.challenges?.at(-1);
  if (!challenge) return { paymentIntent: structuredClone(record.pi), changed: false, redirectUrl: null };
  const changed = settleChallenge(state, record, challenge, result);
  return challengeOutcome(record, challenge, changed);
}

export function challengeOutcome(
  record: PaymentIntentRecord,
  challenge: Challenge,
  changed: boolean,
): ChallengeOutcome {
  return { paymentIntent: structuredClone(record.pi), changed, redirectUrl: redirectUrl(record, challenge) };
}

/**
 * `return_url` with the query Stripe adds on the way back: `payment_intent`,
 * `payment_intent_client_secret` and `redirect_status`: `succeeded` when the payment went on
 * (`succeeded`, `requires_capture`, `requires_confirmation`), else `failed`.
 */
function redirectUrl(record: PaymentIntentRecord, challenge: Challenge): string | null {
  if (challenge.returnUrl === null || challenge.outcome === 'pending') return null;
  const url = new URL(challenge.returnUrl);
  url.searchParams.set('payment_intent', record.pi.id);
  url.searchParams.set('payment_intent_client_secret', record.pi.client_secret);
  url.searchParams.set('redirect_status', challenge.outcome === 'succeeded' ? 'succeeded' : 'failed');
  return url.toString();
}

/**
 * `payment_method_options[card][request_three_d_secure]` (the rest of that hash is not read):
 * `any` / `challenge` make `pm_card_threeDSecureOptional` ask for authentication.
 */
export function requestedThreeDSecure(params: Params): 'automatic' | 'any' | 'challenge' | undefined {
  const options = params.payment_method_options;
  if (typeof options !== 'object' || Array.isArray(options)) return undefined;
  const card = options.card;
  if (typeof card !== 'object' || Array.isArray(card)) return undefined;
  const value = card.request_three_d_secure;
  return value === 'automatic' || value === 'any' || value === 'challenge' ? value : undefined;
}
