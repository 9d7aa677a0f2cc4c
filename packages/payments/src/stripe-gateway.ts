import Stripe from 'stripe';
import type {
  ChargeRequest,
  ChargeResult,
  FindOptions,
  LookupResult,
  PaymentGateway,
  ProviderPaymentIntent,
} from './gateway';
import type { PaymentIntentEvent } from './webhook';

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
            // No customer is present to complete 3-D Secure: fail fast as a decline instead of
            // parking the order in requires_action, so the customer can pay with another card.
            error_on_requires_action: true,
            metadata: request.metadata,
          },
          { idempotencyKey: request.idempotencyKey },
        );
        return fromPaymentIntent(intent);
      } catch (err) {
        return classifyStripeError(err);
      }
    },

    async retrieve(paymentIntentId: string): Promise<ChargeResult> {
      try {
        return fromPaymentIntent(await client.paymentIntents.retrieve(paymentIntentId));
      } catch (err) {
        const result = classifyStripeError(err);
        // A lookup that fails says nothing about the payment: never turn it into a decline.
        return result.kind === 'unknown' ? result : { kind: 'unknown', reason: `retrieve_${result.kind}` };
      }
    },

    async *listPaymentIntents(window: { from: number; to: number }): AsyncIterable<ProviderPaymentIntent> {
      for await (const pi of client.paymentIntents.list({
        created: { gte: window.from, lte: window.to },
        limit: 100,
      })) {
        yield {
          id: pi.id,
          status: pi.status,
          amount: pi.amount,
          currency: pi.currency,
          created: pi.created,
          metadata: pi.metadata ?? {},
        };
      }
    },

    async findByAttempt(attemptId: string, options: FindOptions = {}): Promise<LookupResult> {
      try {
        // One attempt has one idempotency key, so at most one PaymentIntent; prefer a success if
        // there were ever more.
        const matches: Stripe.PaymentIntent[] = [];
        if (options.consistentSince) {
          const gte = Math.floor(options.consistentSince.getTime() / 1000);
          for await (const pi of client.paymentIntents.list({ created: { gte }, limit: 100 })) {
            if (pi.metadata?.attempt_id === attemptId) matches.push(pi);
          }
        } else {
          const found = await client.paymentIntents.search({
            query: `metadata['attempt_id']:'${attemptId.replace(/'/g, '')}'`,
            limit: 10,
          });
          matches.push(...found.data);
        }
        const intent = matches.find((pi) => pi.status === 'succeeded') ?? matches[0];
        return intent ? fromPaymentIntent(intent) : { kind: 'not_found' };
      } catch (err) {
        const result = classifyStripeError(err);
        return result.kind === 'unknown' ? result : { kind: 'unknown', reason: `lookup_${result.kind}` };
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
    err instanceof Stripe.errors.StripeAuthenticationError ||
    err instanceof Stripe.errors.StripePermissionError
  ) {
    // Never pass Stripe's message on: it names the (masked) key.
    return { kind: 'unavailable', reason: err.type };
  }
  if (err instanceof Stripe.errors.StripeInvalidRequestError) {
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

/** Stripe's default: a signed event older (or newer) than this is refused, against replays. */
export const WEBHOOK_TOLERANCE_SECONDS = 300;

/**
 * Verifies a webhook's `Stripe-Signature` over the raw body (HMAC-SHA256 with the endpoint's
 * `whsec_...` secret, timestamp within tolerance) and returns the PaymentIntent facts it carries.
 * Throws on a missing or bad signature; nothing may be applied then.
 */
export function createWebhookVerifier(secret: string, now: () => number = Date.now) {
  // Signature checking needs no API key; the client is only the SDK's entry point.
  const stripe = new Stripe('sk_webhook_verification_only', { telemetry: false });
  return (rawBody: Buffer | string, signatureHeader: string | undefined): PaymentIntentEvent => {
    if (!signatureHeader) throw new Error('missing Stripe-Signature header');
    // The SDK only refuses signatures that are too old; refuse ones from the future as well.
    const signedAt = Number(/(?:^|,)t=(\d+)/.exec(signatureHeader)?.[1]);
    if (!(signedAt <= now() / 1000 + WEBHOOK_TOLERANCE_SECONDS))
      throw new Error('signature timestamp out of range');
    const event = stripe.webhooks.constructEvent(
      rawBody,
      signatureHeader,
      secret,
      WEBHOOK_TOLERANCE_SECONDS,
      undefined,
      now(), // milliseconds: the SDK divides by 1000 itself
    );
    const object = event.data.object as { id?: unknown; object?: unknown; metadata?: unknown };
    const isPaymentIntent = object.object === 'payment_intent' && typeof object.id === 'string';
    return {
      id: event.id,
      type: event.type,
      paymentIntentId: isPaymentIntent ? (object.id as string) : null,
      metadata: isPaymentIntent && object.metadata ? (object.metadata as Record<string, string>) : {},
    };
  };
}
