import { createStripeGateway, type PaymentGateway } from '@chargeonce/payments';
import { EMULATOR_SECRET_KEY } from '@chargeonce/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';

/** Not a real secret: the signing key of this test's webhook endpoint. */
const WEBHOOK_SECRET = 'whsec_chargeonce_test_endpoint';
const stripe = new Stripe(EMULATOR_SECRET_KEY);

let env: InProcess;
/** When set, the next successful charge delivers its webhook before the payer hears back. */
let webhookBeforeResponse = false;
beforeAll(async () => {
  let real: PaymentGateway | undefined;
  const gateway: PaymentGateway = {
    charge: async (request) => {
      const result = await real!.charge(request);
      if (webhookBeforeResponse && result.kind === 'succeeded') {
        webhookBeforeResponse = false;
        const pi = env.emulator.paymentIntents().find((p) => p.id === result.paymentIntentId)!;
        const res = await deliver(event('payment_intent.succeeded', pi));
        expect(await res.json()).toMatchObject({ result: 'finalized' });
      }
      return result;
    },
    retrieve: (id) => real!.retrieve(id),
    findByAttempt: (id, options) => real!.findByAttempt(id, options),
    listPaymentIntents: (w) => real!.listPaymentIntents(w),
    capture: (request) => real!.capture(request),
    cancel: (request) => real!.cancel(request),
    refund: (request) => real!.refund(request),
    retrieveRefund: (id) => real!.retrieveRefund(id),
    listRefunds: (paymentIntentId) => real!.listRefunds(paymentIntentId),
  };
  env = await startInProcess(
    // The gateway (and so its 300 ms timeout) is this test's own, wrapped for ordering control.
    { STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET, CHARGEONCE_RECOVERY_INTERVAL_MS: '0' },
    { gateway },
  );
  real = createStripeGateway({
    secretKey: EMULATOR_SECRET_KEY,
    apiBase: env.emulator.url,
    timeoutMs: 300,
    maxNetworkRetries: 0,
  });
});
afterAll(async () => {
  await env?.stop();
});

let eventSeq = 0;
function event(
  type: string,
  pi: { id: string; metadata: Record<string, string> },
  id = `evt_test_${++eventSeq}`,
) {
  return {
    id,
    object: 'event',
    type,
    created: Math.floor(Date.now() / 1000),
    data: { object: { ...pi, object: 'payment_intent' } },
  };
}
function deliver(
  body: object,
  options: { secret?: string; timestamp?: number; header?: string | null } = {},
) {
  const payload = JSON.stringify(body);
  const header =
    options.header === undefined
      ? stripe.webhooks.generateTestHeaderString({
          payload,
          secret: options.secret ?? WEBHOOK_SECRET,
          ...(options.timestamp ? { timestamp: options.timestamp } : {}),
        })
      : options.header;
  return fetch(`${env.server.url}/webhooks/stripe`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(header === null ? {} : { 'stripe-signature': header }),
    },
    body: payload,
  });
}
const orderState = async (orderId: string) =>
  (await env.db.sql`select status, payment_intent_id, version from orders where id = ${orderId}`)[0];

/** An order whose pay timed out while the provider charged: the webhook's job to settle. */
async function unsettledOrder(paymentMethodId = 'pm_card_visa') {
  const { client } = await env.newUser();
  const o = await client.orders.create.mutate({ amount: 4100, currency: 'usd', paymentMethodId });
  await env.payWithLostResponse(client, o.id);
  return { client, order: o, pi: env.paymentIntentsFor(o.id)[0]! };
}

describe('POST /webhooks/stripe', () => {
  it('finalizes an unsettled payment; delivered twice, it is applied once', async () => {
    const { order, pi, client } = await unsettledOrder();
    const body = event('payment_intent.succeeded', pi);
    const first = await deliver(body);
    expect(first.status).toBe(200);
    expect(await first.json()).toMatchObject({ result: 'finalized' });
    expect(await orderState(order.id)).toMatchObject({
      status: 'paid',
      payment_intent_id: pi.id,
      version: 3,
    });
    const second = await deliver(body);
    expect(await second.json()).toMatchObject({ result: 'duplicate' });
    expect(await orderState(order.id)).toMatchObject({ version: 3 });
    expect(await client.orders.pay.mutate({ orderId: order.id })).toMatchObject({ outcome: 'already_paid' });
  });

  it('re-reads the PaymentIntent: a stale payment_failed for a succeeded PaymentIntent pays the order', async () => {
    const { order, pi } = await unsettledOrder();
    const res = await deliver(event('payment_intent.payment_failed', pi));
    expect(await res.json()).toMatchObject({ result: 'finalized' });
    expect(await orderState(order.id)).toMatchObject({ status: 'paid' });
  });

  it('the usual event after the payer settled is recorded as already_final; its redelivery is a duplicate', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 1500,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    expect((await client.orders.pay.mutate({ orderId: o.id })).outcome).toBe('charged');
    const body = event('payment_intent.succeeded', env.paymentIntentsFor(o.id)[0]!);
    expect(await (await deliver(body)).json()).toMatchObject({ result: 'already_final' });
    expect(await (await deliver(body)).json()).toMatchObject({ result: 'duplicate' });
    expect(await env.db.sql`select result from stripe_events where id = ${body.id}`).toEqual([
      { result: 'already_final' },
    ]);
  });

  it('a bad, missing or stale signature is 400 and changes nothing', async () => {
    const { order, pi } = await unsettledOrder();
    const body = event('payment_intent.succeeded', pi);
    const before = await orderState(order.id);
    for (const res of [
      await deliver(body, { secret: 'whsec_someone_else' }),
      await deliver(body, { header: null }),
      await deliver(body, { header: 't=1,v1=deadbeef' }),
      await deliver(body, { timestamp: Math.floor(Date.now() / 1000) - 301 }),
      await deliver(body, { timestamp: Math.floor(Date.now() / 1000) + 3600 }),
    ]) {
      expect(res.status).toBe(400);
    }
    expect(await orderState(order.id)).toEqual(before);
    expect(await env.db.sql`select 1 from stripe_events where id = ${body.id}`).toHaveLength(0);
  });

  it('an event for a PaymentIntent we never made is acknowledged and recorded for reconciliation', async () => {
    const res = await deliver(event('payment_intent.succeeded', { id: 'pi_not_ours', metadata: {} }));
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ result: 'unknown_payment_intent' });
  });

  it('the webhook arriving before the pay response: one charge, paid, and the payer still says charged', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 900,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    webhookBeforeResponse = true;
    const result = await client.orders.pay.mutate({ orderId: o.id });
    expect(webhookBeforeResponse).toBe(false); // the webhook really went first
    expect(result.outcome).toBe('charged');
    expect(env.paymentIntentsFor(o.id)).toHaveLength(1);
    expect(await orderState(o.id)).toMatchObject({ status: 'paid' });
  });
});
