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
export type { ChargeRequest, ChargeResult, PaymentGateway } from './gateway';
export type { Order } from './order-row';
export * from './order-state';
export { createOrder, getOrder, listOrders, type PaymentAttempt } from './orders';
export { type PayInput, type PayOutcome, payOrder } from './pay';
export {
  classifyStripeError,
  createStripeClient,
  createStripeGateway,
  fromPaymentIntent,
  STRIPE_API_VERSION,
  type StripeGatewayConfig,
} from './stripe-gateway';
