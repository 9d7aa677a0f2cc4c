import Stripe from 'stripe';
import { describe, expect, it, vi } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf, useEmulator } from './helpers';
import { deadUrl, type Receiver, useReceiver } from './receiver';

const SECRET = 'whsec_test_emulator_webhooks_0123456789';
let emulator: StripeEmulator;
let stripe: Stripe;
let receiver: Receiver;

useReceiver((r) => {
  receiver = r;
});
useEmulator((e) => ({ emulator, stripe } = e), {
  start: () => ({
    webhookUrl: receiver.url,
    webhookSecret: SECRET,
    webhooks: { retryBaseMs: 5 },
    processingDelayMs: 20,
  }),
  reset: true,
  beforeEach: (e) => {
    e.configureWebhooks({
      url: receiver.url,
      secret: SECRET,
      maxAttempts: 8,
      duplicateProbability: 0,
      reorderWindowMs: 0,
      delayMs: 0,
      enabledEvents: ['*'],
    });
    receiver.received.length = 0;
    receiver.statuses.length = 0;
  },
});

const charge = (paymentMethod = 'pm_card_visa'): Stripe.PaymentIntentCreateParams => ({
  amount: 4200,
  currency: 'usd',
  payment_method: paymentMethod,
  confirm: true,
  metadata: { order_id: 'ord_wh' },
});

describe('webhook events', () => {
  it("are signed exactly as Stripe signs (stripe.webhooks.constructEvent) with Stripe's event shape", async () => {
    const pi = await stripe.paymentIntents.create(charge(), { idempotencyKey: 'wh-1' });
    await emulator.drainWebhooks();
    expect(receiver.received.map((r) => r.event.type)).toEqual([
      'payment_intent.created',
      'payment_intent.succeeded',
    ]);
    const [created, delivery] = receiver.received;
    if (!created || !delivery) throw new Error('no delivery');
    expect(stripe.webhooks.constructEvent(created.body, created.signature, SECRET)).toMatchObject({
      request: { id: pi.lastResponse.requestId, idempotency_key: 'wh-1' },
      data: { object: { id: pi.id, status: 'requires_confirmation' } },
    });
    expect(delivery.signature).toMatch(/^t=\d+,v1=[0-9a-f]{64}$/);
    expect(delivery.headers['content-type']).toBe('application/json; charset=utf-8');

    const event = stripe.webhooks.constructEvent(delivery.body, delivery.signature, SECRET);
    expect(event).toMatchObject({
      object: 'event',
      type: 'payment_intent.succeeded',
      livemode: false,
      pending_webhooks: 1,
      api_version: '2026-10-28.endive',
      request: { id: pi.lastResponse.requestId, idempotency_key: 'wh-1' },
      data: { object: { id: pi.id, object: 'payment_intent', status: 'succeeded', amount: 4200 } },
    });
    expect(event.id).toMatch(/^evt_/);
    expect(Math.abs(event.created - Date.now() / 1000)).toBeLessThan(60);

    expect(() => stripe.webhooks.constructEvent(delivery.body, delivery.signature, 'whsec_other')).toThrow(
      Stripe.errors.StripeSignatureVerificationError,
    );
    expect(() =>
      stripe.webhooks.constructEvent(delivery.body.replace('4200', '4201'), delivery.signature, SECRET),
    ).toThrow(Stripe.errors.StripeSignatureVerificationError);
  });

  it('emit payment_intent.payment_failed on a decline, and are served by /v1/events', async () => {
    const err = await rejectionOf(
      stripe.paymentIntents.create(charge('pm_card_chargeDeclinedInsufficientFunds')),
    );
    await emulator.drainWebhooks();
    const delivery = receiver.received.find((r) => r.event.type === 'payment_intent.payment_failed');
    expect(delivery?.event).toMatchObject({
      type: 'payment_intent.payment_failed',
      data: {
        object: {
          status: 'requires_payment_method',
          last_payment_error: { decline_code: 'insufficient_funds' },
        },
      },
    });
    const id = delivery?.event.id ?? '';
    const fetched = await stripe.events.retrieve(id);
    expect(fetched.data.object).toMatchObject({ id: (err.payment_intent as Stripe.PaymentIntent).id });
    expect(fetched.pending_webhooks).toBe(0); // delivered
    await stripe.paymentIntents.create(charge());
    const listed = await stripe.events.list({ type: 'payment_intent.payment_failed' });
    expect(listed.data.map((e) => e.id)).toEqual([id]);
    const all = await stripe.events.list({ limit: 1 });
    expect(all).toMatchObject({ has_more: true, data: [{ type: 'payment_intent.succeeded' }] });
    expect(emulator.events().map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.payment_failed',
      'payment_intent.created',
      'payment_intent.succeeded',
    ]);
    // Nothing left in flight to reach the receiver during the next test.
    await emulator.drainWebhooks();
  });

  it('processing → succeeded with pm_card_visa_processing (and processing → payment_failed)', async () => {
    const pi = await stripe.paymentIntents.create(charge('pm_card_visa_processing'));
    expect(pi.status).toBe('processing');
    const failing = await stripe.paymentIntents.create(charge('pm_card_visa_processing_declined'));
    expect(failing.status).toBe('processing');
    await emulator.drainWebhooks(); // waits for the settle timers too
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('succeeded');
    expect((await stripe.paymentIntents.retrieve(failing.id)).status).toBe('requires_payment_method');
    const typesFor = (id: string) =>
      receiver.received.filter((r) => r.event.data.object.id === id).map((r) => r.event.type);
    expect(typesFor(pi.id)).toEqual([
      'payment_intent.created',
      'payment_intent.processing',
      'payment_intent.succeeded',
    ]);
    expect(typesFor(failing.id)).toEqual([
      'payment_intent.created',
      'payment_intent.processing',
      'payment_intent.payment_failed',
    ]);
    const settled = receiver.received.find(
      (r) => r.event.type === 'payment_intent.succeeded' && r.event.data.object.id === pi.id,
    );
    expect(settled?.event).toMatchObject({ request: { id: null, idempotency_key: null } });
  });

  it('emit payment_intent.created for every new PaymentIntent, before its outcome', async () => {
    const pending = await stripe.paymentIntents.create(
      { amount: 700, currency: 'usd' },
      { idempotencyKey: 'c-1' },
    );
    const charged = await stripe.paymentIntents.create(charge());
    // A replay executes nothing, so it emits nothing.
    await stripe.paymentIntents.create({ amount: 700, currency: 'usd' }, { idempotencyKey: 'c-1' });
    await emulator.drainWebhooks();
    expect(receiver.received.map((r) => [r.event.type, r.event.data.object.id])).toEqual([
      ['payment_intent.created', pending.id],
      ['payment_intent.created', charged.id],
      ['payment_intent.succeeded', charged.id],
    ]);
    const [created] = receiver.received;
    if (!created) throw new Error('no delivery');
    expect(stripe.webhooks.constructEvent(created.body, created.signature, SECRET)).toMatchObject({
      type: 'payment_intent.created',
      request: { id: pending.lastResponse.requestId, idempotency_key: 'c-1' },
      data: { object: { id: pending.id, status: 'requires_payment_method', amount: 700 } },
    });
    const listed = await stripe.events.list({ type: 'payment_intent.created' });
    expect(listed.data.map((e) => e.data.object)).toMatchObject([{ id: charged.id }, { id: pending.id }]);
    const all = await stripe.events.list();
    expect(all.data.map((e) => e.type)).toEqual([
      'payment_intent.succeeded',
      'payment_intent.created',
      'payment_intent.created',
    ]);
    expect(await stripe.events.retrieve(listed.data[1]?.id ?? '')).toMatchObject({ pending_webhooks: 0 });
  });

  it('only delivers enabledEvents; canceled has its own event', async () => {
    emulator.configureWebhooks({ enabledEvents: ['payment_intent.canceled'] });
    const pi = await stripe.paymentIntents.create({ amount: 100, currency: 'usd' });
    await stripe.paymentIntents.create(charge());
    await stripe.paymentIntents.cancel(pi.id);
    await emulator.drainWebhooks();
    expect(receiver.received.map((r) => r.event.type)).toEqual(['payment_intent.canceled']);
    // Recorded even when not delivered: created, created, succeeded, canceled.
    expect(emulator.events()).toHaveLength(4);
  });
});

describe('delivery', () => {
  it('retries non-2xx with backoff until a 2xx', async () => {
    emulator.configureWebhooks({ enabledEvents: ['payment_intent.succeeded'] }); // one delivery per charge
    receiver.statuses.push(500, 503);
    await stripe.paymentIntents.create(charge());
    await emulator.drainWebhooks();
    expect(receiver.received).toHaveLength(3);
    expect(new Set(receiver.received.map((r) => r.event.id)).size).toBe(1);
    const log = emulator.webhookDeliveries();
    expect(log.map((a) => [a.attempt, a.statusCode, a.ok, a.final])).toEqual([
      [1, 500, false, false],
      [2, 503, false, false],
      [3, 200, true, true],
    ]);
    const [first, second, third] = log;
    if (!first || !second || !third) throw new Error('missing attempts');
    expect(second.at - first.at).toBeGreaterThanOrEqual(5);
    expect(third.at - second.at).toBeGreaterThanOrEqual(10);
  });

  it('retries connection errors, then gives up after maxAttempts', async () => {
    emulator.configureWebhooks({
      url: await deadUrl(),
      maxAttempts: 3,
      enabledEvents: ['payment_intent.succeeded'], // one delivery per charge
    });
    await stripe.paymentIntents.create(charge());
    await emulator.drainWebhooks();
    const log = emulator.webhookDeliveries();
    expect(log.map((a) => [a.attempt, a.statusCode, a.final])).toEqual([
      [1, null, false],
      [2, null, false],
      [3, null, true],
    ]);
    expect(log[0]?.error).toMatch(/ECONNREFUSED/);
  });

  it('delivers duplicates (same event id, separate deliveries)', async () => {
    // One event per charge, so the two deliveries are the event and its duplicate.
    emulator.configureWebhooks({ duplicateProbability: 1, enabledEvents: ['payment_intent.succeeded'] });
    await stripe.paymentIntents.create(charge());
    await emulator.drainWebhooks();
    expect(receiver.received).toHaveLength(2);
    expect(receiver.received[0]?.event.id).toBe(receiver.received[1]?.event.id);
    const log = emulator.webhookDeliveries();
    expect(log.map((a) => a.duplicate)).toEqual([false, true]);
    expect(log[0]?.deliveryId).not.toBe(log[1]?.deliveryId);
  });

  it('reorders within a window, by the seed', async () => {
    emulator.configureWebhooks({ reorderWindowMs: 300 });
    await Promise.all(Array.from({ length: 6 }, () => stripe.paymentIntents.create(charge())));
    await emulator.drainWebhooks();
    const emitted = emulator.events().map((e) => e.id);
    const delivered = receiver.received.map((r) => r.event.id);
    expect([...delivered].sort()).toEqual([...emitted].sort());
    expect(delivered).not.toEqual(emitted);
  });

  it('waits delayMs before the first attempt', async () => {
    emulator.configureWebhooks({ delayMs: 100 });
    const started = Date.now();
    await stripe.paymentIntents.create(charge());
    await emulator.drainWebhooks();
    expect((emulator.webhookDeliveries()[0]?.at ?? 0) - started).toBeGreaterThanOrEqual(100);
  });

  it('is configurable and drainable over HTTP', async () => {
    const json = { 'Content-Type': 'application/json' };
    const set = await raw(emulator, '/_emulator/webhooks', {
      method: 'POST',
      auth: null,
      headers: json,
      body: JSON.stringify({ duplicateProbability: 1 }),
    });
    expect(set.json).toMatchObject({ url: receiver.url, secret: SECRET, duplicateProbability: 1 });
    await stripe.paymentIntents.create(charge());
    const drained = await raw(emulator, '/_emulator/webhooks/drain', { method: 'POST', auth: null });
    expect(drained.json).toEqual({ drained: true });
    const log = await raw(emulator, '/_emulator/webhooks/deliveries', { auth: null });
    expect(log.json.data).toHaveLength(4); // created + succeeded, each twice
    const events = await raw(emulator, '/_emulator/events', { auth: null });
    expect(events.json.data).toHaveLength(2);
    for (const body of ['{"url":"ftp://x"}', '{"secret":"nope"}', '{"maxAttempts":0}', '{"bogus":1}']) {
      const bad = await raw(emulator, '/_emulator/webhooks', {
        method: 'POST',
        auth: null,
        headers: json,
        body,
      });
      expect(bad.status, body).toBe(400);
    }
  });

  it('drainWebhooks rejects when deliveries are still pending at the deadline', async () => {
    emulator.configureWebhooks({ delayMs: 60_000 });
    await stripe.paymentIntents.create(charge());
    await expect(emulator.drainWebhooks(50)).rejects.toThrow(/not drained/);
    emulator.reset(); // drops the pending delivery
    await emulator.drainWebhooks(50);
    await vi.waitFor(() => expect(emulator.webhookDeliveries()).toEqual([]));
  });
});
