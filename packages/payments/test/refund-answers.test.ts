import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { PaymentGateway } from '../src/gateway';
import { createOrder, type Order } from '../src/orders';
import { payOrder } from '../src/pay';
import { refundOrder } from '../src/refund';
import { findRefund, reserveRefund } from '../src/refund-store';
import { aroundStatements, refundingProvider, refundSucceeds, useDatabase } from './support';

/**
 * What refundOrder answers, and reports to its outcome hook, in the cases its neighbours leave
 * open: a refusal outside the mapped codes is `refused`; a provider failure carries no provider
 * message; and an error from the reservation under a caller key is the caller's error unless it is
 * the key's own unique violation with the key's refund there to answer. Real PostgreSQL; the
 * provider is scripted.
 */
let handle: DbHandle;
let userId: string;
useDatabase('refund-answers-test', (db) => {
  ({ handle, userId } = db);
});

const deps = (gateway: PaymentGateway, extra: Partial<PaymentsDeps> = {}): PaymentsDeps => ({
  db: handle.db,
  gateway,
  instanceId: 'unit',
  ...extra,
});
const requestedBy = () => ({ kind: 'user' as const, id: userId });

async function unpaidOrder(): Promise<Order> {
  return createOrder(handle.db, { userId, amount: 1000, currency: 'usd', paymentMethodId: 'pm_card_visa' });
}

async function paidOrder(): Promise<Order> {
  const order = await unpaidOrder();
  return (await payOrder(deps(refundingProvider(refundSucceeds).gateway), { orderId: order.id, userId }))
    .order;
}

/** A caller key row, as the API middleware takes one. */
async function callerKey(): Promise<string> {
  const [row] = await handle.sql<{ id: string }[]>`
    insert into idempotency_keys (principal_kind, principal_id, key, procedure, fingerprint, locked_at, lock_token)
    values ('user', ${userId}, ${crypto.randomUUID()}, 'orders.refund', 'f', now(), gen_random_uuid())
    returning id`;
  return row!.id;
}

describe('the refund outcome hook', () => {
  it('a refusal with no outcome of its own (ORDER_NOT_REFUNDABLE) is reported as refused', async () => {
    const { gateway, requests } = refundingProvider();
    const order = await unpaidOrder();
    const outcomes: string[] = [];
    const hooks = { refundOutcome: (o: string) => outcomes.push(o) };
    await expect(
      refundOrder(deps(gateway, { hooks }), { orderId: order.id, userId, requestedBy: requestedBy() }),
    ).rejects.toMatchObject({ code: 'ORDER_NOT_REFUNDABLE' });
    expect(outcomes).toEqual(['refused']);
    expect(requests).toEqual([]);
  });
});

describe('a refund the provider could not make', () => {
  it('is REFUND_FAILED with its reason and no provider message (only a rejection has one)', async () => {
    const { gateway } = refundingProvider((r) => ({
      kind: 'failed',
      refundId: `re_${r.idempotencyKey}`,
      reason: 'expired_or_canceled_card',
    }));
    const order = await paidOrder();
    const err = await refundOrder(deps(gateway), {
      orderId: order.id,
      userId,
      requestedBy: requestedBy(),
    }).catch((e: unknown) => e);
    expect(err).toMatchObject({
      code: 'REFUND_FAILED',
      details: { reason: 'expired_or_canceled_card', providerMessage: '' },
      message: 'The payment provider could not refund (expired_or_canceled_card); nothing was refunded.',
    });
  });
});

describe('an error from the reservation under a caller key', () => {
  it('a failure that is not a unique violation is thrown as it is, even if another request reserved under the key meanwhile', async () => {
    const order = await paidOrder();
    const keyId = await callerKey();
    const input = {
      orderId: order.id,
      userId,
      amount: 300,
      requestedBy: requestedBy(),
      idempotencyKeyId: keyId,
    };
    const lost = Object.assign(new Error('connection lost'), { code: 'CONNECTION_CLOSED' });
    let reservations = 0;
    const db = aroundStatements(handle.db, 'with', {
      before: async () => {
        if (++reservations !== 1) return;
        // Another request under the key reserves, then this one's statement fails otherwise.
        await reserveRefund(handle.db, { ...input, refundId: crypto.randomUUID(), reason: null });
        throw lost;
      },
    });
    const { gateway, requests } = refundingProvider();
    await expect(refundOrder({ ...deps(gateway), db }, input)).rejects.toBe(lost);
    expect(await findRefund(handle.db, { idempotencyKeyId: keyId })).toMatchObject({ status: 'pending' });
    expect(requests).toEqual([]);
  });

  it('a unique violation with no refund under the key is thrown as it is, not ORDER_NOT_FOUND', async () => {
    const order = await paidOrder();
    const keyId = await callerKey();
    const input = {
      orderId: order.id,
      userId,
      amount: 300,
      requestedBy: requestedBy(),
      idempotencyKeyId: keyId,
    };
    const duplicate = Object.assign(new Error('duplicate key value violates unique constraint'), {
      code: '23505',
    });
    const db = aroundStatements(handle.db, 'with', {
      before: async () => {
        throw duplicate;
      },
    });
    const { gateway, requests } = refundingProvider();
    await expect(refundOrder({ ...deps(gateway), db }, input)).rejects.toBe(duplicate);
    expect(await findRefund(handle.db, { idempotencyKeyId: keyId })).toBeUndefined();
    expect(requests).toEqual([]);
  });
});
