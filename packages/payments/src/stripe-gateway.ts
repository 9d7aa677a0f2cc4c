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
            // Sent only when manual: a create made before capture later existed, repeated by recovery
            // with its key, must carry the same parameters as then.
            ...(request.captureMethod === 'manual' ? { capture_method: 'manual' as const } : {}),
            ...authenticationParams(request.returnUrl),
            metadata: request.metadata,
          },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      return call.ok ? fromPaymentIntent(call.value) : callFailure(call.error, call.tries);
    },

    async capture(request): Promise<ChargeResult> {
      const call = await runCall(callTimeoutMs, () =>
        client.paymentIntents.capture(
          request.paymentIntentId,
          request.amount === null ? {} : { amount_to_capture: request.amount },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      return call.ok ? fromPaymentIntent(call.value) : authorizationFailure(call.error, call.tries);
    },

    async cancel(request): Promise<ChargeResult> {
      const call = await runCall(callTimeoutMs, () =>
        client.paymentIntents.cancel(
          request.paymentIntentId,
          { cancellation_reason: request.reason },
          { idempotencyKey: request.idempotencyKey },
        ),
      );
      return call.ok ? fromPaymentIntent(call.value) : authorizationFailure(call.error, call.tries);
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
          amountReceived: pi.amount_received,
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
          // Quotes and backslashes escaped with a backslash (Stripe's search query language), so
          // the id is matched exactly and cannot end the quoted value.
          const found = await client.paymentIntents.search({
            query: `metadata['attempt_id']:'${attemptId.replace(/['\\]/g, '\\$&')}'`,
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

/**
 * With a return URL the customer can complete 3-D Secure: the PaymentIntent waits in
 * `requires_action` with `next_action.redirect_to_url`. Without one nobody can: fail fast as a
 * decline (`authentication_required`), so the customer can pay with another card.
 */
function authenticationParams(
  returnUrl: string | null,
): Pick<
  Stripe.PaymentIntentCreateParams,
  'automatic_payment_methods' | 'return_url' | 'error_on_requires_action'
> {
  if (returnUrl) return { automatic_payment_methods: { enabled: true }, return_url: returnUrl };
  return {
    automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    error_on_requires_action: true,
  };
}

/**
 * A capture's or cancel's error. A card error here is Stripe refusing the capture (e.g. the hold
 * lapsed), not the customer's bank: a refusal before executing, as is an unexpected state.
 */
function authorizationFailure(err: unknown, tries: number): ChargeResult {
  const result = callFailure(err, tries);
  return result.kind === 'declined'
    ? { kind: 'rejected', code: result.code, message: result.message }
    : result;
}

/** A create's, capture's or cancel's error, classified. */
function callFailure(err: unknown, tries: number): ChargeResult {
  const result = classifyStripeError(err);
  // Refused after one of the SDK's retries: an earlier try of this call may have executed.
  if (result.kind === 'unavailable' && tries > 1)
    return { kind: 'unknown', reason: `${result.reason}_after_retry` };
  return result;
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
      return { kind: 'succeeded', paymentIntentId: intent.id, amountReceived: intent.amount_received };
    case 'requires_capture':
      return { kind: 'authorized', paymentIntentId: intent.id, amountCapturable: intent.amount_capturable };
    case 'requires_action':
      return {
        kind: 'requires_action',
        paymentIntentId: intent.id,
        redirectUrl: intent.next_action?.redirect_to_url?.url ?? null,
      };
    case 'canceled':
      return {
        kind: 'canceled',
        paymentIntentId: intent.id,
        reason: intent.cancellation_reason ?? 'canceled',
      };
    case 'requires_payment_method': {
      const error = intent.last_payment_error;
      return {
        kind: 'declined',
        paymentIntentId: intent.id,
        code: error?.code ?? intent.status,
        declineCode: error?.decline_code ?? error?.code ?? intent.status,
        message: error?.message ?? '',
      };
    }
    default:
      // `processing`, `requires_confirmation` (not final yet: the webhook or the recovery worker
      // settles it) or a status this build does not know.
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
      // The SDK fills a missing decline_code with '' (a card error that is not card_declined).
      declineCode: err.decline_code || err.code || 'generic_decline',
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
