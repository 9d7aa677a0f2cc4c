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
  /** The customer must act (3-D Secure); the outcome arrives later. */
  | { kind: 'requires_action'; paymentIntentId: string }
  /**
   * We do not know whether money moved: timeout, connection reset, provider 5xx, the key still in
   * use by another request. Resolved later with the same idempotency key, never reported as a failure.
   */
  | { kind: 'unknown'; reason: string; paymentIntentId?: string };

export interface PaymentGateway {
  charge(request: ChargeRequest): Promise<ChargeResult>;
}
