import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, describe, expect, it, vi } from 'vitest';
import { type StripeEmulator, startStripeEmulator } from '../src/index';
import { rejectionOf, stripeFor } from './helpers';
import { type ReceivingEnv, useReceivingEmulator } from './receiver';

const SECRET = 'whsec_test_manual_capture_0123456789';
const WEEK_MS = 7 * 24 * 60 * 60 * 1000;
let emulator: StripeEmulator;
let stripe: Stripe;
let delivered: ReceivingEnv['delivered'];
const dir = mkdtempSync(join(tmpdir(), 'stripe-emulator-capture-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

useReceivingEmulator(
  SECRET,
  (env) => ({ emulator, stripe, delivered } = env),
  (e) => e.setAuthorizationTtl(WEEK_MS),
);

const hold = (amount = 1000, overrides: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
  stripe.paymentIntents.create({
    amount,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    capture_method: 'manual',
    confirm: true,
    metadata: { order_id: 'ord_hold' },
    ...overrides,
  });

describe('capture', () => {
  it('captures the whole authorization by default: succeeded, then charge.captured', async () => {
    const held = await hold();
    expect(held).toMatchObject({ status: 'requires_capture', amount_capturable: 1000, amount_received: 0 });
    const captured = await stripe.paymentIntents.capture(held.id, { metadata: { shipped: 'yes' } });
    expect(captured).toMatchObject({
      status: 'succeeded',
      amount_capturable: 0,
      amount_received: 1000,
      metadata: { order_id: 'ord_hold', shipped: 'yes' },
    });
    const events = await delivered();
    expect(events.map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.amount_capturable_updated',
      'payment_intent.succeeded',
      'charge.captured',
    ]);
    expect(events[1]?.data.object).toMatchObject({ status: 'requires_capture', amount_capturable: 1000 });
    expect(events[3]?.data.object).toMatchObject({
      object: 'charge',
      id: held.latest_charge,
      payment_intent: held.id,
      amount: 1000,
      amount_captured: 1000,
      amount_refunded: 0,
      captured: true,
    });
  });

  it('captures part: the rest is released (counted as refunded on the charge)', async () => {
    const held = await hold(1000);
    const captured = await stripe.paymentIntents.capture(held.id, { amount_to_capture: 600 });
    expect(captured).toMatchObject({ status: 'succeeded', amount_received: 600, amount_capturable: 0 });
    const charge = (await delivered()).at(-1)?.data.object;
    expect(charge).toMatchObject({ amount_captured: 600, amount_refunded: 400, refunded: false });
    expect(await stripe.refunds.create({ payment_intent: held.id })).toMatchObject({ amount: 600 });
  });

  it("refuses more than amount_capturable with Stripe's amount_too_large, storing nothing", async () => {
    const held = await hold(1000);
    const err = await rejectionOf(
      stripe.paymentIntents.capture(held.id, { amount_to_capture: 1001 }, { idempotencyKey: 'cap-1' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({
      statusCode: 400,
      code: 'amount_too_large',
      param: 'amount_to_capture',
      message:
        'The payment could not be captured because the requested capture amount is greater than the amount you can capture for this charge.',
    });
    expect(err.payment_intent).toMatchObject({ id: held.id, status: 'requires_capture' });
    const zero = await rejectionOf(stripe.paymentIntents.capture(held.id, { amount_to_capture: 0 }));
    expect(zero).toMatchObject({ code: 'parameter_invalid_integer', param: 'amount_to_capture' });
    // A refused request is not stored under its key: the corrected retry executes.
    const retry = await stripe.paymentIntents.capture(
      held.id,
      { amount_to_capture: 1000 },
      { idempotencyKey: 'cap-1' },
    );
    expect(retry.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(retry.status).toBe('succeeded');
  });

  it('refuses a PaymentIntent that is not requires_capture', async () => {
    const message = (status: string) =>
      `This PaymentIntent could not be captured because it has a status of ${status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`;
    const paid = await hold(1000, { capture_method: 'automatic' });
    const unpaid = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    for (const [pi, status] of [
      [paid, 'succeeded'],
      [unpaid, 'requires_payment_method'],
    ] as const) {
      const err = await rejectionOf(stripe.paymentIntents.capture(pi.id));
      expect(err).toMatchObject({ statusCode: 400, code: 'payment_intent_unexpected_state' });
      expect(err.message).toBe(message(status));
    }
  });
});

describe('cancel and expiry of an authorization', () => {
  it('cancels an authorization: canceled, nothing capturable, and it never expires later', async () => {
    // Long enough for the cancel to land before the hold would expire, on a loaded machine too.
    emulator.setAuthorizationTtl(1_500);
    const held = await hold();
    const canceled = await stripe.paymentIntents.cancel(held.id, {
      cancellation_reason: 'requested_by_customer',
    });
    expect(canceled).toMatchObject({
      status: 'canceled',
      amount_capturable: 0,
      cancellation_reason: 'requested_by_customer',
    });
    expect(canceled.canceled_at).toBeGreaterThan(0);
    const err = await rejectionOf(stripe.paymentIntents.capture(held.id));
    expect(err.message).toContain('because it has a status of canceled.');
    // A second authorization made later expires; the canceled one got no second cancel by then.
    const later = await hold();
    await vi.waitFor(
      async () => expect((await stripe.paymentIntents.retrieve(later.id)).status).toBe('canceled'),
      { timeout: 10_000, interval: 100 },
    );
    const types = (await delivered()).filter((e) => (e.data.object as { id: string }).id === held.id);
    expect(types.map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.amount_capturable_updated',
      'payment_intent.canceled',
    ]);
  });

  it("expires after authorizationTtlMs: canceled 'automatic', then charge.expired", async () => {
    emulator.setAuthorizationTtl(50);
    const held = await hold(2500);
    await vi.waitFor(async () =>
      expect((await stripe.paymentIntents.retrieve(held.id)).status).toBe('canceled'),
    );
    const expired = await stripe.paymentIntents.retrieve(held.id);
    expect(expired).toMatchObject({
      cancellation_reason: 'automatic',
      amount_capturable: 0,
      amount_received: 0,
    });
    const events = await delivered();
    expect(events.map((e) => e.type)).toEqual([
      'payment_intent.created',
      'payment_intent.amount_capturable_updated',
      'payment_intent.canceled',
      'charge.expired',
    ]);
    expect(events[2]?.request).toEqual({ id: null, idempotency_key: null });
    expect(events[3]?.data.object).toMatchObject({
      id: held.latest_charge,
      captured: false,
      amount_captured: 0,
      amount_refunded: 2500,
      refunded: true,
    });
    const err = await rejectionOf(stripe.paymentIntents.capture(held.id));
    expect(err).toMatchObject({ code: 'payment_intent_unexpected_state' });
  });

  it('keeps the expiry across a restart (the saved time, not the new TTL)', async () => {
    const stateFile = join(dir, 'expiry.json');
    const first = await startStripeEmulator({ stateFile, authorizationTtlMs: 1500 });
    const held = await stripeFor(first).paymentIntents.create({
      amount: 1000,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
    });
    await first.close();
    const saved = JSON.parse(readFileSync(stateFile, 'utf8'));
    expect(saved.paymentIntents[0].captureBefore).toBeGreaterThan(Date.now());

    const second = await startStripeEmulator({ stateFile }); // default TTL: 7 days
    try {
      await vi.waitFor(
        async () =>
          expect(await stripeFor(second).paymentIntents.retrieve(held.id)).toMatchObject({
            status: 'canceled',
            cancellation_reason: 'automatic',
          }),
        { timeout: 5000, interval: 50 },
      );
    } finally {
      await second.close();
    }
  });

  it('takes the TTL from start options, the admin config and the handle', async () => {
    await expect(startStripeEmulator({ authorizationTtlMs: -1 })).rejects.toThrow(RangeError);
    expect(() => emulator.setAuthorizationTtl(Number.NaN)).toThrow(RangeError);
    const res = await fetch(`${emulator.url}/_emulator/config`, {
      method: 'POST',
      body: JSON.stringify({ authorizationTtlMs: 40 }),
    });
    expect(await res.json()).toMatchObject({ authorizationTtlMs: 40 });
    const held = await hold();
    await vi.waitFor(async () =>
      expect((await stripe.paymentIntents.retrieve(held.id)).cancellation_reason).toBe('automatic'),
    );
  });
});

describe('idempotency and faults on capture and cancel', () => {
  it('replays a capture for its key: one capture, one charge.captured', async () => {
    const held = await hold();
    const first = await stripe.paymentIntents.capture(held.id, {}, { idempotencyKey: 'cap-replay' });
    const again = await stripe.paymentIntents.capture(held.id, {}, { idempotencyKey: 'cap-replay' });
    expect(again.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(again).toEqual({ ...first });
    const mismatch = await rejectionOf(
      stripe.paymentIntents.capture(held.id, { amount_to_capture: 5 }, { idempotencyKey: 'cap-replay' }),
    );
    expect(mismatch).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(emulator.events().filter((e) => e.type === 'charge.captured')).toHaveLength(1);
  });

  it('error_after on capture: captured, and the 5xx is what the key replays', async () => {
    const held = await hold();
    emulator.setFaults([{ operation: 'payment_intents.capture', fault: 'error_after', status: 502 }]);
    const err = await rejectionOf(stripe.paymentIntents.capture(held.id, {}, { idempotencyKey: 'cap-5xx' }));
    expect(err).toMatchObject({ statusCode: 502, type: 'StripeAPIError' });
    emulator.clearFaults();
    const replay = await rejectionOf(
      stripe.paymentIntents.capture(held.id, {}, { idempotencyKey: 'cap-5xx' }),
    );
    expect(replay).toMatchObject({ statusCode: 502 });
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    expect((await stripe.paymentIntents.retrieve(held.id)).status).toBe('succeeded');
  });

  it('error_before on cancel: nothing canceled, and a retry with the key executes', async () => {
    const held = await hold();
    emulator.setFaults([{ operation: 'payment_intents.cancel', fault: 'error_before', times: 1 }]);
    const err = await rejectionOf(stripe.paymentIntents.cancel(held.id, {}, { idempotencyKey: 'cancel-1' }));
    expect(err).toMatchObject({ statusCode: 500 });
    expect((await stripe.paymentIntents.retrieve(held.id)).status).toBe('requires_capture');
    const retry = await stripe.paymentIntents.cancel(held.id, {}, { idempotencyKey: 'cancel-1' });
    expect(retry.status).toBe('canceled');
    expect(retry.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(emulator.faultStatus().log.map((f) => f.operation)).toEqual(['payment_intents.cancel']);
  });

  it('a capture held by a hang fault answers a concurrent retry 409, then lands', async () => {
    const held = await hold();
    emulator.setFaults([{ operation: 'payment_intents.capture', fault: 'hang', ms: 300, times: 1 }]);
    const slow = stripe.paymentIntents.capture(held.id, {}, { idempotencyKey: 'cap-hang' });
    await vi.waitFor(() => expect(emulator.faultsApplied()).toBe(1));
    const busy = await rejectionOf(
      stripe.paymentIntents.capture(held.id, {}, { idempotencyKey: 'cap-hang' }),
    );
    expect(busy).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    expect((await slow).status).toBe('succeeded');
  });
});
