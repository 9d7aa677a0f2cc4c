export type { ChargeObject } from './charge-object';
export type { AppliedFault, FaultKind, FaultPlan, FaultRule, FaultStatus } from './faults';
export { createRandom, createRng, type Random, type Rng } from './prng';
export type { RefundObject, RefundStatus } from './refund-object';
export { startStripeEmulator } from './server';
export type { NextAction } from './three-d-secure';
export type {
  ChallengeOutcome,
  EmulatedPaymentIntent,
  EmulatedRefund,
  EmulatorOptions,
  EventObject,
  PaymentIntentObject,
  StripeEmulator,
  StripeEvent,
  WebhookAttempt,
  WebhookConfig,
} from './types';
export { signatureHeader } from './webhook-config';

/**
 * A key the emulator accepts (any `sk_test_...` does), used by chargeonce's in-process emulator and
 * its tests alike: idempotency keys are scoped per secret key, so everyone must use the same one.
 * Not a secret: the emulator is local and fake.
 */
export const EMULATOR_SECRET_KEY = 'sk_test_chargeonce_emulator';
