export {
  type AttemptOutcome,
  type ClaimResult,
  claimOrder,
  finalizeAttempt,
  idempotencyKeyFor,
  summarizeProcessingAttempts,
} from './attempts';
export { type BackoffPolicy, fullJitterDelay } from './backoff';
export {
  DEFAULT_PAY_POLICY,
  type Logger,
  noopLogger,
  type PayHooks,
  type PaymentsDeps,
  type PayPolicy,
} from './deps';
export { DomainError, type DomainErrorCode, type DomainErrorDetails, isDomainError } from './errors';
export type {
  ChargeRequest,
  ChargeResult,
  LookupResult,
  PaymentGateway,
  ProviderPaymentIntent,
} from './gateway';
export type { Order } from './order-row';
export * from './order-state';
export { createOrder, getOrder, listOrders, type PaymentAttempt } from './orders';
export { type PayInput, type PayOutcome, payOrder } from './pay';
export { type Finding, type FindingKind, type ReconcileReport, reconcile } from './reconcile';
export {
  DEFAULT_RECOVERY_POLICY,
  type LeasedAttempt,
  leaseStaleAttempts,
  outcomeFromProvider,
  type RecoveryPolicy,
  type RecoveryReport,
  type RecoveryResult,
  recoverAttempt,
  runRecovery,
} from './recover';
export {
  classifyStripeError,
  createStripeClient,
  createStripeGateway,
  createWebhookVerifier,
  fromPaymentIntent,
  STRIPE_API_VERSION,
  type StripeGatewayConfig,
  WEBHOOK_TOLERANCE_SECONDS,
} from './stripe-gateway';
export { applyPaymentIntentEvent, type EventResult, type PaymentIntentEvent } from './webhook';
