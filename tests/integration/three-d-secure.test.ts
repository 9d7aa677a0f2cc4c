import { DEFAULT_RECOVERY_POLICY, runRecovery } from '@chargeonce/payments';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';

/**
 * 3-D Secure end to end: the pay answers `requires_action` with the challenge page, and the order
 * settles from whichever comes first — the return (`orders.get` re-reads the PaymentIntent), the
 * webhook, or recovery — once. Effects are counted at the emulator.
 */
const CARD = 'pm_card_threeDSecure2Required';
const WEBHOOK_SECRET = 'whsec_3ds_test';
let env: InProcess;
beforeAll(async () => {
  env = await startInProcess({
    CHARGEONCE_RECOVERY_INTERVAL_MS: '0',
    CHARGEONCE_RETURN_URL: 'https://shop.example/orders/{orderId}',
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
  });
});
afterAll(async () => {
  await env?.stop();
});

type Client = Awaited<ReturnType<InProcess['newUser']>>['client'];
async function challenged(client: Client, captureMethod: 'automatic' | 'manual' = 'automatic') {
  const order = await client.orders.create.mutate({
    amount: 4200,
    currency: 'eur',
    paymentMethodId: CARD,
    captureMethod,
  });
  const answer = await client.orders.pay.mutate({ orderId: order.id });
  if (answer.outcome !== 'requires_action')
    throw new Error(`expected requires_action, got ${answer.outcome}`);
  const [intent] = env.paymentIntentsFor(order.id);
  if (!intent) throw new Error('no PaymentIntent');
  return { order, answer, intent };
}

describe('orders.pay with a card that asks for 3-D Secure', () => {
  it('answers requires_action with the challenge page; paying again sends the customer to the same one', async () => {
    const { client } = await env.newUser();
    const { order, answer } = await challenged(client);
    expect(answer.order.status).toBe('requires_action');
    expect(answer.redirectUrl).toMatch(/\/_emulator\/3ds\//);
    const again = await client.orders.pay.mutate({ orderId: order.id });
    expect(again).toMatchObject({ outcome: 'requires_action', redirectUrl: answer.redirectUrl });
    expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
    const { attempts } = await client.orders.get.query({ orderId: order.id });
    expect(attempts).toMatchObject([{ status: 'requires_action', actionUrl: answer.redirectUrl }]);
  });

  it('completed: the return re-reads the PaymentIntent and the order is paid, once', async () => {
    const { client } = await env.newUser();
    const { order, intent } = await challenged(client);
    const done = env.emulator.completeChallenge(intent.id);
    expect(done.redirectUrl).toContain(`https://shop.example/orders/${order.id}`);
    const { order: now } = await client.orders.get.query({ orderId: order.id });
    expect(now).toMatchObject({ status: 'paid', paymentIntentId: intent.id, capturedAmount: 4200 });
    expect(env.paymentIntentsFor(order.id).map((pi) => pi.status)).toEqual(['succeeded']);
    expect((await client.orders.pay.mutate({ orderId: order.id })).outcome).toBe('already_paid');
  });

  it('completed: the webhook, the return and recovery racing settle it once', async () => {
    env.emulator.configureWebhooks({ url: `${env.server.url}/webhooks/stripe`, secret: WEBHOOK_SECRET });
    const { client } = await env.newUser();
    const { order, intent, answer } = await challenged(client);
    env.emulator.completeChallenge(intent.id);
    const policy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 };
    await Promise.all([
      ...Array.from({ length: 4 }, () => client.orders.get.query({ orderId: order.id })),
      runRecovery(env.paymentsDeps('recovery-3ds-race'), policy),
      env.emulator.drainWebhooks(),
    ]);
    const { order: now } = await client.orders.get.query({ orderId: order.id });
    // One settle: the version moved once past the challenge's.
    expect(now).toMatchObject({ status: 'paid', version: answer.order.version + 1 });
    expect(env.paymentIntentsFor(order.id).map((pi) => pi.status)).toEqual(['succeeded']);
    env.emulator.configureWebhooks({ url: null });
  });

  it('completed for an order to capture later: authorized', async () => {
    const { client } = await env.newUser();
    const { order, intent } = await challenged(client, 'manual');
    env.emulator.completeChallenge(intent.id);
    expect((await client.orders.get.query({ orderId: order.id })).order.status).toBe('authorized');
  });

  it('failed: the order is payable again, and another card pays it', async () => {
    const { client } = await env.newUser();
    const { order, intent } = await challenged(client);
    env.emulator.failChallenge(intent.id);
    const { order: now, attempts } = await client.orders.get.query({ orderId: order.id });
    expect(now.status).toBe('failed');
    expect(attempts[0]?.declineCode).toBe('payment_intent_authentication_failure');
    const paid = await client.orders.pay.mutate({ orderId: order.id, paymentMethodId: 'pm_card_visa' });
    expect(paid.outcome).toBe('charged');
    expect(env.paymentIntentsFor(order.id).map((pi) => pi.status)).toEqual([
      'requires_payment_method',
      'succeeded',
    ]);
  });

  it('abandoned: recovery cancels the PaymentIntent after the challenge timeout and the order is payable again', async () => {
    const { client } = await env.newUser();
    const { order, intent } = await challenged(client);
    const policy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0, challengeTimeoutMs: 0 };
    const report = await runRecovery(env.paymentsDeps('recovery-3ds'), policy);
    expect(report.results.failed).toBeGreaterThanOrEqual(1);
    expect(env.paymentIntentsFor(order.id)[0]).toMatchObject({
      status: 'canceled',
      cancellation_reason: 'abandoned',
    });
    const { order: now, attempts } = await client.orders.get.query({ orderId: order.id });
    expect(now.status).toBe('failed');
    expect(attempts[0]).toMatchObject({
      status: 'failed',
      errorCode: 'canceled_abandoned',
      declineCode: null,
    });
    // A late completion finds nothing to complete.
    expect(env.emulator.completeChallenge(intent.id).changed).toBe(false);
    // The same card may try again at once: an abandoned challenge is no decline.
    expect((await client.orders.pay.mutate({ orderId: order.id })).outcome).toBe('requires_action');
  });

  it('within its timeout a challenge is left to the customer: recovery only re-reads it', async () => {
    const { client } = await env.newUser();
    const { order } = await challenged(client);
    const policy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 };
    await runRecovery(env.paymentsDeps('recovery-3ds-open'), policy);
    expect(env.paymentIntentsFor(order.id)[0]?.status).toBe('requires_action');
    expect((await client.orders.get.query({ orderId: order.id })).order.status).toBe('requires_action');
  });
});
