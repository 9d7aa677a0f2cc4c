import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf, stripeFor, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true, clearFaults: true });

/** `request_log_url` names the response's own Request-Id, stamped with the request's time. */
function expectLogUrl(url: unknown, requestId: string | null | undefined): void {
  expect(requestId).toMatch(/^req_[A-Za-z0-9]{14}$/);
  const match = /^https:\/\/dashboard\.stripe\.com\/test\/logs\/(req_\w+)\?t=(\d+)$/.exec(String(url));
  expect(match?.[1], String(url)).toBe(requestId);
  expect(Math.abs(Number(match?.[2]) - Date.now() / 1000)).toBeLessThan(60);
}

const charge: Stripe.PaymentIntentCreateParams = {
  amount: 1000,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
};

describe('request_log_url', () => {
  it('is in every error body the SDK sees, matching its Request-Id', async () => {
    const errors = [
      await rejectionOf(stripe.paymentIntents.create({ ...charge, amount: 10 })), // 400 amount_too_small
      await rejectionOf(stripe.paymentIntents.retrieve('pi_missing')), // 404 resource_missing
      await rejectionOf(
        stripe.paymentIntents.create({ ...charge, payment_method: 'pm_card_chargeDeclined' }),
      ), // 402
      await rejectionOf(stripeFor(emulator, {}, 'sk_live_nope').paymentIntents.list()), // 401
      await rejectionOf(stripe.rawRequest('GET', '/v1/charges')), // 404 unrecognized URL
    ];
    await stripe.paymentIntents.create(charge, { idempotencyKey: 'k-mismatch' });
    errors.push(
      await rejectionOf(
        stripe.paymentIntents.create({ ...charge, amount: 1001 }, { idempotencyKey: 'k-mismatch' }),
      ),
    );
    emulator.setFaults([{ fault: 'error_before', operation: 'payment_intents.list', status: 503, times: 1 }]);
    errors.push(await rejectionOf(stripe.paymentIntents.list()));
    emulator.setFaults([{ fault: 'in_use_409', times: 1 }]);
    errors.push(await rejectionOf(stripe.paymentIntents.create(charge, { idempotencyKey: 'k-409' })));

    expect(errors.map((e) => e.statusCode)).toEqual([400, 404, 402, 401, 404, 400, 503, 409]);
    for (const err of errors) expectLogUrl(err.request_log_url, err.requestId);
  });

  it('is in the errors answered outside the API flow too (raw HTTP)', async () => {
    const responses = [
      await raw(emulator, '/nope', { auth: null }),
      await raw(emulator, '/v1/payment_intents', { method: 'POST', body: 'metadata[a=1' }),
      await raw(emulator, '/v1/payment_intents', {
        method: 'POST',
        body: `description=${'x'.repeat(1_100_000)}`,
      }),
    ];
    expect(responses.map((r) => r.status)).toEqual([404, 400, 413]);
    for (const res of responses) {
      expect(res.json.error.type).toBe('invalid_request_error');
      expectLogUrl(res.json.error.request_log_url, res.headers.get('request-id'));
    }
  });

  it("a replayed error keeps the first request's link, which Original-Request names", async () => {
    emulator.setFaults([{ fault: 'error_after', operation: 'payment_intents.create', times: 1 }]);
    const first = await raw(emulator, '/v1/payment_intents', {
      method: 'POST',
      body: 'amount=1000&currency=usd',
      headers: { 'Idempotency-Key': 'k-replay' },
    });
    const again = await raw(emulator, '/v1/payment_intents', {
      method: 'POST',
      body: 'amount=1000&currency=usd',
      headers: { 'Idempotency-Key': 'k-replay' },
    });
    expect([first.status, again.status]).toEqual([500, 500]);
    expect(again.headers.get('idempotent-replayed')).toBe('true');
    expect(again.json).toEqual(first.json);
    expect(again.headers.get('original-request')).toBe(first.headers.get('request-id'));
    expectLogUrl(again.json.error.request_log_url, again.headers.get('original-request'));
  });

  it('keeps the keys of an error body in alphabetical order, as Stripe answers', async () => {
    const res = await raw(emulator, '/v1/payment_intents', {
      method: 'POST',
      body: 'amount=10&currency=usd',
    });
    const keys = Object.keys(res.json.error);
    expect(keys).toEqual([...keys].sort());
  });
});
