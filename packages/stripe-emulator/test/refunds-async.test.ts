import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { ChargeObject, StripeEmulator } from '../src/index';
import { rejectionOf, useEmulator } from './helpers';
import { type Receiver, useReceiver } from './receiver';

const SECRET = 'whsec_test_emulator_refunds_0123456789';
let emulator: StripeEmulator;
let stripe: Stripe;
let receiver: Receiver;

useReceiver((r) => {
  receiver = r;
});
useEmulator((e) => ({ emulator, stripe } = e), {
  start: () => ({ webhookUrl: receiver.url, webhookSecret: SECRET, refundDelayMs: 30 }),
  reset: true,
  beforeEach: (e) => {
    e.configureWebhooks({ url: receiver.url, enabledEvents: ['*'], duplicateProbability: 0 });
    e.setRefundDelay(30);
    receiver.received.length = 0;
  },
});

const paid = (payment_method = 'pm_card_visa', amount = 5000) =>
  stripe.paymentIntents.create({ amount, currency: 'usd', payment_method, confirm: true });

/** Each delivered event about `id` (a refund or a charge), verified as Stripe's SDK verifies it. */
const deliveredFor = (id: string) =>
  receiver.received
    .map((r) => stripe.webhooks.constructEvent(r.body, r.signature, SECRET))
    .filter((e) => (e.data.object as { id: string }).id === id);

describe('refund events', () => {
  it('a refund that succeeds emits refund.created, then charge.refunded with the charge', async () => {
    const pi = await paid();
    const refund = await stripe.refunds.create(
      { payment_intent: pi.id, amount: 2000 },
      { idempotencyKey: 'refund-events' },
    );
    await emulator.drainWebhooks();
    const types = receiver.received.map((r) => r.event.type);
    expect(types.slice(-2)).toEqual(['refund.created', 'charge.refunded']);
    const [created] = deliveredFor(refund.id);
    expect(created).toMatchObject({
      type: 'refund.created',
      request: { id: refund.lastResponse.requestId, idempotency_key: 'refund-events' },
      data: { object: { id: refund.id, object: 'refund', status: 'succeeded', amount: 2000 } },
    });
    const [charged] = deliveredFor(pi.latest_charge as string);
    const charge = charged?.data.object as unknown as ChargeObject;
    expect(charge).toMatchObject({
      id: pi.latest_charge,
      object: 'charge',
      amount: 5000,
      amount_captured: 5000,
      amount_refunded: 2000,
      refunded: false,
      captured: true,
      paid: true,
      status: 'succeeded',
      payment_intent: pi.id,
      payment_method: 'pm_card_visa',
      payment_method_details: { type: 'card', card: { brand: 'visa', last4: '4242' } },
    });
    // Refunding the rest makes the charge fully refunded.
    await stripe.refunds.create({ payment_intent: pi.id });
    const listed = await stripe.events.list({ type: 'charge.refunded', limit: 1 });
    expect(listed.data[0]?.data.object).toMatchObject({ amount_refunded: 5000, refunded: true });
    expect((await stripe.events.list({ type: 'refund.*' })).data.map((e) => e.type)).toEqual([
      'refund.created',
      'refund.created',
    ]);
  });

  it('pm_card_pendingRefund: pending, then succeeded (refund.updated, charge.refund.updated, charge.refunded)', async () => {
    const pi = await paid('pm_card_pendingRefund');
    emulator.setRefundDelay(200); // long enough to look at the pending refund
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 3000 });
    expect(refund).toMatchObject({
      status: 'pending',
      pending_reason: 'processing',
      destination_details: { card: { type: 'pending' } },
    });
    expect((await stripe.refunds.retrieve(refund.id)).status).toBe('pending');
    // A pending refund is not refundable again (its money is on its way back)...
    const over = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 2001 }));
    expect(over.message).toBe('Refund amount ($20.01) is greater than unrefunded amount on charge ($20.00)');
    expect(emulator.refunds()).toMatchObject([{ id: refund.id, status: 'pending' }]);

    await emulator.drainWebhooks(); // waits for the refund to settle, and for its events
    const settled = await stripe.refunds.retrieve(refund.id);
    expect(settled).toMatchObject({ status: 'succeeded', destination_details: { card: { type: 'refund' } } });
    expect(settled.pending_reason).toBeUndefined();
    const events = deliveredFor(refund.id);
    expect(events.map((e) => e.type)).toEqual(['refund.created', 'refund.updated', 'charge.refund.updated']);
    expect(events[1]).toMatchObject({
      request: { id: null, idempotency_key: null },
      data: {
        object: { status: 'succeeded' },
        previous_attributes: {
          status: 'pending',
          pending_reason: 'processing',
          destination_details: { card: { type: 'pending' } },
        },
      },
    });
    // ...and only counts in the charge's amount_refunded once it has succeeded.
    const charges = deliveredFor(pi.latest_charge as string);
    expect(charges.map((e) => e.type)).toEqual(['charge.refunded']);
    expect(charges[0]?.data.object).toMatchObject({ amount_refunded: 3000, refunded: false });
  });

  it('pm_card_refundFail: succeeded, then failed; the amount goes back to the charge', async () => {
    const pi = await paid('pm_card_refundFail');
    const refund = await stripe.refunds.create({ payment_intent: pi.id, reason: 'duplicate' });
    expect(refund).toMatchObject({ status: 'succeeded', amount: 5000 });
    expect(refund.failure_reason).toBeUndefined();
    await emulator.drainWebhooks();

    const failed = await stripe.refunds.retrieve(refund.id);
    expect(failed).toMatchObject({
      status: 'failed',
      failure_reason: 'expired_or_canceled_card',
      failure_balance_transaction: expect.stringMatching(/^txn_/),
      reason: 'duplicate',
    });
    expect(deliveredFor(refund.id).map((e) => e.type)).toEqual([
      'refund.created',
      'refund.updated',
      'charge.refund.updated',
      'refund.failed',
    ]);
    expect(deliveredFor(refund.id)[3]?.data.object).toMatchObject({
      failure_reason: 'expired_or_canceled_card',
    });
    expect(deliveredFor(pi.latest_charge as string)[0]?.data.object).toMatchObject({
      amount_refunded: 5000,
      refunded: true,
    });
    expect(emulator.refunds()).toMatchObject([
      { status: 'failed', failure_reason: 'expired_or_canceled_card' },
    ]);

    // The failed refund gave its amount back: the charge can be refunded again.
    const retry = await stripe.refunds.create({ payment_intent: pi.id });
    expect(retry).toMatchObject({ status: 'succeeded', amount: 5000 });
    await emulator.drainWebhooks();
    expect((await stripe.refunds.retrieve(retry.id)).status).toBe('failed'); // the same card fails again
  });

  it('go only to enabled event types, and are duplicated per the seeded probability', async () => {
    emulator.configureWebhooks({ enabledEvents: ['refund.*'], duplicateProbability: 1 });
    const pi = await paid();
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 100 });
    await emulator.drainWebhooks();
    expect(receiver.received.map((r) => r.event.type)).toEqual(['refund.created', 'refund.created']);
    const deliveries = emulator.webhookDeliveries().filter((d) => d.eventType === 'refund.created');
    expect(deliveries.map((d) => d.duplicate)).toEqual([false, true]);
    expect(new Set(receiver.received.map((r) => r.event.id)).size).toBe(1);
    // Every event is recorded regardless: charge.refunded too.
    expect(emulator.events().map((e) => e.type)).toContain('charge.refunded');
    expect((await stripe.events.retrieve(receiver.received[0]?.event.id ?? '')).data.object).toMatchObject({
      id: refund.id,
    });
  });
});
