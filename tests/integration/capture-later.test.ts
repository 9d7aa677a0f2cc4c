import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';

/**
 * Authorize now, capture later, end to end: typed client -> server -> real PostgreSQL -> the real
 * stripe SDK -> the emulator's manual-capture PaymentIntents. Effects are counted at the emulator.
 */
let env: InProcess;
let merchant: Awaited<ReturnType<InProcess['newService']>>;
beforeAll(async () => {
  env = await startInProcess({ CHARGEONCE_RECOVERY_INTERVAL_MS: '0' });
  merchant = await env.newService(['orders:read', 'orders:capture']);
});
afterAll(async () => {
  await env?.stop();
});

type Client = Awaited<ReturnType<InProcess['newUser']>>['client'];
async function authorizedOrder(client: Client, amount = 5000) {
  const order = await client.orders.create.mutate({
    amount,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    captureMethod: 'manual',
  });
  const paid = await client.orders.pay.mutate({ orderId: order.id });
  expect(paid).toMatchObject({
    outcome: 'authorized',
    order: { status: 'authorized', captureMethod: 'manual' },
  });
  return order;
}
const intentsOf = (orderId: string) => env.paymentIntentsFor(orderId);
async function expectRefused(call: Promise<unknown>, code: string, message?: RegExp) {
  const error = await trpcError(call);
  expect(error.code).toBe(code);
  if (message) expect(error.message).toMatch(message);
}

describe('orders.pay on an order to capture later', () => {
  it('authorizes once: the funds are held, nothing is captured, paying again answers already_authorized', async () => {
    const { client } = await env.newUser();
    const order = await authorizedOrder(client);
    const again = await client.orders.pay.mutate({ orderId: order.id });
    expect(again.outcome).toBe('already_authorized');
    const intents = intentsOf(order.id);
    expect(intents).toHaveLength(1);
    expect(intents[0]).toMatchObject({
      status: 'requires_capture',
      amount_capturable: 5000,
      amount_received: 0,
    });
  });
});

describe('orders.capture and orders.void', () => {
  it('captures part of an authorization once; the rest is released and refunds are bounded by what was taken', async () => {
    const { client } = await env.newUser();
    const order = await authorizedOrder(client);
    const bystander = await authorizedOrder(client, 6000);
    const captured = await merchant.client.orders.capture.mutate({ orderId: order.id, amount: 3000 });
    expect(captured).toMatchObject({
      outcome: 'captured',
      order: { status: 'paid', capturedAmount: 3000 },
      capture: { kind: 'capture', amount: 3000, status: 'succeeded' },
    });
    expect(intentsOf(order.id)[0]).toMatchObject({ status: 'succeeded', amount_received: 3000 });
    // The capture statement took this order only (an amount guard once leaked past its WHERE).
    expect((await client.orders.get.query({ orderId: bystander.id })).order.status).toBe('authorized');
    const again = await merchant.client.orders.capture.mutate({ orderId: order.id });
    expect(again.outcome).toBe('already_captured');
    await expectRefused(
      client.orders.refund.mutate({ orderId: order.id, amount: 3001 }),
      'CONFLICT',
      /only 3000/,
    );
    const refunded = await client.orders.refund.mutate({ orderId: order.id });
    expect(refunded).toMatchObject({
      outcome: 'refunded',
      order: { status: 'refunded', refundedAmount: 3000 },
    });
  });

  it('voids an authorization once: the order ends canceled and cannot be captured', async () => {
    const { client } = await env.newUser();
    const order = await authorizedOrder(client);
    const voided = await merchant.client.orders.void.mutate({ orderId: order.id });
    expect(voided).toMatchObject({
      outcome: 'voided',
      order: { status: 'canceled' },
      capture: { kind: 'void' },
    });
    expect(intentsOf(order.id)[0]).toMatchObject({ status: 'canceled', amount_received: 0 });
    expect((await merchant.client.orders.void.mutate({ orderId: order.id })).outcome).toBe('already_voided');
    await expectRefused(merchant.client.orders.capture.mutate({ orderId: order.id }), 'CONFLICT', /voided/);
  });

  it('a capture racing a void: exactly one wins, and the emulator agrees', async () => {
    for (let trial = 0; trial < 5; trial++) {
      const { client } = await env.newUser();
      const order = await authorizedOrder(client);
      const [capture, voided] = await Promise.allSettled([
        merchant.client.orders.capture.mutate({ orderId: order.id }),
        merchant.client.orders.void.mutate({ orderId: order.id }),
      ]);
      const won = [capture, voided].filter((r) => r.status === 'fulfilled');
      expect(won).toHaveLength(1);
      const [intent] = intentsOf(order.id);
      expect(intent?.status).toBe(capture.status === 'fulfilled' ? 'succeeded' : 'canceled');
    }
  });

  it('refuses a capture of more than was authorized, a capture of an order paid at once, and bad input, changing nothing', async () => {
    const { client } = await env.newUser();
    const order = await authorizedOrder(client);
    await expectRefused(
      merchant.client.orders.capture.mutate({ orderId: order.id, amount: 5001 }),
      'CONFLICT',
      /only 5000 was authorized/,
    );
    await expectRefused(
      merchant.client.orders.capture.mutate({ orderId: order.id, amount: 0 } as never),
      'BAD_REQUEST',
      /greater than 0/,
    );
    expect(intentsOf(order.id)[0]?.status).toBe('requires_capture');
    const atOnce = await client.orders.create.mutate({
      amount: 1000,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await client.orders.pay.mutate({ orderId: atOnce.id });
    await expectRefused(
      merchant.client.orders.capture.mutate({ orderId: atOnce.id }),
      'CONFLICT',
      /only an order authorized to capture later/,
    );
    // A customer's token carries no orders:capture.
    await expectRefused(client.orders.capture.mutate({ orderId: order.id }), 'FORBIDDEN');
  });

  it('an authorization that lapsed at the provider: the capture answers AUTHORIZATION_EXPIRED and the order is payable again', async () => {
    const { client } = await env.newUser();
    env.emulator.setAuthorizationTtl(300);
    const order = await authorizedOrder(client);
    env.emulator.setAuthorizationTtl(7 * 24 * 60 * 60_000);
    await expect.poll(() => intentsOf(order.id)[0]?.status, { timeout: 10_000 }).toBe('canceled');
    await expectRefused(merchant.client.orders.capture.mutate({ orderId: order.id }), 'CONFLICT', /expired/);
    const { order: now } = await client.orders.get.query({ orderId: order.id });
    expect(now.status).toBe('failed');
    const repaid = await client.orders.pay.mutate({ orderId: order.id });
    expect(repaid.outcome).toBe('authorized');
    expect(intentsOf(order.id).map((pi) => pi.status)).toEqual(['canceled', 'requires_capture']);
  });
});
