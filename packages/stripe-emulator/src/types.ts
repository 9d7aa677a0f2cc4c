/** Public API types of the emulator (re-exported from the package entry point). */
import type { ChargeObject } from './charge-object';
import type { FaultPlan, FaultRule, FaultStatus } from './faults';
import type { RefundObject } from './refund-object';
import type { NextAction } from './three-d-secure';

export interface EmulatorOptions {
  /** 0 or undefined = any free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Delay applied before executing each API request (default 0). */
  latencyMs?: number;
  /** Seeds every random choice (fault probabilities, webhook duplicates/reordering). Default 0. */
  seed?: number;
  /** Fault plan in force from the start (see README). */
  faults?: FaultPlan | FaultRule[];
  /** Completed idempotency keys older than this are forgotten (default: never; Stripe: >= 24 h). */
  idempotencyKeyTtlMs?: number | null;
  /** How long `pm_card_visa_processing*` PaymentIntents stay `processing` (default 1000 ms). */
  processingDelayMs?: number;
  /**
   * How long a refund of a `pm_card_pendingRefund` / `pm_card_refundFail` charge keeps its first
   * status (`pending` / `succeeded`) before it becomes `succeeded` / `failed` (default 1000 ms).
   */
  refundDelayMs?: number;
  /**
   * How long a manual-capture authorization (`requires_capture`) can be captured before it is
   * canceled with `cancellation_reason: 'automatic'` (default 7 days, Stripe's online card window).
   */
  authorizationTtlMs?: number;
  /** Persist state here (atomically, temp file + rename) and load it at start. */
  stateFile?: string;
  /** Where webhook events are POSTed (default: none, events are only recorded). */
  webhookUrl?: string | null;
  /** Signing secret (`whsec_...`); default: a random one, see `webhookConfig().secret`. */
  webhookSecret?: string;
  /** Delivery tuning (retries, duplicates, delay, reordering). `webhookUrl`/`webhookSecret` win. */
  webhooks?: Partial<WebhookConfig>;
}

export interface WebhookConfig {
  /** http(s) URL events are POSTed to; null = deliver nothing (events are still recorded). */
  url: string | null;
  /** `whsec_...`: the HMAC-SHA256 key of `Stripe-Signature`'s v1, exactly as Stripe uses it. */
  secret: string;
  /** Event types to deliver; `['*']` (default) = all. */
  enabledEvents: string[];
  /** Attempts per delivery, first included (default 8); then it is given up. */
  maxAttempts: number;
  /** Backoff before retry n (1-based): min(retryMaxMs, retryBaseMs * 2^(n-1)). Default 500. */
  retryBaseMs: number;
  /** Default 30000. */
  retryMaxMs: number;
  /** Per-attempt timeout; a timeout counts as a failed attempt (default 10000). */
  timeoutMs: number;
  /** Extra delay before a delivery's first attempt (default 0). */
  delayMs: number;
  /** Chance (0..1) that an event is delivered twice (two independent deliveries). 1 = always. */
  duplicateProbability: number;
  /** > 0: deliveries are held for this window, then released in a seeded random order. Default 0. */
  reorderWindowMs: number;
}

/** One delivery attempt, as logged by `webhookDeliveries()`. */
export interface WebhookAttempt {
  /** `whd_...`: one per (event, copy); a duplicate is a second delivery of the same event. */
  deliveryId: string;
  eventId: string;
  eventType: string;
  /** 1-based attempt number within the delivery. */
  attempt: number;
  duplicate: boolean;
  url: string;
  /** HTTP status, or null when the connection failed / timed out. */
  statusCode: number | null;
  error: string | null;
  /** 2xx. */
  ok: boolean;
  /** No further attempt for this delivery will be made (delivered, or attempts exhausted). */
  final: boolean;
  /** When the attempt started (ms since epoch). */
  at: number;
}

/** What an event is about: `payment_intent.*` → PaymentIntent, `refund.*` and `charge.refund.updated` → Refund, `charge.refunded` → Charge. */
export type EventObject = PaymentIntentObject | RefundObject | ChargeObject;

/** Stripe's event object. */
export interface StripeEvent {
  id: string;
  object: 'event';
  api_version: string;
  created: number;
  data: { object: EventObject; previous_attributes?: Record<string, unknown> };
  livemode: false;
  pending_webhooks: number;
  request: { id: string | null; idempotency_key: string | null };
  type: string;
}

export interface EmulatedPaymentIntent {
  id: string;
  amount: number;
  currency: string;
  /** 'succeeded' | 'requires_payment_method' | 'requires_confirmation' | 'requires_action' | 'requires_capture' | 'processing' | 'canceled' */
  status: string;
  capture_method: string;
  /** Held and not captured yet (manual capture, `requires_capture`). */
  amount_capturable: number;
  /** Taken: the amount once succeeded, or what a partial capture took. */
  amount_received: number;
  /** Why it was canceled (`automatic` when a hold lapsed, `abandoned`, ...); null otherwise. */
  cancellation_reason: string | null;
  payment_method: string | null;
  metadata: Record<string, string>;
  created: number;
  /** The Idempotency-Key header of the request that created the PaymentIntent, if any. */
  idempotency_key: string | null;
  last_payment_error: { code: string; decline_code?: string; message: string } | null;
}

/** A ledger row of `refunds()`: one refund, as it stands now. */
export interface EmulatedRefund {
  id: string;
  amount: number;
  currency: string;
  /** 'pending' | 'succeeded' | 'failed' */
  status: string;
  payment_intent: string;
  charge: string;
  reason: string | null;
  /** Set once a refund has failed (`expired_or_canceled_card` for `pm_card_refundFail`). */
  failure_reason: string | null;
  metadata: Record<string, string>;
  created: number;
  /** The Idempotency-Key header of the request that created the refund, if any. */
  idempotency_key: string | null;
}

export interface StripeEmulator {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  port: number;
  host: string;
  setLatency(ms: number): void;
  /** The ledger: every PaymentIntent ever created, in creation order (snapshots). */
  paymentIntents(): EmulatedPaymentIntent[];
  /** Every refund ever created, in creation order (snapshots). */
  refunds(): EmulatedRefund[];
  /** API (`/v1/*`) requests received, whatever their outcome. */
  requestCount(): number;
  /**
   * Clear all state (PaymentIntents, refunds, idempotency keys, events, pending deliveries and the delivery
   * log, request and fault counts). Configuration (latency, fault plan — rewound —, webhooks) stays.
   */
  reset(): void;
  /** Replace the fault plan (counters and PRNG start over). */
  setFaults(plan: FaultPlan | FaultRule[]): void;
  clearFaults(): void;
  /** Faults applied since start / reset (setFaults does not zero it). */
  faultsApplied(): number;
  /** The plan, per-rule counters and the recent application log. */
  faultStatus(): FaultStatus;
  /** Forget completed idempotency keys at least `olderThanMs` old (default: the TTL, else 0 = all). */
  pruneIdempotencyKeys(olderThanMs?: number): number;
  setIdempotencyKeyTtl(ms: number | null): void;
  /** Update webhook delivery settings; returns the full resulting config. */
  configureWebhooks(patch: Partial<WebhookConfig>): WebhookConfig;
  webhookConfig(): WebhookConfig;
  /** Every delivery attempt so far, in order. */
  webhookDeliveries(): WebhookAttempt[];
  /** Resolves once no delivery is pending, held or in flight; rejects after `timeoutMs` (default 10 s). */
  drainWebhooks(timeoutMs?: number): Promise<void>;
  /** Every event emitted, oldest first. */
  events(): StripeEvent[];
  setProcessingDelay(ms: number): void;
  /** Change `refundDelayMs` (for refunds created from now on). */
  setRefundDelay(ms: number): void;
  /** Change `authorizationTtlMs` (for authorizations made from now on). */
  setAuthorizationTtl(ms: number): void;
  /** What the challenge page's Complete button does, for the PaymentIntent's pending 3D Secure challenge. */
  completeChallenge(paymentIntentId: string): ChallengeOutcome;
  /** What the challenge page's Fail button does. */
  failChallenge(paymentIntentId: string): ChallengeOutcome;
  /** From now on the key gets Stripe's 401 `api_key_expired`, as a rolled key once expired (until `reset()`). */
  expireApiKey(key: string): void;
  /** Write the state file now (no-op without `stateFile`). Writes also happen on every change. */
  save(): void;
  /** Stop listening; destroys open sockets so it never hangs on in-flight or slow requests. */
  close(): Promise<void>;
}

/** What settling a 3D Secure challenge (page, handle or admin route) did. */
export interface ChallengeOutcome {
  /** The PaymentIntent after it. */
  paymentIntent: PaymentIntentObject;
  /** False when no challenge was pending (already settled, superseded, canceled): nothing changed. */
  changed: boolean;
  /** Where the page redirects: `return_url` with Stripe's query parameters; null without one. */
  redirectUrl: string | null;
}

/** A decoded form / query value: Stripe's bracket nesting yields strings, arrays and objects. */
export type ParamValue = string | ParamValue[] | Params;
export interface Params {
  [key: string]: ParamValue;
}

/**
 * The Stripe API shape of a PaymentIntent, as the emulator serves it: every field of stripe-node's
 * `Stripe.PaymentIntent` (test/objects.test.ts fails to typecheck when one is missing), with the
 * values Stripe gives a card PaymentIntent without Connect, Managed Payments or Adaptive Pricing.
 */
export interface PaymentIntentObject {
  id: string;
  object: 'payment_intent';
  allowed_payment_method_types: string[] | null;
  amount: number;
  amount_capturable: number;
  amount_details: { tip: Record<string, never> };
  amount_received: number;
  application: null;
  application_fee_amount: number | null;
  automatic_payment_methods: { allow_redirects?: 'always' | 'never'; enabled: boolean } | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: string;
  client_secret: string;
  confirmation_method: string;
  created: number;
  currency: string;
  customer: string | null;
  customer_account: string | null;
  description: string | null;
  excluded_payment_method_types: string[] | null;
  /** Optional in Stripe's schema and absent from its card PaymentIntents; served empty. */
  hooks: Record<string, never>;
  last_payment_error: LastPaymentError | null;
  latest_charge: string | null;
  livemode: false;
  managed_payments: { enabled: boolean };
  metadata: Record<string, string>;
  next_action: NextAction | null;
  on_behalf_of: null;
  /** Optional in Stripe's schema and absent from its card PaymentIntents; served with nulls. */
  payment_details: { customer_reference: string | null; order_reference: string | null };
  payment_method: string | null;
  payment_method_configuration_details: { id: string; parent: string | null } | null;
  payment_method_options: { card: CardPaymentMethodOptions };
  payment_method_types: string[];
  payment_record: null;
  /** Optional in Stripe's schema (set by Adaptive Pricing); served as the PaymentIntent's own. */
  presentment_details: { presentment_amount: number; presentment_currency: string };
  processing: null;
  receipt_email: string | null;
  review: null;
  setup_future_usage: string | null;
  shipping: ShippingDetails | null;
  source: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: string;
  transfer_data: null;
  transfer_group: string | null;
}

/** `payment_method_options.card` as Stripe returns it for a card PaymentIntent. */
export interface CardPaymentMethodOptions {
  installments: null;
  mandate_options: null;
  network: null;
  request_three_d_secure: 'automatic' | 'any' | 'challenge';
}

export interface ShippingDetails {
  address: {
    city: string | null;
    country: string | null;
    line1: string | null;
    line2: string | null;
    postal_code: string | null;
    state: string | null;
  };
  carrier: string | null;
  name: string;
  phone: string | null;
  tracking_number: string | null;
}

/** A decline (`card_error`, with its charge) or a failed 3D Secure authentication (no charge). */
export interface LastPaymentError {
  type: 'card_error' | 'invalid_request_error';
  code: string;
  decline_code?: string;
  message: string;
  doc_url: string;
  charge?: string;
  payment_method: Record<string, unknown>;
}
