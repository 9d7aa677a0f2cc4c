import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf, stripeFor, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true });

describe('create', () => {
  it('confirms with pm_card_visa and succeeds', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 1999,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { order_id: 'ord_1', note: 'a b&c=d' },
      description: 'Order ord_1',
    });
    expect(pi.id).toMatch(/^pi_[A-Za-z0-9]{24}$/);
    expect(pi).toMatchObject({
      object: 'payment_intent',
      amount: 1999,
      amount_received: 1999,
      currency: 'usd',
      status: 'succeeded',
      payment_method: 'pm_card_visa',
      metadata: { order_id: 'ord_1', note: 'a b&c=d' },
      description: 'Order ord_1',
      livemode: false,
      last_payment_error: null,
    });
    expect(pi.latest_charge).toMatch(/^ch_[A-Za-z0-9]{24}$/);
    expect(pi.client_secret).toMatch(new RegExp(`^${pi.id}_secret_`));
    expect(Math.abs(pi.created - Date.now() / 1000)).toBeLessThan(5);
    expect(pi.lastResponse.requestId).toMatch(/^req_/);
    expect(emulator.paymentIntents()).toEqual([
      {
        id: pi.id,
        amount: 1999,
        currency: 'usd',
        status: 'succeeded',
        capture_method: 'automatic_async',
        amount_capturable: 0,
        amount_received: 1999,
        cancellation_reason: null,
        payment_method: 'pm_card_visa',
        metadata: { order_id: 'ord_1', note: 'a b&c=d' },
        created: pi.created,
        // stripe-node puts an Idempotency-Key on every POST, even with retries off.
        idempotency_key: expect.stringMatching(/^stripe-node-retry-/),
        last_payment_error: null,
      },
    ]);
  });

  it('without confirm waits for confirmation (or for a payment method)', async () => {
    const withPm = await stripe.paymentIntents.create({
      amount: 500,
      currency: 'EUR',
      payment_method: 'pm_card_mastercard',
    });
    expect(withPm).toMatchObject({
      status: 'requires_confirmation',
      currency: 'eur',
      amount_received: 0,
      latest_charge: null,
    });
    const withoutPm = await stripe.paymentIntents.create({ amount: 500, currency: 'usd' });
    expect(withoutPm).toMatchObject({ status: 'requires_payment_method', payment_method: null });
  });

  it.each([
    ['pm_card_chargeDeclined', 'generic_decline', 'Your card was declined.'],
    ['pm_card_chargeDeclinedInsufficientFunds', 'insufficient_funds', 'Your card has insufficient funds.'],
  ])(
    'declines %s with a StripeCardError carrying the stored PaymentIntent',
    async (pm, declineCode, message) => {
      const err = await rejectionOf(
        stripe.paymentIntents.create({
          amount: 4200,
          currency: 'usd',
          payment_method: pm,
          confirm: true,
          metadata: { order_id: 'ord_declined' },
        }),
      );
      expect(err).toBeInstanceOf(Stripe.errors.StripeCardError);
      expect(err).toMatchObject({
        type: 'StripeCardError',
        statusCode: 402,
        code: 'card_declined',
        decline_code: declineCode,
        message,
      });
      expect(err.headers?.['request-id']).toMatch(/^req_/);
      const pi = err.payment_intent as Stripe.PaymentIntent;
      expect(pi).toMatchObject({
        object: 'payment_intent',
        status: 'requires_payment_method',
        payment_method: null,
      });
      expect(pi.last_payment_error).toMatchObject({
        type: 'card_error',
        code: 'card_declined',
        decline_code: declineCode,
        message,
      });
      expect(err.charge).toBe(pi.latest_charge);

      const [ledger] = emulator.paymentIntents();
      expect(emulator.paymentIntents()).toHaveLength(1);
      expect(ledger).toMatchObject({
        id: pi.id,
        status: 'requires_payment_method',
        metadata: { order_id: 'ord_declined' },
        last_payment_error: { code: 'card_declined', decline_code: declineCode, message },
      });
      await expect(stripe.paymentIntents.retrieve(pi.id)).resolves.toMatchObject({
        status: 'requires_payment_method',
      });
    },
  );

  it('rejects an unknown payment method without creating anything', async () => {
    const err = await rejectionOf(
      stripe.paymentIntents.create({
        amount: 100,
        currency: 'usd',
        payment_method: 'pm_nope',
        confirm: true,
      }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, code: 'resource_missing', param: 'payment_method' });
    expect(err.message).toContain("No such PaymentMethod: 'pm_nope'");
    expect(emulator.paymentIntents()).toEqual([]);
  });

  it.each([
    [{ currency: 'usd' }, 'amount', 'parameter_missing'],
    [{ amount: 0, currency: 'usd' }, 'amount', 'parameter_invalid_integer'],
    [{ amount: 12.5, currency: 'usd' }, 'amount', 'parameter_invalid_integer'],
    [{ amount: 100 }, 'currency', 'parameter_missing'],
    [{ amount: 100, currency: 'dollars' }, 'currency', undefined],
    [{ amount: 100, currency: 'usd', confirm: true }, 'payment_method', 'parameter_missing'],
  ])('rejects invalid params %j (param %s)', async (params, param, code) => {
    const err = await rejectionOf(stripe.paymentIntents.create(params as Stripe.PaymentIntentCreateParams));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(400);
    expect(err.rawType).toBe('invalid_request_error');
    expect(err.param).toBe(param);
    expect(err.code).toBe(code);
    expect(emulator.paymentIntents()).toEqual([]);
  });
});

describe('retrieve / confirm / cancel / capture', () => {
  it('retrieves a PaymentIntent and 404s an unknown id', async () => {
    const created = await stripe.paymentIntents.create({
      amount: 700,
      currency: 'usd',
      metadata: { k: 'v' },
    });
    const fetched = await stripe.paymentIntents.retrieve(created.id);
    expect(fetched).toEqual({ ...created });
    const err = await rejectionOf(stripe.paymentIntents.retrieve('pi_doesnotexist'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 404, code: 'resource_missing' });
  });

  it('confirms later, and refuses to confirm twice', async () => {
    const created = await stripe.paymentIntents.create({ amount: 700, currency: 'usd' });
    const declined = await rejectionOf(
      stripe.paymentIntents.confirm(created.id, { payment_method: 'pm_card_chargeDeclined' }),
    );
    expect(declined).toBeInstanceOf(Stripe.errors.StripeCardError);
    const confirmed = await stripe.paymentIntents.confirm(created.id, { payment_method: 'pm_card_visa' });
    expect(confirmed).toMatchObject({ status: 'succeeded', amount_received: 700, last_payment_error: null });
    const again = await rejectionOf(stripe.paymentIntents.confirm(created.id));
    expect(again).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it('supports manual capture and cancellation', async () => {
    const held = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
    });
    expect(held).toMatchObject({ status: 'requires_capture', amount_capturable: 900, amount_received: 0 });
    const captured = await stripe.paymentIntents.capture(held.id, { amount_to_capture: 800 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 800, amount_capturable: 0 });

    const pending = await stripe.paymentIntents.create({ amount: 300, currency: 'usd' });
    const canceled = await stripe.paymentIntents.cancel(pending.id, { cancellation_reason: 'abandoned' });
    expect(canceled).toMatchObject({ status: 'canceled', cancellation_reason: 'abandoned' });
    const err = await rejectionOf(stripe.paymentIntents.cancel(captured.id));
    expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
  });
});

describe('authentication', () => {
  it('rejects a non test-mode key with StripeAuthenticationError and redacts it', async () => {
    const secret = 'sk_live_supersecretvalue1234567890';
    const err = await rejectionOf(stripeFor(emulator, {}, secret).paymentIntents.list());
    expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
    expect(err.statusCode).toBe(401);
    expect(err.rawType).toBe('invalid_request_error');
    expect(err.message).toContain('Invalid API Key provided: sk_live_');
    expect(err.message).not.toContain('supersecret');
  });

  it('rejects a key once it is expired (rolled), with Stripe’s api_key_expired, and other keys still work', async () => {
    const rolled = 'sk_test_rolled_key_0123456789abcdef';
    await stripeFor(emulator, {}, rolled).paymentIntents.list();
    emulator.expireApiKey(rolled);
    try {
      const err = await rejectionOf(stripeFor(emulator, {}, rolled).paymentIntents.list());
      expect(err).toBeInstanceOf(Stripe.errors.StripeAuthenticationError);
      expect(err).toMatchObject({
        statusCode: 401,
        code: 'api_key_expired',
        doc_url: 'https://stripe.com/docs/error-codes/api-key-expired',
        rawType: 'invalid_request_error',
      });
      expect(err.message).toContain('Expired API Key provided: sk_test_');
      expect(err.message).not.toContain('rolled_key');
      await expect(stripeFor(emulator, {}, 'sk_test_other_key').paymentIntents.list()).resolves.toBeDefined();
    } finally {
      emulator.reset();
    }
    await expect(stripeFor(emulator, {}, rolled).paymentIntents.list()).resolves.toBeDefined();
  });

  it('rejects a missing Authorization header', async () => {
    const res = await raw(emulator, '/v1/payment_intents', { auth: null });
    expect(res.status).toBe(401);
    expect(res.json.error.type).toBe('invalid_request_error');
    expect(res.json.error.message).toContain('You did not provide an API key');
  });

  it('accepts Basic auth with the key as user name (curl -u sk_test_...:)', async () => {
    const basic = Buffer.from('sk_test_curl:').toString('base64');
    const res = await raw(emulator, '/v1/payment_intents', {
      auth: null,
      headers: { Authorization: `Basic ${basic}` },
    });
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ object: 'list', data: [] });
  });
});
