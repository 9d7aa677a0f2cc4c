/** Public API types of the emulator (re-exported from the package entry point). */

export interface EmulatorOptions {
  /** 0 or undefined = any free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Delay applied before executing each API request (default 0). */
  latencyMs?: number;
}

export interface EmulatedPaymentIntent {
  id: string;
  amount: number;
  currency: string;
  /** 'succeeded' | 'requires_payment_method' | 'requires_confirmation' | 'requires_capture' | 'canceled' */
  status: string;
  payment_method: string | null;
  metadata: Record<string, string>;
  created: number;
  /** The Idempotency-Key header of the request that created the PaymentIntent, if any. */
  idempotency_key: string | null;
  last_payment_error: { code: string; decline_code?: string; message: string } | null;
}

export interface StripeEmulator {
  /** 'http://127.0.0.1:<port>' */
  url: string;
  port: number;
  host: string;
  setLatency(ms: number): void;
  /** The ledger: every PaymentIntent ever created, in creation order (snapshots). */
  paymentIntents(): EmulatedPaymentIntent[];
  /** API (`/v1/*`) requests received, whatever their outcome. */
  requestCount(): number;
  /** Clear all state (PaymentIntents, idempotency keys, request count). */
  reset(): void;
  /** Stop listening; destroys open sockets so it never hangs on in-flight or slow requests. */
  close(): Promise<void>;
}

/** A decoded form / query value: Stripe's bracket nesting yields strings, arrays and objects. */
export type ParamValue = string | ParamValue[] | Params;
export interface Params {
  [key: string]: ParamValue;
}

/** The Stripe API shape of a PaymentIntent, as the emulator serves it. */
export interface PaymentIntentObject {
  id: string;
  object: 'payment_intent';
  amount: number;
  amount_capturable: number;
  amount_details: { tip: Record<string, never> };
  amount_received: number;
  application: null;
  application_fee_amount: number | null;
  automatic_payment_methods: { enabled: boolean; allow_redirects?: string } | null;
  canceled_at: number | null;
  cancellation_reason: string | null;
  capture_method: string;
  client_secret: string;
  confirmation_method: string;
  created: number;
  currency: string;
  customer: string | null;
  description: string | null;
  last_payment_error: LastPaymentError | null;
  latest_charge: string | null;
  livemode: false;
  metadata: Record<string, string>;
  next_action: null;
  on_behalf_of: null;
  payment_method: string | null;
  payment_method_configuration_details: null;
  payment_method_options: Record<string, unknown>;
  payment_method_types: string[];
  processing: null;
  receipt_email: string | null;
  review: null;
  setup_future_usage: string | null;
  shipping: null;
  source: null;
  statement_descriptor: string | null;
  statement_descriptor_suffix: string | null;
  status: string;
  transfer_data: null;
  transfer_group: string | null;
}

export interface LastPaymentError {
  type: 'card_error';
  code: string;
  decline_code?: string;
  message: string;
  doc_url: string;
  charge: string;
  payment_method: Record<string, unknown>;
}
