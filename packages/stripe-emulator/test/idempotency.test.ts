import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf, stripeFor, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true, beforeEach: (e) => e.setLatency(0) });

const params = (
  overrides: Partial<Stripe.PaymentIntentCreateParams> = {},
): Stripe.PaymentIntentCreateParams => ({
  amount: 2500,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
  metadata: { order_id: 'ord_42' },
  ...overrides,
});

describe('idempotency', () => {
  it('replays a success with Idempotent-Replayed: true, the same PaymentIntent and one ledger entry', async () => {
    const first = await stripe.paymentIntents.create(params(), { idempotencyKey: 'key-success' });
    const second = await stripe.paymentIntents.create(params(), { idempotencyKey: 'key-success' });

    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(second.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect(second.lastResponse.requestId).not.toBe(first.lastResponse.requestId);
    expect(second.id).toBe(first.id);
    expect({ ...second }).toEqual({ ...first });
    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.paymentIntents()[0]).toMatchObject({ id: first.id, idempotency_key: 'key-success' });
    expect(emulator.requestCount()).toBe(2);
  });

  it('replays a decline: the 402 comes back again, and only one PaymentIntent exists', async () => {
    const declined = params({ payment_method: 'pm_card_chargeDeclined' });
    const first = await rejectionOf(
      stripe.paymentIntents.create(declined, { idempotencyKey: 'key-decline' }),
    );
    const second = await rejectionOf(
      stripe.paymentIntents.create(declined, { idempotencyKey: 'key-decline' }),
    );

    for (const err of [first, second]) {
      expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(err).toMatchObject({ statusCode: 402, code: 'card_declined', decline_code: 'generic_decline' });
    }
    expect(first.headers?.['idempotent-replayed']).toBeUndefined();
    expect(second.headers?.['idempotent-replayed']).toBe('true');
    expect(second.headers?.['stripe-should-retry']).toBe('false');
    expect((second.payment_intent as Stripe.PaymentIntent).id).toBe(
      (first.payment_intent as Stripe.PaymentIntent).id,
    );
    expect(second.raw).toMatchObject({ charge: first.charge });
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it('rejects the same key with different parameters (StripeIdempotencyError, 400)', async () => {
    const original = await stripe.paymentIntents.create(params(), { idempotencyKey: 'key-mismatch' });
    const err = await rejectionOf(
      stripe.paymentIntents.create(params({ amount: 9999 }), { idempotencyKey: 'key-mismatch' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err.statusCode).toBe(400);
    expect(err.rawType).toBe('idempotency_error');
    expect(err.message).toBe(
      "Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than 'key-mismatch' if you meant to execute a different request.",
    );
    expect(err.headers?.['stripe-should-retry']).toBe('false');

    // Same params on another path is a mismatch too; the original key still replays.
    const otherPath = await rejectionOf(
      stripe.paymentIntents.confirm(original.id, {}, { idempotencyKey: 'key-mismatch' }),
    );
    expect(otherPath).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    const replay = await stripe.paymentIntents.create(params(), { idempotencyKey: 'key-mismatch' });
    expect(replay.id).toBe(original.id);
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it('answers 409 idempotency_key_in_use to a concurrent request while the first is in flight', async () => {
    emulator.setLatency(400);
    const results = await Promise.allSettled([
      stripe.paymentIntents.create(params(), { idempotencyKey: 'key-concurrent' }),
      stripe.paymentIntents.create(params(), { idempotencyKey: 'key-concurrent' }),
    ]);
    const fulfilled = results.filter((r) => r.status === 'fulfilled');
    const rejected = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    expect(fulfilled).toHaveLength(1);
    expect(rejected).toHaveLength(1);
    const err = rejected[0]?.reason as Stripe.errors.StripeError;
    // 409 is not mapped to a dedicated class by stripe-node: it surfaces as StripeAPIError.
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err).toMatchObject({
      statusCode: 409,
      rawType: 'idempotency_error',
      code: 'idempotency_key_in_use',
    });
    expect(err.headers?.['stripe-should-retry']).toBe('true');
    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.requestCount()).toBe(2);
  });

  it('lets the SDK retry a 409 (retries on) and then receive the replay', async () => {
    emulator.setLatency(150);
    const retrying = stripeFor(emulator, { maxNetworkRetries: 2 });
    const [a, b] = await Promise.all([
      retrying.paymentIntents.create(params(), { idempotencyKey: 'key-retry' }),
      retrying.paymentIntents.create(params(), { idempotencyKey: 'key-retry' }),
    ]);
    expect(a.id).toBe(b.id);
    const replayed = [a, b].map((pi) => pi.lastResponse.headers['idempotent-replayed']);
    expect(replayed.sort()).toEqual(['true', undefined]);
    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.requestCount()).toBeGreaterThanOrEqual(3);
  });

  it('creates different PaymentIntents for different keys', async () => {
    const a = await stripe.paymentIntents.create(params(), { idempotencyKey: 'key-a' });
    const b = await stripe.paymentIntents.create(params(), { idempotencyKey: 'key-b' });
    expect(a.id).not.toBe(b.id);
    expect(emulator.paymentIntents().map((pi) => pi.idempotency_key)).toEqual(['key-a', 'key-b']);
  });

  it('scopes keys by secret key', async () => {
    const other = stripeFor(emulator, {}, 'sk_test_another_account');
    const a = await stripe.paymentIntents.create(params(), { idempotencyKey: 'key-shared' });
    // Different parameters (a valid amount: 1 is under Stripe's USD minimum), same key, other account.
    const b = await other.paymentIntents.create(params({ amount: 2501 }), { idempotencyKey: 'key-shared' });
    expect(b.id).not.toBe(a.id);
    expect(b.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('does not store validation errors: the key stays usable', async () => {
    const invalid = await rejectionOf(
      stripe.paymentIntents.create(params({ amount: -5 }), { idempotencyKey: 'key-invalid-first' }),
    );
    expect(invalid).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    const valid = await stripe.paymentIntents.create(params(), { idempotencyKey: 'key-invalid-first' });
    expect(valid.status).toBe('succeeded');
    expect(valid.lastResponse.headers['idempotent-replayed']).toBeUndefined();
  });

  it('compares decoded parameters, not their encoding order', async () => {
    const body1 = 'amount=100&currency=usd&metadata[a]=1&metadata[b]=2';
    const body2 = 'metadata[b]=2&currency=usd&metadata[a]=1&amount=100';
    const headers = { 'Idempotency-Key': 'key-order' };
    const first = await raw(emulator, '/v1/payment_intents', { method: 'POST', body: body1, headers });
    const second = await raw(emulator, '/v1/payment_intents', { method: 'POST', body: body2, headers });
    expect(first.status).toBe(200);
    expect(second.status).toBe(200);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(second.json.id).toBe(first.json.id);
  });

  it('ignores Idempotency-Key on GET requests', async () => {
    const res = await raw(emulator, '/v1/payment_intents', { headers: { 'Idempotency-Key': 'key-get' } });
    const again = await raw(emulator, '/v1/payment_intents?limit=3', {
      headers: { 'Idempotency-Key': 'key-get' },
    });
    expect(res.status).toBe(200);
    expect(again.status).toBe(200);
    expect(again.headers.get('idempotent-replayed')).toBeNull();
  });
});
