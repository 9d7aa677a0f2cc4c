import Stripe from 'stripe';
import type {
  ChargeRequest,
  ChargeResult,
  FindOptions,
  LookupResult,
  PaymentGateway,
  ProviderPaymentIntent,
} from './gateway';
import {
  createStripeClient,
  defaultCallTimeoutMs,
  runCall,
  STRIPE_DEFAULTS,
  type StripeGatewayConfig,
} from './stripe-client';
import { stripeRefunds } from './stripe-refunds';

export function createStripeGateway(
  config: StripeGatewayConfig,
  client = createStripeClient(config),
): PaymentGateway {
  const callTimeoutMs =
    config.callTimeoutMs ??
    defaultCallTimeoutMs(
      config.timeoutMs ?? STRIPE_DEFAULTS.timeoutMs,
      config.maxNetworkRetries ?? STRIPE_DEFAULTS.maxNetworkRetries,
    );
  return {
    ...stripeRefunds(client, callTimeoutMs),

    async charge(request: ChargeRequest): Promise<ChargeResult> {
      const call = await runCall(callTimeoutMs, () =>
        client.paymentIntents.create(
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
        ),
      );
      if (call.ok) return fromPaymentIntent(call.value);
      const result = classifyStripeError(call.error);
      // Refused after one of the SDK's retries: an earlier try of this call may have executed.
      if (result.kind === 'unavailable' && call.tries > 1) {
        return { kind: 'unknown', reason: `${result.reason}_after_retry` };
      }
      return result;
    },

    async retrieve(paymentIntentId: string): Promise<ChargeResult> {
      const call = await runCall(callTimeoutMs, () => client.paymentIntents.retrieve(paymentIntentId));
      return call.ok ? fromPaymentIntent(call.value) : lookupFailure('retrieve', call.error);
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
        return lookupFailure('lookup', err);
      }
    },
  };
}

/** A read that fails says nothing about the payment: never a decline, always still unknown. */
function lookupFailure(what: string, err: unknown): ChargeResult {
  const result = classifyStripeError(err);
  return result.kind === 'unknown' ? result : { kind: 'unknown', reason: `${what}_${result.kind}` };
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
  if (
    err instanceof Stripe.errors.StripeIdempotencyError ||
    (err instanceof Stripe.errors.StripeError &&
      (err.statusCode === 409 || err.code === 'idempotency_key_in_use'))
  ) {
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
