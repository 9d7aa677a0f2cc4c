import { issueToken, revokeToken } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import { createTokenAuthenticator } from '../src/auth';
import { trpcError, useApiEnv, visaOrder } from './support';

/** Users act on their own orders; services on any customer's, within their scopes, naming whom. */
const env = useApiEnv();

describe('a service', () => {
  it('creates, reads, lists and pays a customer’s order, naming the customer where the call needs it', async () => {
    const customer = await env.newUser('customer');
    const service = await env.newService(['orders:read', 'orders:write', 'orders:pay']);
    const { api, audit } = env.caller(service.token);
    const order = await api.orders.create({ ...visaOrder, userId: customer.id });
    expect(order).toMatchObject({ userId: customer.id, status: 'pending' });
    expect(audit.principal).toMatch(/^service:svc-/);
    expect((await api.orders.get({ orderId: order.id })).order.id).toBe(order.id);
    expect((await api.orders.list({ userId: customer.id })).items.map((o) => o.id)).toEqual([order.id]);
    expect(await api.orders.pay({ orderId: order.id })).toMatchObject({ outcome: 'charged' });
    // The customer sees the same order, paid.
    const own = await env.caller(customer.token).api.orders.get({ orderId: order.id });
    expect(own.order.status).toBe('paid');
  });

  it('must name the customer to create or list, an existing one, and the right one for an order', async () => {
    const customer = await env.newUser();
    const service = await env.newService(['orders:read', 'orders:write', 'orders:pay']);
    const { api } = env.caller(service.token);
    expect(await trpcError(api.orders.create(visaOrder))).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'userId is required: a service names the customer.',
    });
    expect((await trpcError(api.orders.list())).code).toBe('BAD_REQUEST');
    const nobody = '00000000-0000-4000-8000-000000000000';
    expect((await trpcError(api.orders.create({ ...visaOrder, userId: nobody }))).code).toBe('NOT_FOUND');
    const order = await api.orders.create({ ...visaOrder, userId: customer.id });
    expect((await trpcError(api.orders.pay({ orderId: order.id, userId: nobody }))).code).toBe('NOT_FOUND');
    expect(env.emulator.paymentIntents().filter((pi) => pi.metadata.order_id === order.id)).toEqual([]);
  });

  it('without the scope is FORBIDDEN, and nothing happens', async () => {
    const customer = await env.newUser();
    const order = await env.caller(customer.token).api.orders.create(visaOrder);
    const reader = await env.newService(['orders:read']);
    const denied = await trpcError(env.caller(reader.token).api.orders.pay({ orderId: order.id }));
    expect(denied).toMatchObject({
      code: 'FORBIDDEN',
      message: 'This token does not have the orders:pay scope.',
    });
    expect((await env.caller(customer.token).api.orders.get({ orderId: order.id })).order.version).toBe(1);
  });
});

describe('a user', () => {
  it('may name itself but no one else', async () => {
    const user = await env.newUser();
    const other = await env.newUser();
    const { api } = env.caller(user.token);
    expect(await api.orders.create({ ...visaOrder, userId: user.id })).toMatchObject({ userId: user.id });
    expect(await trpcError(api.orders.create({ ...visaOrder, userId: other.id }))).toMatchObject({
      code: 'FORBIDDEN',
      message: 'A user token acts only on its own orders.',
    });
    expect((await trpcError(api.orders.list({ userId: other.id }))).code).toBe('FORBIDDEN');
  });
});

describe('tokens', () => {
  it('a revoked token stops working on an instance within its cache bound; an expiring one at expiry', async () => {
    const user = await env.newUser();
    let now = Date.now();
    const auth = createTokenAuthenticator(env.db.db, { ttlMs: 5_000, now: () => now });
    const issued = await issueToken(env.db.db, {
      owner: { kind: 'user', userId: user.id },
      expiresAt: new Date(now + 60_000),
    });
    expect(await auth.authenticate(issued.token)).toMatchObject({ kind: 'user', userId: user.id });
    await revokeToken(env.db.db, issued.id);
    // Trusted from the cache for at most the bound...
    now += 4_999;
    expect(await auth.authenticate(issued.token)).toBeDefined();
    // ...then looked up again from the very millisecond the bound ends: revoked.
    now += 1;
    expect(await auth.authenticate(issued.token)).toBeUndefined();

    const expiring = await issueToken(env.db.db, {
      owner: { kind: 'user', userId: user.id },
      expiresAt: new Date(now + 1_000),
    });
    expect(await auth.authenticate(expiring.token)).toBeDefined();
    now += 1_000;
    expect(await auth.authenticate(expiring.token)).toBeUndefined();
  });
});

describe('the token cache', () => {
  it('forget drops a token at once (sign-out), and a full cache starts over rather than grow', async () => {
    const user = await env.newUser();
    const auth = createTokenAuthenticator(env.db.db, { ttlMs: 60_000, maxEntries: 2 });
    const issue = () => issueToken(env.db.db, { owner: { kind: 'user', userId: user.id } });
    const [first, second, third] = [await issue(), await issue(), await issue()];
    expect(await auth.authenticate(first.token)).toBeDefined();
    expect(await auth.authenticate(second.token)).toBeDefined();
    await revokeToken(env.db.db, first.id);
    await revokeToken(env.db.db, second.id);
    // Both cached: still trusted within the bound...
    expect(await auth.authenticate(first.token)).toBeDefined();
    expect(await auth.authenticate(second.token)).toBeDefined();
    // ...until a third token finds the cache full, which is cleared first.
    expect(await auth.authenticate(third.token)).toBeDefined();
    expect(await auth.authenticate(first.token)).toBeUndefined();
    expect(await auth.authenticate(second.token)).toBeUndefined();
    await revokeToken(env.db.db, third.id);
    expect(await auth.authenticate(third.token)).toBeDefined();
    auth.forget(third.token);
    expect(await auth.authenticate(third.token)).toBeUndefined();
  });
});
