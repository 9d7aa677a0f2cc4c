import { DEFAULT_RECOVERY_POLICY, reconcile, runRecovery } from '@chargeonce/payments';
import { EMULATOR_SECRET_KEY } from '@chargeonce/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';

/**
 * Authorizations and challenges settled by whoever learns first — the webhook, recovery or
 * reconciliation — with the same conditional statements as the requester, once; effects counted at
 * the emulator. Webhooks are delivered only where a test turns them on.
 */
const WEBHOOK_SECRET = 'whsec_holds_test';
let env: InProcess;
let merchant: Awaited<ReturnType<InProcess['newService']>>;
let stripe: Stripe;
beforeAll(async () => {
  env = await startInProcess({
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CHARGEONCE_RECOVERY_INTERVAL_MS: '0',
    STRIPE_MAX_NETWORK_RETRIES: '0',
  });
  merchant = await env.newService(['orders:read', 'orders:capture']);
  stripe = new Stripe(EMULATOR_SECRET_KEY, {
    host: new URL(env.emulator.url).hostname,
    port: Number(new URL(env.emulator.url).port),
    protocol: 'http',
  });
});
afterAll(async () => {
  await env?.stop();
});

const webhooks = (on: boolean) =>
  env.emulator.configureWebhooks(
    on
      ? { url: `${env.server.url}/webhooks/stripe`, secret: WEBHOOK_SECRET, retryBaseMs: 50, retryMaxMs: 200 }
      : { url: null },
  );
const policy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 };
const intentsOf = (orderId: string) => env.paymentIntentsFor(orderId);

async function authorized(client: Awaited<ReturnType<InProcess['newUser']>>['client']) {
  const order = await client.orders.create.mutate({
    amount: 2500,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    captureMethod: 'manual',
  });
  expect((await client.orders.pay.mutate({ orderId: order.id })).outcome).toBe('authorized');
  const [intent] = intentsOf(order.id);
  if (!intent) throw new Error('no PaymentIntent');
  return { order, intent };
}
const statusOf = async (orderId: string) =>
  (await merchant.client.orders.get.query({ orderId })).order.status;

describe('webhooks settle holds and challenges', () => {
  it('a hold captured outside chargeonce (dashboard): payment_intent.succeeded makes the order paid with what was taken', async () => {
    webhooks(true);
    const { client } = await env.newUser();
    const { order, intent } = await authorized(client);
    await stripe.paymentIntents.capture(intent.id, { amount_to_capture: 2000 });
    await expect.poll(() => statusOf(order.id), { timeout: 10_000 }).toBe('paid');
    const { order: now } = await merchant.client.orders.get.query({ orderId: order.id });
    expect(now.capturedAmount).toBe(2000);
    expect((await merchant.client.orders.capture.mutate({ orderId: order.id })).outcome).toBe(
      'already_captured',
    );
    webhooks(false);
  });

  it('a hold that lapsed: payment_intent.canceled makes the order payable again', async () => {
    webhooks(true);
    const { client } = await env.newUser();
    env.emulator.setAuthorizationTtl(200);
    const { order } = await authorized(client);
    env.emulator.setAuthorizationTtl(7 * 24 * 60 * 60_000);
    await expect.poll(() => statusOf(order.id), { timeout: 10_000 }).toBe('failed');
    webhooks(false);
  });

  it('a completed challenge: payment_intent.succeeded pays the order without the customer coming back', async () => {
    webhooks(true);
    const { client } = await env.newUser();
    const order = await client.orders.create.mutate({
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_threeDSecure2Required',
    });
    expect((await client.orders.pay.mutate({ orderId: order.id })).outcome).toBe('requires_action');
    env.emulator.completeChallenge(intentsOf(order.id)[0]!.id);
    await expect
      .poll(async () => (await env.db.sql`select status from orders where id = ${order.id}`)[0]?.status, {
        timeout: 10_000,
      })
      .toBe('paid');
    webhooks(false);
  });
});

describe('recovery settles captures and voids whose answer was lost, and lapsed holds', () => {
  it('a capture whose answer was lost stays pending; recovery settles it with the same key, once', async () => {
    const { client } = await env.newUser();
    const { order } = await authorized(client);
    env.emulator.setFaults({
      rules: [{ fault: 'error_after', operation: 'payment_intents.capture', times: 1 }],
    });
    const answer = await merchant.client.orders.capture.mutate({ orderId: order.id });
    env.emulator.clearFaults();
    expect(answer).toMatchObject({ outcome: 'pending', order: { status: 'capturing' } });
    expect(intentsOf(order.id)[0]?.status).toBe('succeeded');
    // Within its grace the capture is its requester's to settle: recovery leaves it pending.
    await runRecovery(env.paymentsDeps('recovery-holds'), { ...policy, graceMs: 60_000 });
    expect(await statusOf(order.id)).toBe('capturing');
    const report = await runRecovery(env.paymentsDeps('recovery-holds'), policy);
    expect(report.captures.results.settled).toBeGreaterThanOrEqual(1);
    const { order: now, captures } = await merchant.client.orders.get.query({ orderId: order.id });
    expect(now).toMatchObject({ status: 'paid', capturedAmount: 2500 });
    expect(captures).toMatchObject([{ kind: 'capture', status: 'succeeded' }]);
    // A retry of the capture now finds it done.
    expect((await merchant.client.orders.capture.mutate({ orderId: order.id })).outcome).toBe(
      'already_captured',
    );
  });

  it('a void whose request failed with a 5xx stays pending; recovery repeats it with the same key', async () => {
    const { client } = await env.newUser();
    const { order } = await authorized(client);
    env.emulator.setFaults({
      rules: [{ fault: 'error_before', operation: 'payment_intents.cancel', times: 1 }],
    });
    const answer = await merchant.client.orders.void.mutate({ orderId: order.id });
    env.emulator.clearFaults();
    // A 5xx says nothing about whether it ran: pending, and the hold is still open at the provider.
    expect(answer).toMatchObject({ outcome: 'pending', order: { status: 'voiding' } });
    expect(intentsOf(order.id)[0]?.status).toBe('requires_capture');
    await runRecovery(env.paymentsDeps('recovery-holds'), policy);
    expect(await statusOf(order.id)).toBe('canceled');
    expect(intentsOf(order.id)[0]).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'requested_by_customer',
    });
  });

  it('an open hold past the check age is re-read: lapsed -> payable again (no webhook)', async () => {
    const { client } = await env.newUser();
    env.emulator.setAuthorizationTtl(100);
    const { order } = await authorized(client);
    env.emulator.setAuthorizationTtl(7 * 24 * 60 * 60_000);
    await expect.poll(() => intentsOf(order.id)[0]?.status, { timeout: 10_000 }).toBe('canceled');
    expect(await statusOf(order.id)).toBe('authorized');
    // Younger than the check age, a hold is not re-read (the webhook is expected first).
    await runRecovery(env.paymentsDeps('recovery-holds'), { ...policy, authorizationCheckAfterMs: 60_000 });
    expect(await statusOf(order.id)).toBe('authorized');
    const report = await runRecovery(env.paymentsDeps('recovery-holds'), {
      ...policy,
      authorizationCheckAfterMs: 0,
    });
    expect(report.captures.results.authorization_settled).toBeGreaterThanOrEqual(1);
    expect(await statusOf(order.id)).toBe('failed');
  });
});

describe('reconciliation', () => {
  it('heals a hold captured outside chargeonce while no webhook came', async () => {
    const { client } = await env.newUser();
    const { order, intent } = await authorized(client);
    await stripe.paymentIntents.capture(intent.id);
    expect(await statusOf(order.id)).toBe('authorized');
    const report = await reconcile(env.paymentsDeps('reconcile-holds'), {
      from: new Date(Date.now() - 60_000),
      to: new Date(Date.now() + 60_000),
    });
    expect(report.findings).toContainEqual(
      expect.objectContaining({ kind: 'orphan_healed', orderId: order.id }),
    );
    expect(await statusOf(order.id)).toBe('paid');
  });

  it('heals a completed challenge and a lapsed hold nobody was told of', async () => {
    const { client } = await env.newUser();
    const challenged = await client.orders.create.mutate({
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_threeDSecure2Required',
      captureMethod: 'manual',
    });
    await client.orders.pay.mutate({ orderId: challenged.id });
    env.emulator.completeChallenge(intentsOf(challenged.id)[0]!.id);
    env.emulator.setAuthorizationTtl(100);
    const { order: lapsing } = await authorized(client);
    env.emulator.setAuthorizationTtl(7 * 24 * 60 * 60_000);
    await expect.poll(() => intentsOf(lapsing.id)[0]?.status, { timeout: 10_000 }).toBe('canceled');
    const report = await reconcile(env.paymentsDeps('reconcile-holds'), {
      from: new Date(Date.now() - 60_000),
      to: new Date(Date.now() + 60_000),
    });
    const healed = report.findings.filter((f) => f.kind === 'authorization_healed').map((f) => f.orderId);
    expect(healed).toEqual(expect.arrayContaining([challenged.id, lapsing.id]));
    expect(await statusOf(challenged.id)).toBe('authorized');
    expect(await statusOf(lapsing.id)).toBe('failed');
  });

  it('re-reads only PaymentIntents that settle a hold: a challenge still awaiting the customer is left alone', async () => {
    const { client } = await env.newUser();
    const waiting = await client.orders.create.mutate({
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_threeDSecure2Required',
    });
    expect((await client.orders.pay.mutate({ orderId: waiting.id })).outcome).toBe('requires_action');
    env.emulator.setAuthorizationTtl(100);
    const { order: lapsing } = await authorized(client);
    env.emulator.setAuthorizationTtl(7 * 24 * 60 * 60_000);
    await expect.poll(() => intentsOf(lapsing.id)[0]?.status, { timeout: 10_000 }).toBe('canceled');
    // Every re-read fails: one made shows as authorization_unknown for its order.
    env.emulator.setFaults({ rules: [{ fault: 'error_before', operation: 'payment_intents.retrieve' }] });
    let report: Awaited<ReturnType<typeof reconcile>>;
    try {
      report = await reconcile(env.paymentsDeps('reconcile-holds'), {
        from: new Date(Date.now() - 60_000),
        to: new Date(Date.now() + 60_000),
      });
    } finally {
      env.emulator.clearFaults();
    }
    const of = (orderId: string) => report.findings.filter((f) => f.orderId === orderId).map((f) => f.kind);
    expect(of(lapsing.id)).toEqual(['authorization_unknown']);
    // The list already says the challenge awaits the customer: nothing to re-read, nothing found.
    expect(of(waiting.id)).toEqual([]);
    expect(await statusOf(waiting.id)).toBe('requires_action');
  });

  it('reports without healing when told not to: a lapsed hold stays authorized', async () => {
    const { client } = await env.newUser();
    env.emulator.setAuthorizationTtl(100);
    const { order: lapsing } = await authorized(client);
    env.emulator.setAuthorizationTtl(7 * 24 * 60 * 60_000);
    await expect.poll(() => intentsOf(lapsing.id)[0]?.status, { timeout: 10_000 }).toBe('canceled');
    const report = await reconcile(
      env.paymentsDeps('reconcile-holds'),
      { from: new Date(Date.now() - 60_000), to: new Date(Date.now() + 60_000) },
      { heal: false },
    );
    expect(report.findings.filter((f) => f.orderId === lapsing.id)).toEqual([]);
    expect(await statusOf(lapsing.id)).toBe('authorized');
  });
});
