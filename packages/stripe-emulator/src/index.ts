export type { AppliedFault, FaultKind, FaultPlan, FaultRule, FaultStatus } from './faults';
export { startStripeEmulator } from './server';
export type {
  EmulatedPaymentIntent,
  EmulatorOptions,
  StripeEmulator,
  StripeEvent,
  WebhookAttempt,
  WebhookConfig,
} from './types';
export { signatureHeader } from './webhook-config';
