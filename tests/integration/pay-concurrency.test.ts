import { createStripeGateway } from '@chargeonce/payments';
import { EMULATOR_SECRET_KEY } from '@chargeonce/stripe-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';
import { metricSum } from '../support/metrics';
import { naivePay } from '../support/naive-pay';

/**
 * Concurrency claims, proven at the provider: requests are fired together (all issued before any
 * is awaited) and the PaymentIntents the emulator created for the order are counted.
 */
let env: InProcess;
beforeAll(async () => {
  env = await startInProcess();
});
afterAll(async () => {
  await env?.stop();
});

const conflicts = () => metricSum([env.server.url], 'chargeonce_claim_conflicts_total');

async function newOrder() {
  const user = await env.newUser();
  const order = await user.client.orders.create.mutate({
    amount: 1999,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  return { user, order };
}

describe('orders.pay under concurrency', () => {
  it('2 concurrent pays: one charged, one already_paid, one PaymentIntent', async () => {
    const { user, order } = await newOrder();
    const conflictsBefore = await conflicts();
    // Provider latency so the two requests overlap even on a loaded machine; the conflict counter proves it.
    env.emulator.setLatency(300);
    const results = await Promise.all([
      user.client.orders.pay.mutate({ orderId: order.id }),
      user.client.orders.pay.mutate({ orderId: order.id }),
    ]).finally(() => env.emulator.setLatency(0));
    expect(await conflicts()).toBeGreaterThan(conflictsBefore);
    const outcomes = results.map((r) => r.outcome).sort();
    expect(outcomes).toEqual(['already_paid', 'charged']);
    const intents = env.paymentIntentsFor(order.id);
    expect(intents).toHaveLength(1);
    expect(intents[0]!.status).toBe('succeeded');
    for (const r of results) {
      expect(r.order.status).toBe('paid');
      expect('paymentIntentId' in r && r.paymentIntentId).toBe(intents[0]!.id);
    }
  });

  it('5 rapid pays: one charge', async () => {
    const { user, order } = await newOrder();
    const pending = [];
    for (let i = 0; i < 5; i++) pending.push(user.client.orders.pay.mutate({ orderId: order.id }));
    const results = await Promise.all(pending);
    expect(results.filter((r) => r.outcome === 'charged')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'already_paid')).toHaveLength(4);
    expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
  });

  it('a pay after the order is paid answers already_paid with the same PaymentIntent', async () => {
    const { user, order } = await newOrder();
    const first = await user.client.orders.pay.mutate({ orderId: order.id });
    const second = await user.client.orders.pay.mutate({ orderId: order.id });
    expect(first.outcome).toBe('charged');
    expect(second.outcome).toBe('already_paid');
    expect('paymentIntentId' in second && second.paymentIntentId).toBe(
      'paymentIntentId' in first && first.paymentIntentId,
    );
    expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
  });

  it('a double-click on a declining card is one decline, not one per click', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_chargeDeclined',
    });
    env.emulator.setLatency(300); // the clicks overlap the first charge, even on a loaded machine
    const errors = await Promise.all(
      Array.from({ length: 5 }, () => trpcError(user.client.orders.pay.mutate({ orderId: order.id }))),
    ).finally(() => env.emulator.setLatency(0));
    for (const error of errors)
      expect(error).toMatchObject({ code: 'PAYMENT_REQUIRED', declineCode: 'generic_decline' });
    expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
    expect(await env.db.sql`select 1 from payment_attempts where order_id = ${order.id}`).toHaveLength(1);
  });

  it('100 pays on a declining card arriving over ~80 ms (raw HTTP): one PaymentIntent, every caller the 402 decline', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_chargeDeclined',
    });
    // Staggered, as clicks and retries arrive: most land after the first decline is recorded.
    const pay = (delayMs: number) =>
      new Promise((resolve) => setTimeout(resolve, delayMs)).then(async () => {
        const res = await fetch(`${env.server.url}/trpc/orders.pay`, {
          method: 'POST',
          headers: { authorization: `Bearer ${user.token}`, 'content-type': 'application/json' },
          body: JSON.stringify({ orderId: order.id }),
        });
        return { status: res.status, body: await res.json() };
      });
    const answers = await Promise.all(Array.from({ length: 100 }, (_, i) => pay(i * 0.8)));
    for (const answer of answers) {
      expect(answer).toMatchObject({
        status: 402,
        body: {
          error: {
            data: {
              code: 'PAYMENT_REQUIRED',
              domainCode: 'PAYMENT_DECLINED',
              declineCode: 'generic_decline',
            },
          },
        },
      });
    }
    expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
    expect(await env.db.sql`select 1 from payment_attempts where order_id = ${order.id}`).toHaveLength(1);
  });

  it('the harness catches a double charge: naive check-then-act charges more than once', async () => {
    // Provider latency widens the check-to-update window as a real network does.
    env.emulator.setLatency(30);
    try {
      const gateway = createStripeGateway({
        secretKey: EMULATOR_SECRET_KEY,
        apiBase: env.emulator.url,
        maxNetworkRetries: 0,
      });
      const { order } = await newOrder();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => naivePay(env.db.db, gateway, order.id)),
      );
      expect(results.filter((r) => r === 'charged').length).toBeGreaterThan(1);
      expect(env.paymentIntentsFor(order.id).length).toBeGreaterThan(1);
    } finally {
      env.emulator.setLatency(0);
    }
  });

  it('the same harness with the same latency: chargeonce still charges once', async () => {
    env.emulator.setLatency(30);
    try {
      const { user, order } = await newOrder();
      const results = await Promise.all(
        Array.from({ length: 5 }, () => user.client.orders.pay.mutate({ orderId: order.id })),
      );
      expect(results.filter((r) => r.outcome === 'charged')).toHaveLength(1);
      expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
    } finally {
      env.emulator.setLatency(0);
    }
  });
});
