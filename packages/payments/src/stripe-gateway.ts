import Stripe from 'stripe';
import type { ChargeRequest, ChargeResult, PaymentGateway } from './gateway';

/** Pinned: a Stripe account upgrade must not change the shapes this code reads. */
export const STRIPE_API_VERSION = '2026-10-28.endive';

export interface StripeGatewayConfig {
  secretKey: string;
  /** e.g. `http://127.0.0.1:12111` for the emulator; unset for api.stripe.com. */
  apiBase?: string;
  /** Per-request timeout. A timeout is an unknown outcome, not a failure. */
  timeoutMs?: number;
  /** SDK-level retries; each retry reuses the idempotency key, so they are safe. */
  maxNetworkRetries?: number;
}

export function createStripeClient(config: StripeGatewayConfig): Stripe {
  const base = config.apiBase ? new URL(config.apiBase) : undefined;
  return new Stripe(config.secretKey, {
    apiVersion: STRIPE_API_VERSION as Stripe.LatestApiVersion,
    timeout: config.timeoutMs ?? 20_000,
    maxNetworkRetries: config.maxNetworkRetries ?? 2,
    telemetry: false,
    ...(base
      ? {
          host: base.hostname,
          port: Number(base.port || (base.protocol === 'https:' ? 443 : 80)),
          protocol: base.protocol === 'https:' ? 'https' : 'http',
        }
      : {}),
  });
}

export function createStripeGateway(
  config: StripeGatewayConfig,
  client = createStripeClient(config),
): PaymentGateway {
  return {
    async charge(request: ChargeRequest): Promise<ChargeResult> {
      try {
        const intent = await client.paymentIntents.create(
          {
            amount: request.amount,
            currency: request.currency,
            payment_method: request.paymentMethodId,
            confirm: true,
            // Server-side confirmation only: no redirect-based methods, so no return_url needed.
            automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
            metadata: request.metadata,
          },
          { idempotencyKey: request.idempotencyKey },
        );
        return fromPaymentIntent(intent);
      } catch (err) {
        return classifyStripeError(err);
      }
    },
  };
}

/** Stripe PaymentIntent statuses mapped to ours, in one place. */
export function fromPaymentIntent(intent: Stripe.PaymentIntent): ChargeResult {
  switch (intent.status) {
    case 'succeeded':
      return { kind: 'succeeded', paymentIntentId: intent.id };
    case 'requires_action':
      return { kind: 'requires_action', paymentIntentId: intent.id };
    case 'requires_payment_method':
    case 'canceled': {
      const error = intent.last_payment_error;
      return {
        kind: 'declined',
        paymentIntentId: intent.id,
        code: error?.code ?? intent.status,
        declineCode: error?.decline_code ?? error?.code ?? intent.status,
        message: error?.message ?? '',
      };
    }
    case 'processing':
    case 'requires_capture':
    case 'requires_confirmation':
      // Not final yet: the webhook or the recovery worker settles it.
      return { kind: 'unknown', reason: `payment_intent_${intent.status}`, paymentIntentId: intent.id };
    default:
      return {
        kind: 'unknown',
        reason: `payment_intent_${String(intent.status)}`,
        paymentIntentId: intent.id,
      };
  }
}

/**
 * Stripe errors classified once: declined (terminal), rejected before execution (terminal,
 * nothing charged), or indeterminate (resolve later with the same key).
 */
export function classifyStripeError(err: unknown): ChargeResult {
  if (err instanceof Stripe.errors.StripeCardError) {
    return {
      kind: 'declined',
      paymentIntentId: err.payment_intent?.id ?? null,
      code: err.code ?? 'card_declined',
      declineCode: err.decline_code ?? err.code ?? 'generic_decline',
      message: err.message,
    };
  }
  if (err instanceof Stripe.errors.StripeIdempotencyError) {
    // 409 idempotency_key_in_use: another request with this key is executing; 400: a bug on our
    // side (same key, other parameters). Either way the key's first request decides the outcome.
    return { kind: 'unknown', reason: err.code ?? 'idempotency_error' };
  }
  if (
    err instanceof Stripe.errors.StripeInvalidRequestError ||
    err instanceof Stripe.errors.StripeAuthenticationError ||
    err instanceof Stripe.errors.StripePermissionError
  ) {
    // Rejected before execution (4xx other than 402/409/429): nothing was charged.
    return { kind: 'rejected', code: err.code ?? err.type, message: err.message };
  }
  // Connection errors, timeouts, 429 after retries, 5xx: the charge may or may not have happened.
  const reason =
    err instanceof Stripe.errors.StripeError
      ? `${err.type}${err.statusCode ? `_${err.statusCode}` : ''}`
      : 'error';
  return { kind: 'unknown', reason };
}
