import { nowSeconds } from './ids';

/** How a confirmation with a given test payment method ends. */
export type FinalOutcome =
  | { kind: 'success' }
  | { kind: 'decline'; code: string; declineCode: string; message: string };
/** `processing` first (like a bank debit), then the final outcome after `processingDelayMs`. */
export type CardOutcome = FinalOutcome | { kind: 'processing'; settlesTo: FinalOutcome };

/**
 * How a refund of a charge made with a test card goes (https://docs.stripe.com/testing#refunds):
 * `pending` first, `succeeded` later (…7726); `succeeded` first, `failed` later (…5126); with every
 * other card "refunds succeed immediately and don't change status after that".
 */
export type RefundBehaviour = 'succeeds' | 'pending_then_succeeds' | 'succeeds_then_fails';

/**
 * How a test card answers 3D Secure (https://docs.stripe.com/payments/3d-secure#three-ds-cards):
 * `required` asks for authentication on every payment, `optional` only when the PaymentIntent
 * requests it (`payment_method_options[card][request_three_d_secure]` `any` / `challenge`); every
 * other card is not enrolled and never asks.
 */
export type ThreeDSecure = 'required' | 'optional';

interface TestCard {
  brand: string;
  last4: string;
  funding: 'credit' | 'debit';
  /** For a card that asks for 3D Secure: the outcome once the customer has authenticated. */
  outcome: CardOutcome;
  refund?: RefundBehaviour;
  threeDSecure?: ThreeDSecure;
}

const SUCCESS: FinalOutcome = { kind: 'success' };
const GENERIC_DECLINE_MESSAGE = 'Your card was declined.';

export function decline(code: string, declineCode: string, message = GENERIC_DECLINE_MESSAGE): FinalOutcome {
  return { kind: 'decline', code, declineCode, message };
}

/** Stripe's test PaymentMethod ids (https://docs.stripe.com/testing) the emulator knows. */
const TEST_CARDS: Record<string, TestCard> = {
  pm_card_visa: { brand: 'visa', last4: '4242', funding: 'credit', outcome: SUCCESS },
  pm_card_visa_debit: { brand: 'visa', last4: '5556', funding: 'debit', outcome: SUCCESS },
  pm_card_mastercard: { brand: 'mastercard', last4: '4444', funding: 'credit', outcome: SUCCESS },
  pm_card_amex: { brand: 'amex', last4: '8431', funding: 'credit', outcome: SUCCESS },
  pm_card_discover: { brand: 'discover', last4: '1117', funding: 'credit', outcome: SUCCESS },
  pm_card_pendingRefund: {
    brand: 'visa',
    last4: '7726',
    funding: 'credit',
    outcome: SUCCESS,
    refund: 'pending_then_succeeds',
  },
  pm_card_refundFail: {
    brand: 'visa',
    last4: '5126',
    funding: 'credit',
    outcome: SUCCESS,
    refund: 'succeeds_then_fails',
  },
  // 3D Secure (https://docs.stripe.com/testing#regulatory-cards and #three-ds-cards).
  pm_card_threeDSecure2Required: {
    brand: 'visa',
    last4: '3220',
    funding: 'credit',
    outcome: SUCCESS,
    threeDSecure: 'required',
  },
  pm_card_authenticationRequired: {
    brand: 'visa',
    last4: '3184',
    funding: 'credit',
    outcome: SUCCESS,
    threeDSecure: 'required',
  },
  pm_card_threeDSecureRequiredChargeDeclined: {
    brand: 'visa',
    last4: '1629',
    funding: 'credit',
    outcome: decline('card_declined', 'generic_decline'),
    threeDSecure: 'required',
  },
  pm_card_threeDSecureOptional: {
    brand: 'visa',
    last4: '3055',
    funding: 'credit',
    outcome: SUCCESS,
    threeDSecure: 'optional',
  },
  // Emulator-only (Stripe's cards settle synchronously): a charge that is `processing` before it
  // settles, so `payment_intent.processing` and a later succeeded / payment_failed event happen.
  pm_card_visa_processing: {
    brand: 'visa',
    last4: '4242',
    funding: 'credit',
    outcome: { kind: 'processing', settlesTo: SUCCESS },
  },
  pm_card_visa_processing_declined: {
    brand: 'visa',
    last4: '0002',
    funding: 'credit',
    outcome: { kind: 'processing', settlesTo: decline('card_declined', 'generic_decline') },
  },
  pm_card_chargeDeclined: {
    brand: 'visa',
    last4: '0002',
    funding: 'credit',
    outcome: decline('card_declined', 'generic_decline'),
  },
  pm_card_chargeDeclinedInsufficientFunds: {
    brand: 'visa',
    last4: '9995',
    funding: 'credit',
    outcome: decline('card_declined', 'insufficient_funds', 'Your card has insufficient funds.'),
  },
  pm_card_chargeDeclinedLostCard: {
    brand: 'visa',
    last4: '9987',
    funding: 'credit',
    outcome: decline('card_declined', 'lost_card'),
  },
  pm_card_chargeDeclinedStolenCard: {
    brand: 'visa',
    last4: '9979',
    funding: 'credit',
    outcome: decline('card_declined', 'stolen_card'),
  },
  pm_card_chargeDeclinedFraudulent: {
    brand: 'visa',
    last4: '0019',
    funding: 'credit',
    outcome: decline('card_declined', 'fraudulent'),
  },
  pm_card_chargeDeclinedExpiredCard: {
    brand: 'visa',
    last4: '0069',
    funding: 'credit',
    outcome: decline('expired_card', 'expired_card', 'Your card has expired.'),
  },
  pm_card_chargeDeclinedIncorrectCvc: {
    brand: 'visa',
    last4: '0127',
    funding: 'credit',
    outcome: decline('incorrect_cvc', 'incorrect_cvc', "Your card's security code is incorrect."),
  },
  pm_card_chargeDeclinedProcessingError: {
    brand: 'visa',
    last4: '0119',
    funding: 'credit',
    outcome: decline(
      'processing_error',
      'processing_error',
      'An error occurred while processing your card. Try again in a little bit.',
    ),
  },
};

export function isKnownPaymentMethod(id: string): boolean {
  return Object.hasOwn(TEST_CARDS, id);
}

export function cardOutcome(id: string): CardOutcome {
  return TEST_CARDS[id]?.outcome ?? SUCCESS;
}

export function threeDSecure(id: string): ThreeDSecure | null {
  return TEST_CARDS[id]?.threeDSecure ?? null;
}

export function refundBehaviour(id: string | null): RefundBehaviour {
  return (id === null ? undefined : TEST_CARDS[id]?.refund) ?? 'succeeds';
}

/** A Stripe-shaped PaymentMethod object for a known test id (used in decline errors). */
export function paymentMethodObject(id: string): Record<string, unknown> {
  const card = TEST_CARDS[id];
  const expYear = new Date().getUTCFullYear() + 1;
  return {
    id,
    object: 'payment_method',
    allow_redisplay: 'unspecified',
    billing_details: {
      address: { city: null, country: null, line1: null, line2: null, postal_code: null, state: null },
      email: null,
      name: null,
      phone: null,
    },
    card: {
      brand: card?.brand ?? 'unknown',
      checks: { address_line1_check: null, address_postal_code_check: null, cvc_check: null },
      country: 'US',
      display_brand: card?.brand ?? 'unknown',
      exp_month: 12,
      exp_year: expYear,
      funding: card?.funding ?? 'credit',
      last4: card?.last4 ?? '0000',
      networks: { available: [card?.brand ?? 'unknown'], preferred: null },
      wallet: null,
    },
    created: nowSeconds(),
    customer: null,
    livemode: false,
    metadata: {},
    type: 'card',
  };
}
