import Stripe from 'stripe';
import type { PaymentIntentEvent } from './webhook';

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
    const object = event.data.object as {
      id?: unknown;
      object?: unknown;
      metadata?: unknown;
      payment_intent?: unknown;
    };
    const id = typeof object.id === 'string' ? object.id : null;
    // A refund's or a charge's PaymentIntent is an id (or, expanded, an object with one).
    const owner = object.payment_intent;
    const ownerId =
      typeof owner === 'string'
        ? owner
        : typeof (owner as { id?: unknown })?.id === 'string'
          ? (owner as { id: string }).id
          : null;
    const metadata =
      object.metadata && typeof object.metadata === 'object'
        ? (object.metadata as Record<string, string>)
        : {};
    switch (object.object) {
      case 'payment_intent':
        return { id: event.id, type: event.type, paymentIntentId: id, metadata };
      case 'refund':
        return { id: event.id, type: event.type, paymentIntentId: ownerId, refundId: id, metadata };
      case 'charge':
        return { id: event.id, type: event.type, paymentIntentId: ownerId, metadata };
      default:
        return { id: event.id, type: event.type, paymentIntentId: null, metadata: {} };
    }
  };
}
