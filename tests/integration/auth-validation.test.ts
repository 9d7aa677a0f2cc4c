import { createChargeonceClient } from '@chargeonce/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';

let env: InProcess;
beforeAll(async () => {
  env = await startInProcess();
});
afterAll(async () => {
  await env?.stop();
});

/** Every row of the tables a request could touch, to prove a refused request changed nothing. */
const snapshot = async () => ({
  orders: await env.db.sql`select * from orders order by id`,
  attempts: await env.db.sql`select * from payment_attempts order by id`,
});

describe('authorization', () => {
  it("another user's token can neither read nor pay the order (NOT_FOUND), and it stays unpaid", async () => {
    const alice = await env.newUser('alice');
    const mallory = await env.newUser('mallory');
    const order = await alice.client.orders.create.mutate({
      amount: 900,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });

    expect(await trpcError(mallory.client.orders.get.query({ orderId: order.id }))).toMatchObject({
      code: 'NOT_FOUND',
      domainCode: 'ORDER_NOT_FOUND',
    });
    expect(await trpcError(mallory.client.orders.pay.mutate({ orderId: order.id }))).toMatchObject({
      code: 'NOT_FOUND',
    });
    // Mallory's own list holds only her order, and Alice's order id as a cursor reveals nothing.
    const own = await mallory.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    expect((await mallory.client.orders.list.query()).items.map((o) => o.id)).toEqual([own.id]);
    expect(await mallory.client.orders.list.query({ cursor: order.id })).toEqual({
      items: [],
      nextCursor: null,
    });
    expect(env.paymentIntentsFor(order.id)).toHaveLength(0);
    expect((await alice.client.orders.get.query({ orderId: order.id })).order).toMatchObject({
      status: 'pending',
      version: 1,
    });
  });

  it('a missing or unknown token is UNAUTHORIZED', async () => {
    const anonymous = createChargeonceClient({ url: env.server.url, token: '' });
    const forged = createChargeonceClient({ url: env.server.url, token: 'co_forged' });
    expect(await trpcError(anonymous.orders.list.query())).toMatchObject({
      code: 'UNAUTHORIZED',
      httpStatus: 401,
    });
    expect(await trpcError(forged.orders.list.query())).toMatchObject({ code: 'UNAUTHORIZED' });
    const raw = await fetch(`${env.server.url}/trpc/orders.list`, {
      headers: { authorization: 'Basic abc' },
    });
    expect(raw.status).toBe(401);
  });

  it('orders.list pages newest first with a cursor, own orders only', async () => {
    const user = await env.newUser();
    const created = [];
    for (let i = 1; i <= 5; i++) {
      created.push(
        await user.client.orders.create.mutate({
          amount: i * 100,
          currency: 'usd',
          paymentMethodId: 'pm_card_visa',
        }),
      );
    }
    const first = await user.client.orders.list.query({ limit: 2 });
    const second = await user.client.orders.list.query({ limit: 2, cursor: first.nextCursor });
    const third = await user.client.orders.list.query({ limit: 2, cursor: second.nextCursor });
    const ids = [...first.items, ...second.items, ...third.items].map((o) => o.id);
    expect(ids).toEqual(created.map((o) => o.id).reverse());
    expect(third.nextCursor).toBeNull();
  });
});

describe('validation', () => {
  const bad: Array<[string, Record<string, unknown>]> = [
    ['negative amount', { amount: -5, currency: 'usd', paymentMethodId: 'pm_card_visa' }],
    ['zero amount', { amount: 0, currency: 'usd', paymentMethodId: 'pm_card_visa' }],
    ['fractional amount', { amount: 10.5, currency: 'usd', paymentMethodId: 'pm_card_visa' }],
    ['string amount', { amount: '100', currency: 'usd', paymentMethodId: 'pm_card_visa' }],
    ['huge amount', { amount: 1e12, currency: 'usd', paymentMethodId: 'pm_card_visa' }],
    [
      'an amount under Stripe’s minimum charge',
      { amount: 49, currency: 'usd', paymentMethodId: 'pm_card_visa' },
    ],
    ['bad currency', { amount: 100, currency: 'dollars', paymentMethodId: 'pm_card_visa' }],
    ['bad payment method', { amount: 100, currency: 'usd', paymentMethodId: 'visa; drop table orders' }],
    ['unknown field', { amount: 100, currency: 'usd', paymentMethodId: 'pm_card_visa', status: 'paid' }],
  ];
  it.each(bad)('orders.create with %s is BAD_REQUEST and changes nothing', async (_name, input) => {
    const user = await env.newUser();
    const before = await snapshot();
    const error = await trpcError(user.client.orders.create.mutate(input as never));
    expect(error).toMatchObject({ code: 'BAD_REQUEST', httpStatus: 400 });
    expect(await snapshot()).toEqual(before);
  });

  it('orders.pay with bad input is BAD_REQUEST and changes nothing', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    const before = await snapshot();
    for (const input of [
      { orderId: 'not-a-uuid' },
      { orderId: order.id, paymentMethodId: 'card' },
      { orderId: order.id, extra: true },
      {},
    ]) {
      expect(await trpcError(user.client.orders.pay.mutate(input as never))).toMatchObject({
        code: 'BAD_REQUEST',
      });
    }
    expect(await snapshot()).toEqual(before);
    expect(env.paymentIntentsFor(order.id)).toHaveLength(0);
  });

  it('an unknown order id is NOT_FOUND', async () => {
    const user = await env.newUser();
    expect(
      await trpcError(user.client.orders.pay.mutate({ orderId: '00000000-0000-4000-8000-000000000000' })),
    ).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('errors carry no stack trace or internals', async () => {
    const res = await fetch(`${env.server.url}/trpc/orders.pay`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer nope' },
      body: '{"orderId":',
    });
    const text = await res.text();
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(text).not.toMatch(/stack|at .*\.ts:\d+/);
  });
});
