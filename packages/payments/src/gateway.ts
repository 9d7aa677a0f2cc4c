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
}

export type ChargeResult =
  /** Money moved. */
  | { kind: 'succeeded'; paymentIntentId: string }
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
  /** The customer must act (3-D Secure); the outcome arrives later. */
  | { kind: 'requires_action'; paymentIntentId: string }
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

export interface PaymentGateway {
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
  currency: string;
  created: number;
  metadata: Record<string, string>;
}
