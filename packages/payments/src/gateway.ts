/**
 * The payment provider boundary. The domain sees only `PaymentGateway` and the closed set of
 * `ChargeResult`s; everything Stripe-specific (status names, error classes) is translated here,
 * once.
 */
export interface ChargeRequest {
  amount: number;
  currency: string;
  paymentMethodId: string;
  /** Derived from order id + claim version: every retry of one claim sends the same key. */
  idempotencyKey: string;
  metadata: Record<string, string>;
  /** `manual`: authorize only (the PaymentIntent waits in `requires_capture`). */
  captureMethod: 'automatic' | 'manual';
  /**
   * Where the customer returns after a 3-D Secure challenge. Null: nobody can complete one, so a
   * card that asks for it fails as a decline (`authentication_required`).
   */
  returnUrl: string | null;
}

export type ChargeResult =
  /** Money moved (`amountReceived`: what was taken, less than the amount after a partial capture). */
  | { kind: 'succeeded'; paymentIntentId: string; amountReceived?: number | undefined }
  /** Manual capture: the funds are held (`requires_capture`) until captured or released. */
  | { kind: 'authorized'; paymentIntentId: string; amountCapturable: number }
  /**
   * The PaymentIntent was canceled: nothing is charged or held any more (`reason`: Stripe's
   * `cancellation_reason`, e.g. `automatic` when a hold lapsed, `abandoned`, `requested_by_customer`).
   */
  | { kind: 'canceled'; paymentIntentId: string; reason: string }
  /** The issuer said no. Terminal for this attempt; nothing was charged. */
  | {
      kind: 'declined';
      paymentIntentId: string | null;
      code: string;
      declineCode: string;
      message: string;
    }
  /** The provider refused the request before executing it (bad payment method, bad amount). */
  | { kind: 'rejected'; code: string; message: string }
  /**
   * The provider refused us, not the payment (bad or revoked API key, missing permission): nothing
   * was charged, and it is an outage on our side, not the customer's problem.
   */
  | { kind: 'unavailable'; reason: string }
  /** The customer must act (3-D Secure) at `redirectUrl`; the outcome arrives later. */
  | { kind: 'requires_action'; paymentIntentId: string; redirectUrl: string | null }
  /**
   * We do not know whether money moved: timeout, connection reset, provider 5xx, the key still in
   * use by another request. Resolved later with the same idempotency key, never reported as a failure.
   */
  | { kind: 'unknown'; reason: string; paymentIntentId?: string };

export type LookupResult = ChargeResult | { kind: 'not_found' };

export interface FindOptions {
  /**
   * Make `not_found` trustworthy: scan the (immediately consistent) list of PaymentIntents created
   * since this time instead of using search, whose index can lag by minutes. Needed before
   * concluding that nothing was ever charged.
   */
  consistentSince?: Date;
}

export interface RefundRequest {
  paymentIntentId: string;
  amount: number;
  reason: string | null;
  /** Derived from the refund row's id: every retry of one refund sends the same key. */
  idempotencyKey: string;
  metadata: Record<string, string>;
}

export type RefundResult =
  /** The money went back. */
  | { kind: 'succeeded'; refundId: string }
  /** The provider accepted the refund; its outcome arrives later (webhook, or a later read). */
  | { kind: 'pending'; refundId: string }
  /** The provider could not refund (e.g. the card is closed); nothing was given back. */
  | { kind: 'failed'; refundId: string; reason: string }
  /** Refused before executing (e.g. more than the unrefunded amount): nothing was refunded. */
  | { kind: 'rejected'; code: string; message: string }
  /** The provider refused our credentials before executing: nothing was refunded. */
  | { kind: 'unavailable'; reason: string }
  /** Not known whether the refund was made: resolved later with the same idempotency key. */
  | { kind: 'unknown'; reason: string };

/** What reconciliation and recovery read of a PaymentIntent's refunds. */
export interface ProviderRefund {
  id: string;
  status: 'succeeded' | 'pending' | 'failed';
  amount: number;
  failureReason: string | null;
  metadata: Record<string, string>;
}

export interface RefundGateway {
  /** Creates a refund of a PaymentIntent with the request's idempotency key. */
  refund(request: RefundRequest): Promise<RefundResult>;
  /** A refund's current state. A read that fails is `unknown`, never a failure. */
  retrieveRefund(refundId: string): Promise<RefundResult>;
  /** Every refund of a PaymentIntent (the provider's list is immediately consistent). */
  listRefunds(paymentIntentId: string): Promise<ProviderRefund[] | { kind: 'unknown'; reason: string }>;
}

/** A capture or a release of an authorization, keyed from its `captures` row. */
export interface AuthorizationRequest {
  paymentIntentId: string;
  idempotencyKey: string;
}

export interface AuthorizationGateway {
  /** Captures a held PaymentIntent (`amount`: part of it, the rest released; absent: all of it). */
  capture(request: AuthorizationRequest & { amount: number | null }): Promise<ChargeResult>;
  /** Cancels a PaymentIntent that holds funds or awaits the customer, releasing it. */
  cancel(
    request: AuthorizationRequest & { reason: 'requested_by_customer' | 'abandoned' },
  ): Promise<ChargeResult>;
}

export interface PaymentGateway extends RefundGateway, AuthorizationGateway {
  /** Creates and confirms a PaymentIntent with the request's idempotency key. */
  charge(request: ChargeRequest): Promise<ChargeResult>;
  /** The PaymentIntent's current state: what counts when webhooks arrive late or out of order. */
  retrieve(paymentIntentId: string): Promise<ChargeResult>;
  /**
   * The PaymentIntent an attempt created, found by its metadata (`attempt_id`). Used past the
   * provider's idempotency-key window, where repeating the create could charge a second time.
   */
  findByAttempt(attemptId: string, options?: FindOptions): Promise<LookupResult>;
  /** Every PaymentIntent created in [from, to] (unix seconds), for reconciliation. */
  listPaymentIntents(window: { from: number; to: number }): AsyncIterable<ProviderPaymentIntent>;
}

/** What reconciliation compares with the database. */
export interface ProviderPaymentIntent {
  id: string;
  status: string;
  amount: number;
  /** What was taken (less than `amount` after a partial capture). */
  amountReceived: number;
  currency: string;
  created: number;
  metadata: Record<string, string>;
}
