import Stripe from 'stripe';
import { describe, expect, it, vi } from 'vitest';
import { type StripeEmulator, startStripeEmulator } from '../src/index';
import { raw, rejectionOf, stripeFor, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), {
  start: { port: 0 },
  reset: true,
  beforeEach: (e) => e.setLatency(0),
});

describe('admin endpoints', () => {
  it('serves the ledger in creation order, with optional filters', async () => {
    const a = await stripe.paymentIntents.create({
      amount: 100,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { order_id: 'A' },
    });
    await rejectionOf(
      stripe.paymentIntents.create({
        amount: 200,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclinedInsufficientFunds',
        confirm: true,
        metadata: { order_id: 'B' },
      }),
    );
    const ledger = await raw(emulator, '/_emulator/payment_intents', { auth: null });
    expect(ledger.status).toBe(200);
    expect(ledger.json.data).toEqual(emulator.paymentIntents());
    expect(ledger.json.data.map((pi: { metadata: { order_id: string } }) => pi.metadata.order_id)).toEqual([
      'A',
      'B',
    ]);
    expect(ledger.json.data[1]).toMatchObject({
      status: 'requires_payment_method',
      last_payment_error: { code: 'card_declined', decline_code: 'insufficient_funds' },
    });

    const onlyA = await raw(emulator, '/_emulator/payment_intents?metadata[order_id]=A', { auth: null });
    expect(onlyA.json.data.map((pi: { id: string }) => pi.id)).toEqual([a.id]);
    const failed = await raw(emulator, '/_emulator/payment_intents?status=requires_payment_method', {
      auth: null,
    });
    expect(failed.json.data).toHaveLength(1);
  });

  it('configures latency, resets state and reports health', async () => {
    expect((await raw(emulator, '/_emulator/health', { auth: null })).json).toEqual({ ok: true });

    const set = await raw(emulator, '/_emulator/config', {
      method: 'POST',
      auth: null,
      body: JSON.stringify({ latencyMs: 25 }),
      headers: { 'Content-Type': 'application/json' },
    });
    const config = {
      latencyMs: 25,
      idempotencyKeyTtlMs: null,
      processingDelayMs: 1000,
      refundDelayMs: 1000,
      authorizationTtlMs: 7 * 24 * 60 * 60 * 1000,
    };
    expect(set.json).toEqual(config);
    expect((await raw(emulator, '/_emulator/config', { auth: null })).json).toEqual(config);
    const bad = await raw(emulator, '/_emulator/config', {
      method: 'POST',
      auth: null,
      body: '{"latencyMs":-1}',
    });
    expect(bad.status).toBe(400);

    await stripe.paymentIntents.create({ amount: 100, currency: 'usd' }, { idempotencyKey: 'k' });
    expect(emulator.paymentIntents()).toHaveLength(1);
    const reset = await raw(emulator, '/_emulator/reset', { method: 'POST', auth: null });
    expect(reset.json).toEqual({ ok: true });
    expect(emulator.paymentIntents()).toEqual([]);
    expect(emulator.requestCount()).toBe(0);
    // The idempotency key is forgotten too: a different request with it now executes.
    // (500, not 5: Stripe refuses amounts under its USD minimum of 50.)
    const fresh = await stripe.paymentIntents.create(
      { amount: 500, currency: 'usd' },
      { idempotencyKey: 'k' },
    );
    expect(fresh.amount).toBe(500);
  });

  it('validates setLatency', () => {
    expect(() => emulator.setLatency(-1)).toThrow(RangeError);
    expect(() => emulator.setLatency(Number.NaN)).toThrow(RangeError);
  });
});

describe('robustness', () => {
  it('answers unknown routes with a Stripe-shaped 404', async () => {
    const err = await rejectionOf(stripe.rawRequest('GET', '/v1/charges'));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(404);
    expect(err.message).toContain('Unrecognized request URL (GET: /v1/charges)');
    const other = await raw(emulator, '/nope', { auth: null });
    expect(other.status).toBe(404);
    expect(other.json.error.type).toBe('invalid_request_error');
  });

  it.each([
    'amount=1&amount[x]=2&currency=usd',
    'metadata[a=1',
    'a]=1',
    '=1',
    '%E0%A4%A=1&amount=100&currency=usd&metadata[%zz]=1',
  ])('does not crash on malformed body %s', async (body) => {
    const res = await raw(emulator, '/v1/payment_intents', { method: 'POST', body });
    expect([200, 400]).toContain(res.status);
    if (res.status === 400) expect(res.json.error.type).toBe('invalid_request_error');
    expect((await raw(emulator, '/_emulator/health', { auth: null })).status).toBe(200);
  });

  it('keeps __proto__ keys as plain data', async () => {
    const res = await raw(emulator, '/v1/payment_intents', {
      method: 'POST',
      body: 'amount=100&currency=usd&metadata[__proto__]=x&metadata[constructor]=y',
    });
    expect(res.status).toBe(200);
    expect(res.json.metadata).toEqual(JSON.parse('{"__proto__":"x","constructor":"y"}'));
    expect(({} as Record<string, unknown>).x).toBeUndefined();
  });

  it('rejects oversized bodies with 413', async () => {
    const res = await raw(emulator, '/v1/payment_intents', {
      method: 'POST',
      body: `description=${'x'.repeat(1_100_000)}`,
    });
    expect(res.status).toBe(413);
  });
});

describe('close()', () => {
  it('does not hang while a slow request is in flight', async () => {
    const slow = await startStripeEmulator({ latencyMs: 60_000 });
    const client = stripeFor(slow);
    const pending = rejectionOf(client.paymentIntents.create({ amount: 100, currency: 'usd' }));
    await vi.waitFor(() => expect(slow.requestCount()).toBe(1));

    const started = Date.now();
    await slow.close();
    expect(Date.now() - started).toBeLessThan(1000);
    // The request never executed; the client sees a connection error (after its one implicit retry).
    const err = await pending;
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(slow.paymentIntents()).toEqual([]);
    await slow.close(); // idempotent
  });
});
