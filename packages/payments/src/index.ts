export { chargeRequestFor, summarizeProcessingAttempts } from './attempts';
export { type BackoffPolicy, fullJitterDelay } from './backoff';
export { type CancelAnswer, cancelOrder } from './cancel';
export { type CaptureAnswer, type CaptureInput, captureOrder, voidOrder } from './capture';
export {
  type CaptureRecoveryReport,
  type CaptureRecoveryResult,
  runCaptureRecovery,
  summarizeOpenAuthorizations,
} from './capture-recover';
export {
  type AuthorizationOutcome,
  type Capture,
  captureKeyFor,
  capturesOf,
  findCapture,
  settleAuthorization,
} from './capture-store';
export { currentChallenge, refreshChallenge } from './challenge';
export { MAXIMUM_CHARGE, minimumChargeAmount } from './charge-limits';
export { type ClaimParams, type ClaimResult, claimOrder, idempotencyKeyFor } from './claim';
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
  AuthorizationGateway,
  AuthorizationRequest,
  ChargeRequest,
  ChargeResult,
  LookupResult,
  PaymentGateway,
  ProviderPaymentIntent,
  ProviderRefund,
  RefundGateway,
  RefundRequest,
  RefundResult,
} from './gateway';
export {
  type Awaiting,
  type AwaitingItem,
  findRecoverTarget,
  listAwaiting,
  type RecoverKind,
  type RecoverOneAnswer,
  type RecoverOneOutcome,
  recoverOne,
} from './operations';
export {
  audited,
  createRefusalRecorder,
  latestOperatorActions,
  latestReconciliationRuns,
  latestWebhookRefusals,
  MAX_REFUSALS_PER_MINUTE,
  MAX_STORED_FINDINGS,
  type OperatorAction,
  type ReconcileTrigger,
  type ReconciliationRun,
  type RefusalRecorder,
  reconcileAndRecord,
  type WebhookRefusal,
  type WebhookRefusalReason,
} from './operations-log';
export { createOrder, findOrder, getOrder, listOrders, type Order, type PaymentAttempt } from './orders';
export { attemptOutcome, failureError } from './outcome';
export { type PayInput, type PayOutcome, payOrder } from './pay';
export {
  DEFAULT_RECONCILE_WINDOW_MS,
  type Finding,
  type FindingKind,
  type ReconcileReport,
  reconcile,
} from './reconcile';
export {
  DEFAULT_RECOVERY_POLICY,
  type LeasedAttempt,
  leaseStaleAttempts,
  MAX_KEY_WINDOW_MS,
  type RecoveryPolicy,
  type RecoveryReport,
  type RecoveryResult,
  recoverAttempt,
  runRecovery,
} from './recover';
export {
  type RefundAnswer,
  type RefundInput,
  refundOrder,
  refundOutcome,
  refundRequestFor,
} from './refund';
export {
  type LeasedRefund,
  leasePendingRefunds,
  type RefundRecoveryReport,
  type RefundRecoveryResult,
  recoverRefund,
  runRefundRecovery,
  summarizePendingRefunds,
} from './refund-recover';
export {
  findRefund,
  findRefundByProvider,
  type Refund,
  type RefundOutcome,
  refundKeyFor,
  refundsOf,
  settleRefund,
} from './refund-store';
export {
  ABANDONED_CODE,
  type AttemptOutcome,
  finalizeAttempt,
  PROVIDER_UNAVAILABLE_CODE,
} from './settle';
export {
  type CallResult,
  createStripeClient,
  defaultCallTimeoutMs,
  runCall,
  STRIPE_API_VERSION,
  STRIPE_DEFAULTS,
  STRIPE_KEY_RETENTION_MS,
  type StripeGatewayConfig,
} from './stripe-client';
export { classifyStripeError, createStripeGateway, fromPaymentIntent } from './stripe-gateway';
export { fromRefund } from './stripe-refunds';
export { createWebhookVerifier, WEBHOOK_TOLERANCE_SECONDS } from './stripe-webhooks';
export { applyPaymentIntentEvent, type EventResult, type PaymentIntentEvent } from './webhook';
