import { createStripeClient, DomainError, minimumChargeAmount } from '@chargeonce/payments';
import { describe, expect, it } from 'vitest';
import { type Caller, trpcError, useApiEnv, visaOrder } from './support';

/**
 * Every orders procedure through `createCaller` on real PostgreSQL, no HTTP: authentication,
 * ownership, validation and outputs. (HTTP-level behaviour is in tests/integration.)
 */
const env = useApiEnv();

const iso = expect.stringMatching(/^\d{4}-\d\d-\d\dT/);
/** Every row a request could touch, to prove a refused request changed nothing. */
const snapshot = async () => ({
  orders: await env.db.sql`select * from orders order by id`,
  attempts: await env.db.sql`select * from payment_attempts order by id`,
});

describe('authentication', () => {
  const unknownOrder = '00000000-0000-4000-8000-000000000000';
  const calls = {
    'orders.create': (api: Caller) => api.orders.create(visaOrder),
    'orders.get': (api: Caller) => api.orders.get({ orderId: unknownOrder }),
    'orders.list': (api: Caller) => api.orders.list(),
    'orders.pay': (api: Caller) => api.orders.pay({ orderId: unknownOrder }),
  };
  it.each(Object.entries(calls))(
    '%s without a token or with an unknown one is UNAUTHORIZED',
    async (_, call) => {
      const before = await snapshot();
      for (const token of [null, 'co_unknown']) {
        expect((await trpcError(call(env.caller(token).api))).code).toBe('UNAUTHORIZED');
      }
      expect(await snapshot()).toEqual(before);
    },
  );
});

describe('orders.create', () => {
  it('returns the new order, pending at version 1, with the currency lower-cased', async () => {
    const user = await env.newUser();
    const order = await env.caller(user.token).api.orders.create({ ...visaOrder, currency: 'EUR' });
    expect(order).toEqual({
      id: expect.any(String),
      userId: user.id,
      amount: 4200,
      currency: 'eur',
      status: 'pending',
      version: 1,
      paymentMethodId: 'pm_card_visa',
      paymentIntentId: null,
      createdAt: iso,
      updatedAt: iso,
      paidAt: null,
      refundedAmount: 0,
      refundedAt: null,
      canceledAt: null,
      captureMethod: 'automatic',
      authorizedAt: null,
      capturedAmount: null,
    });
  });

  const bad: Array<[string, Record<string, unknown>]> = [
    ['a negative amount', { ...visaOrder, amount: -5 }],
    ['a fractional amount', { ...visaOrder, amount: 10.5 }],
    ['a string amount', { ...visaOrder, amount: '100' }],
    ['an amount over eight digits', { ...visaOrder, amount: 1e9 }],
    ['a currency that is not 3 letters', { ...visaOrder, currency: 'dollars' }],
    ['a payment method that is not pm_...', { ...visaOrder, paymentMethodId: 'visa' }],
    ['an unknown field', { ...visaOrder, status: 'paid' }],
    ['an amount under the minimum charge in usd', { ...visaOrder, amount: 49 }],
    ['an amount under the minimum charge in gbp', { ...visaOrder, amount: 29, currency: 'gbp' }],
    ['an amount under the minimum charge in jpy', { ...visaOrder, amount: 49, currency: 'JPY' }],
  ];
  it.each(bad)('with %s is BAD_REQUEST and changes nothing', async (_, input) => {
    const user = await env.newUser();
    const before = await snapshot();
    expect((await trpcError(env.caller(user.token).api.orders.create(input as never))).code).toBe(
      'BAD_REQUEST',
    );
    expect(await snapshot()).toEqual(before);
  });
});

describe('the minimum charge', () => {
  it('names the minimum, and agrees with the provider: its minimum is charged, one less is refused', async () => {
    const user = await env.newUser();
    const { api } = env.caller(user.token);
    const refused = await trpcError(api.orders.create({ ...visaOrder, amount: 29, currency: 'gbp' }));
    expect(refused.message).toMatch(/amount must be at least 30 /);
    const stripe = createStripeClient({
      secretKey: 'sk_test_api',
      apiBase: env.emulator.url,
      maxNetworkRetries: 0,
    });
    for (const currency of ['usd', 'eur', 'gbp', 'jpy', 'chf', 'huf', 'mxn']) {
      const minimum = minimumChargeAmount(currency);
      const order = await api.orders.create({ ...visaOrder, amount: minimum, currency });
      expect(await api.orders.pay({ orderId: order.id })).toMatchObject({ outcome: 'charged' });
      await expect(
        stripe.paymentIntents.create({
          amount: minimum - 1,
          currency,
          payment_method: 'pm_card_visa',
          confirm: true,
        }),
      ).rejects.toMatchObject({ code: 'amount_too_small' });
    }
  });
});

describe('orders.get and orders.list', () => {
  it('the owner reads the order and its attempts; anyone else gets NOT_FOUND', async () => {
    const owner = await env.newUser('owner');
    const other = await env.newUser('other');
    const { api } = env.caller(owner.token);
    const order = await api.orders.create(visaOrder);
    await api.orders.pay({ orderId: order.id });
    const read = await api.orders.get({ orderId: order.id });
    expect(read.order).toMatchObject({ id: order.id, status: 'paid', version: 3, paidAt: iso });
    expect(read.attempts).toEqual([
      {
        id: expect.any(String),
        claimVersion: 2,
        status: 'succeeded',
        paymentMethodId: 'pm_card_visa',
        paymentIntentId: read.order.paymentIntentId,
        errorCode: null,
        declineCode: null,
        actionUrl: null,
        claimedAt: iso,
        completedAt: iso,
      },
    ]);
    const denied = await trpcError(env.caller(other.token).api.orders.get({ orderId: order.id }));
    expect(denied.code).toBe('NOT_FOUND');
    expect(denied.cause).toBeInstanceOf(DomainError);
  });

  it("lists only the caller's orders, newest first, in pages; a foreign cursor reveals nothing", async () => {
    const user = await env.newUser();
    const other = await env.newUser();
    const { api } = env.caller(user.token);
    const created = [];
    for (let i = 0; i < 3; i++) created.push(await api.orders.create({ ...visaOrder, amount: 100 + i }));
    const foreign = await env.caller(other.token).api.orders.create(visaOrder);
    const first = await api.orders.list({ limit: 2 });
    const second = await api.orders.list({ limit: 2, cursor: first.nextCursor });
    expect([...first.items, ...second.items].map((o) => o.id)).toEqual(created.map((o) => o.id).reverse());
    expect(second.nextCursor).toBeNull();
    expect(await api.orders.list({ cursor: foreign.id })).toEqual({ items: [], nextCursor: null });
    expect((await trpcError(api.orders.list({ limit: 0 }))).code).toBe('BAD_REQUEST');
  });
});

describe('orders.pay', () => {
  it('charged, then already_paid with the same PaymentIntent; the audit names user, order and outcome', async () => {
    const user = await env.newUser();
    const order = await env.caller(user.token).api.orders.create(visaOrder);
    const first = env.caller(user.token);
    const charged = await first.api.orders.pay({ orderId: order.id });
    expect(charged).toMatchObject({
      outcome: 'charged',
      order: { status: 'paid' },
      paymentIntentId: expect.stringMatching(/^pi_/),
    });
    expect(first.audit).toEqual({
      procedures: ['orders.pay'],
      principal: `user:${user.id}`,
      userId: user.id,
      orderId: order.id,
      outcome: 'charged',
    });
    const again = await env.caller(user.token).api.orders.pay({ orderId: order.id });
    expect(again).toEqual({ ...charged, outcome: 'already_paid' });
  });

  it('a decline is PAYMENT_REQUIRED carrying the decline, and the order stays payable', async () => {
    const user = await env.newUser();
    const { api, audit } = env.caller(user.token);
    const order = await api.orders.create({
      ...visaOrder,
      paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
    });
    const declined = await trpcError(api.orders.pay({ orderId: order.id }));
    expect(declined.code).toBe('PAYMENT_REQUIRED');
    expect((declined.cause as DomainError).details).toMatchObject({
      code: 'PAYMENT_DECLINED',
      declineCode: 'insufficient_funds',
    });
    expect(audit.outcome).toBe('payment_declined');
    const paid = await env
      .caller(user.token)
      .api.orders.pay({ orderId: order.id, paymentMethodId: 'pm_card_visa' });
    expect(paid.outcome).toBe('charged');
  });

  it("someone else's order is NOT_FOUND and is not charged; bad input is BAD_REQUEST", async () => {
    const owner = await env.newUser();
    const other = await env.newUser();
    const order = await env.caller(owner.token).api.orders.create(visaOrder);
    const before = await snapshot();
    const { api } = env.caller(other.token);
    expect((await trpcError(api.orders.pay({ orderId: order.id }))).code).toBe('NOT_FOUND');
    for (const input of [{ orderId: 'not-a-uuid' }, { orderId: order.id, paymentMethodId: 'card' }, {}]) {
      expect((await trpcError(api.orders.pay(input as never))).code).toBe('BAD_REQUEST');
    }
    expect(await snapshot()).toEqual(before);
    expect(env.emulator.paymentIntents().filter((pi) => pi.metadata.order_id === order.id)).toEqual([]);
  });
});
