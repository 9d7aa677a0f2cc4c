import { type DbHandle, orders } from '@chargeonce/db';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { cancelOrder } from '../src/cancel';
import type { PaymentsDeps } from '../src/deps';
import type { ChargeRequest, PaymentGateway } from '../src/gateway';
import { createOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { aroundStatements, unusedRefundsAndCaptures, useDatabase } from './support';

/** cancelOrder against real PostgreSQL, alone and racing payOrder, counted at the provider. */
let handle: DbHandle;
let userId: string;
useDatabase(
  'cancel-test',
  (db) => {
    ({ handle, userId } = db);
  },
  { max: 10 },
);

function provider(decline = false) {
  const charges: ChargeRequest[] = [];
  const gateway: PaymentGateway = {
    ...unusedRefundsAndCaptures,
    async charge(request) {
      charges.push(request);
      // Let the racing cancel run while the charge is in flight.
      await new Promise((resolve) => setTimeout(resolve, 5));
      return decline
        ? {
            kind: 'declined',
            paymentIntentId: `pi_${charges.length}`,
            code: 'card_declined',
            declineCode: 'generic_decline',
            message: 'declined',
          }
        : { kind: 'succeeded', paymentIntentId: `pi_${request.idempotencyKey}` };
    },
    retrieve: () => Promise.reject(new Error('not used')),
    findByAttempt: () => Promise.reject(new Error('not used')),
    listPaymentIntents: () => {
      throw new Error('not used');
    },
  };
  return { gateway, charges };
}
const deps = (gateway: PaymentGateway): PaymentsDeps => ({ db: handle.db, gateway, instanceId: 'unit' });
const newOrder = () =>
  createOrder(handle.db, { userId, amount: 1000, currency: 'usd', paymentMethodId: 'pm_card_visa' });

/** Moves the order to `to` as a pay would, on the test's own connection. */
const moveOrder = (orderId: string, to: 'processing' | 'failed') =>
  handle.db
    .update(orders)
    .set({ status: to })
    .where(eq(orders.id, orderId))
    .then(() => undefined);

describe('cancelOrder', () => {
  it('cancels a pending order once; again is already_canceled; a pay then is ORDER_NOT_PAYABLE', async () => {
    const order = await newOrder();
    const { gateway, charges } = provider();
    expect(await cancelOrder(handle.db, { orderId: order.id, userId })).toMatchObject({
      outcome: 'canceled',
      order: { status: 'canceled', version: order.version + 1 },
    });
    expect((await cancelOrder(handle.db, { orderId: order.id, userId })).outcome).toBe('already_canceled');
    await expect(payOrder(deps(gateway), { orderId: order.id, userId })).rejects.toMatchObject({
      code: 'ORDER_NOT_PAYABLE',
      details: { status: 'canceled' },
    });
    expect(charges).toHaveLength(0);
  });

  it('cancels an order whose payment was declined, and refuses a paid one (refund it)', async () => {
    const declined = await newOrder();
    await expect(
      payOrder(deps(provider(true).gateway), { orderId: declined.id, userId }),
    ).rejects.toMatchObject({
      code: 'PAYMENT_DECLINED',
    });
    expect((await cancelOrder(handle.db, { orderId: declined.id, userId })).outcome).toBe('canceled');
    const paid = await newOrder();
    await payOrder(deps(provider().gateway), { orderId: paid.id, userId });
    await expect(cancelOrder(handle.db, { orderId: paid.id, userId })).rejects.toMatchObject({
      code: 'ORDER_NOT_CANCELABLE',
      details: { status: 'paid' },
    });
  });

  it('another user’s order is not found, and nothing changes', async () => {
    const order = await newOrder();
    await expect(
      cancelOrder(handle.db, { orderId: order.id, userId: crypto.randomUUID() }),
    ).rejects.toMatchObject({
      code: 'ORDER_NOT_FOUND',
    });
    expect((await cancelOrder(handle.db, { orderId: order.id, userId })).order.version).toBe(
      order.version + 1,
    );
  });

  it('an attempt that fails between its UPDATE and its read makes the order cancelable: it looks again', async () => {
    const order = await newOrder();
    await moveOrder(order.id, 'processing');
    let updates = 0;
    const db = aroundStatements(handle.db, 'update', {
      after: async () => {
        if (++updates === 1) await moveOrder(order.id, 'failed');
      },
    });
    expect(await cancelOrder(db, { orderId: order.id, userId })).toMatchObject({
      outcome: 'canceled',
      order: { status: 'canceled' },
    });
    expect(updates).toBe(2);
  });

  it('a pay that keeps moving under it gives up after three looks with a retryable PAYMENT_IN_PROGRESS', async () => {
    const order = await newOrder();
    let updates = 0;
    const db = aroundStatements(handle.db, 'update', {
      before: () => moveOrder(order.id, 'processing'),
      after: async () => {
        updates++;
        await moveOrder(order.id, 'failed');
      },
    });
    await expect(cancelOrder(db, { orderId: order.id, userId })).rejects.toMatchObject({
      code: 'PAYMENT_IN_PROGRESS',
      details: { orderId: order.id },
    });
    expect(updates).toBe(3);
  });

  it('racing a pay, exactly one wins: canceled with no charge, or paid with one', async () => {
    const seen = { canceled: 0, paid: 0, inFlight: 0 };
    for (let trial = 0; trial < 30; trial++) {
      const order = await newOrder();
      const { gateway, charges } = provider();
      const [pay, cancel] = await Promise.allSettled([
        payOrder(deps(gateway), { orderId: order.id, userId }),
        cancelOrder(handle.db, { orderId: order.id, userId }),
      ]);
      if (cancel.status === 'fulfilled') {
        expect(pay).toMatchObject({ status: 'rejected', reason: { code: 'ORDER_NOT_PAYABLE' } });
        expect(charges).toHaveLength(0);
        seen.canceled++;
      } else {
        // Met the claim in flight, or came after the charge settled.
        expect(['PAYMENT_IN_PROGRESS', 'ORDER_NOT_CANCELABLE']).toContain(cancel.reason.code);
        expect(pay).toMatchObject({ status: 'fulfilled', value: { outcome: 'charged' } });
        expect(charges).toHaveLength(1);
        seen.paid++;
        if (cancel.reason.code === 'PAYMENT_IN_PROGRESS') seen.inFlight++;
      }
    }
    expect(seen.canceled + seen.paid).toBe(30);
    // The race really raced: some cancels met a payment in flight.
    expect(seen.inFlight).toBeGreaterThan(0);
  });
});
