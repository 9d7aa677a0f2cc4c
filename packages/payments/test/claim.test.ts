import { createDb, createUserWithToken, type DbHandle } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { claimOrder, idempotencyKeyFor } from '../src/claim';
import type { PaymentGateway } from '../src/gateway';
import { createOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { unusedRefundsAndCaptures } from './support';

/** The claim statement and how it reaches PostgreSQL, on real PostgreSQL with the real migrations. */
let database: TestDatabase;
let userId: string;
const handles: DbHandle[] = [];
const connect = (url: string, options: Parameters<typeof createDb>[1] = {}) => {
  const handle = createDb(url, options);
  handles.push(handle);
  return handle;
};
beforeAll(async () => {
  database = await startTestDatabase();
  userId = (await createUserWithToken(connect(database.url).db, { name: 'claim-test' })).id;
});
afterAll(async () => {
  await Promise.all(handles.map((h) => h.close()));
  await database?.stop();
});

const gateway: PaymentGateway = {
  ...unusedRefundsAndCaptures,
  charge: async (request) => ({ kind: 'succeeded', paymentIntentId: `pi_${request.idempotencyKey}` }),
  retrieve: () => Promise.reject(new Error('not used')),
  findByAttempt: () => Promise.reject(new Error('not used')),
  listPaymentIntents: () => {
    throw new Error('not used');
  },
};
const newOrder = (handle: Pick<DbHandle, 'db'>) =>
  createOrder(handle.db, { userId, amount: 500, currency: 'usd', paymentMethodId: 'pm_card_visa' });

describe('claimOrder', () => {
  it('returns the order as it is after the claim, and an attempt keyed from order id and version', async () => {
    const { db } = connect(database.url);
    const before = await newOrder({ db });
    const claim = await claimOrder(db, {
      orderId: before.id,
      userId,
      claimedBy: 'test',
      declineCooldownMs: 0,
    });
    expect(claim.order).toMatchObject({ id: before.id, status: 'processing', version: 2 });
    expect(claim.order!.updatedAt.getTime()).toBeGreaterThan(before.updatedAt.getTime());
    expect(claim.attempt).toMatchObject({
      orderId: before.id,
      claimVersion: 2,
      status: 'processing',
      amount: 500,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      claimedBy: 'test',
      // Built inside PostgreSQL; the same string as the TypeScript derivation.
      idempotencyKey: idempotencyKeyFor(before.id, 2),
    });
    expect(claim.attempt!.claimedAt).toBeInstanceOf(Date);
    // A second claim of the same order finds it in flight: no new attempt, the order unchanged.
    const again = await claimOrder(db, {
      orderId: before.id,
      userId,
      claimedBy: 'test',
      declineCooldownMs: 0,
    });
    expect(again.attempt).toBeUndefined();
    expect(again.order).toMatchObject({ status: 'processing', version: 2 });
  });

  it("someone else's order is not found and not claimed", async () => {
    const handle = connect(database.url);
    const order = await newOrder(handle);
    const other = await createUserWithToken(handle.db, { name: 'other' });
    const claim = await claimOrder(handle.db, {
      orderId: order.id,
      userId: other.id,
      claimedBy: 'test',
      declineCooldownMs: 0,
    });
    expect(claim).toEqual({ order: undefined, statusAgeMs: 0, attempt: undefined, answer: undefined });
    const [row] = await handle.sql`select version from orders where id = ${order.id}`;
    expect(row?.version).toBe(1);
  });
});

describe('prepared statements', () => {
  /** The statements PostgreSQL holds prepared on the (single) connection of `handle`. */
  const prepared = async (handle: DbHandle) =>
    (await handle.sql<{ statement: string }[]>`select statement from pg_prepared_statements`).map(
      (r) => r.statement,
    );
  const pay = async (handle: DbHandle) => {
    const order = await newOrder(handle);
    const deps = { db: handle.db, gateway, instanceId: 'test' };
    expect((await payOrder(deps, { orderId: order.id, userId })).outcome).toBe('charged');
  };

  it('claim and settle are named prepared statements, parsed once per connection', async () => {
    const handle = connect(database.url, { max: 1 });
    await pay(handle);
    await pay(handle);
    const statements = await prepared(handle);
    expect(statements.filter((s) => s.includes('"claimed" as (update "orders"'))).toHaveLength(1);
    expect(statements.filter((s) => s.includes('"settled" as (update "orders"'))).toHaveLength(1);
  });

  it.each([
    ['the prepare: false option', (url: string) => connect(url, { max: 1, prepare: false })],
    ['?prepare=false in the URL', (url: string) => connect(`${url}?prepare=false`, { max: 1 })],
  ])('with %s (connection poolers) nothing is prepared and pays still work', async (_name, open) => {
    const handle = open(database.url);
    await pay(handle);
    await pay(handle);
    expect((await prepared(handle)).filter((s) => s.includes('"orders"'))).toEqual([]);
  });
});
