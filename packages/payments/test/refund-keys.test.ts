import { type DbHandle, reapKeys, refunds } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { PaymentGateway } from '../src/gateway';
import { createOrder, findOrder, type Order } from '../src/orders';
import { payOrder } from '../src/pay';
import { refundOrder } from '../src/refund';
import { findRefund, type Refund, reserveRefund, settleRefund } from '../src/refund-store';
import { aroundStatements, refundingProvider, refundSucceeds, useDatabase } from './support';

/**
 * Refunds under caller idempotency keys, and the settle rules a review found wanting: a key's
 * refund is found again however the request is repeated, raced or reaped, and a failure we conclude
 * ourselves never overrides a success Stripe reported.
 */
let handle: DbHandle;
let userId: string;
useDatabase(
  'refund-keys-test',
  (db) => {
    ({ handle, userId } = db);
  },
  { max: 10 },
);

const provider = refundingProvider;
const succeeds = refundSucceeds;
const deps = (gateway: PaymentGateway): PaymentsDeps => ({ db: handle.db, gateway, instanceId: 'unit' });
const requestedBy = () => ({ kind: 'user' as const, id: userId });

async function paidOrder(): Promise<Order> {
  const order = await createOrder(handle.db, {
    userId,
    amount: 1000,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  return (await payOrder(deps(provider(succeeds).gateway), { orderId: order.id, userId })).order;
}

/** A caller key row, as the API middleware takes one. */
async function callerKey(): Promise<string> {
  const [row] = await handle.sql<{ id: string }[]>`
    insert into idempotency_keys (principal_kind, principal_id, key, procedure, fingerprint, locked_at, lock_token)
    values ('user', ${userId}, ${crypto.randomUUID()}, 'orders.refund', 'f', now(), gen_random_uuid())
    returning id`;
  return row!.id;
}

/** A paid order, a caller key, and a refund request of `amount` under that key. */
async function keyedRefund(amount: number) {
  const order = await paidOrder();
  const keyId = await callerKey();
  const input = { orderId: order.id, userId, amount, requestedBy: requestedBy(), idempotencyKeyId: keyId };
  return { order, keyId, input };
}

describe('refunds under a caller key', () => {
  it('two requests with one key racing (a lease taken over): one refund, both answered with it', async () => {
    for (let trial = 0; trial < 10; trial++) {
      const order = await paidOrder();
      const { gateway, requests } = provider(succeeds);
      const keyId = await callerKey();
      const call = () =>
        refundOrder(deps(gateway), {
          orderId: order.id,
          userId,
          requestedBy: requestedBy(),
          idempotencyKeyId: keyId,
        });
      const [a, b] = await Promise.all([call(), call()]);
      expect(a.refund.id).toBe(b.refund.id);
      expect(requests).toHaveLength(1);
      expect(await findOrder(handle.db, order.id)).toMatchObject({ refundedAmount: 1000 });
    }
  });

  it('the key’s first request reserving between this one’s look for it and its own reservation: that refund answers', async () => {
    const { order, input } = await keyedRefund(400);
    let first: Refund | undefined;
    let reads = 0;
    // Right after this request found no refund under its key, the first request (taken over, still
    // alive) reserves one: this request's reservation then breaks the key's unique index.
    const db = aroundStatements(handle.db, 'select', {
      after: async () => {
        if (++reads !== 1) return;
        ({ refund: first } = await reserveRefund(handle.db, {
          ...input,
          refundId: crypto.randomUUID(),
          reason: null,
        }));
      },
    });
    const { gateway, requests } = provider(succeeds);
    const answer = await refundOrder({ ...deps(gateway), db }, input);
    expect(first).toBeDefined();
    expect(answer).toMatchObject({ outcome: 'pending', refund: { id: first?.id, status: 'pending' } });
    expect(requests).toEqual([]); // the first request sends its own
    expect(await findOrder(handle.db, order.id)).toMatchObject({ refundedAmount: 400 });
  });

  it('after PROVIDER_UNAVAILABLE, the retry with the key makes the refund (nothing had executed)', async () => {
    const { order, input } = await keyedRefund(400);
    const refused = provider(() => ({ kind: 'unavailable', reason: 'authentication_error' }));
    await expect(refundOrder(deps(refused.gateway), input)).rejects.toMatchObject({
      code: 'PROVIDER_UNAVAILABLE',
    });
    const working = provider(succeeds);
    const answer = await refundOrder(deps(working.gateway), input);
    expect(answer).toMatchObject({ outcome: 'refunded', refund: { amount: 400 } });
    expect(working.requests).toHaveLength(1);
    expect(await findOrder(handle.db, order.id)).toMatchObject({ refundedAmount: 400 });
  });

  it('a pending refund is never sent again from a retry; its key outlives the retention while pending', async () => {
    const { order, keyId, input } = await keyedRefund(300);
    const lost = provider(() => ({ kind: 'unknown', reason: 'timeout' }));
    expect((await refundOrder(deps(lost.gateway), input)).outcome).toBe('pending');
    const retried = await refundOrder(deps(lost.gateway), input);
    expect(retried.outcome).toBe('pending');
    expect(lost.requests).toHaveLength(1);
    await handle.sql`update idempotency_keys set created_at = now() - interval '25 hours', locked_at = null where id = ${keyId}`;
    const reap = () => reapKeys(handle.db, { retentionMs: 24 * 3_600_000, leaseMs: 60_000, limit: 1000 });
    await reap();
    expect(await findRefund(handle.db, { idempotencyKeyId: keyId })).toBeDefined();
    // Settled: the key may go.
    await settleRefund(handle.db, retried.refund.id, { status: 'succeeded', stripeRefundId: 're_x' });
    await reap();
    expect(await findRefund(handle.db, { idempotencyKeyId: keyId })).toBeUndefined();
    expect(await findOrder(handle.db, order.id)).toMatchObject({ refundedAmount: 300 });
  });
});

describe('settling a refund that succeeded', () => {
  it('a failure we conclude (abandoned, refused) leaves it; a failure Stripe reports for its id reverses it once', async () => {
    const order = await paidOrder();
    const answer = await refundOrder(deps(provider(succeeds).gateway), {
      orderId: order.id,
      userId,
      requestedBy: requestedBy(),
    });
    const id = answer.refund.id;
    const stripeId = answer.refund.stripeRefundId!;
    expect(
      await settleRefund(handle.db, id, { status: 'failed', stripeRefundId: null, errorCode: 'abandoned' }),
    ).toBeUndefined();
    expect(
      await settleRefund(handle.db, id, { status: 'failed', stripeRefundId: 're_other', errorCode: 'x' }),
    ).toBeUndefined();
    expect(await findOrder(handle.db, order.id)).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
    const reversed = await settleRefund(handle.db, id, {
      status: 'failed',
      stripeRefundId: stripeId,
      errorCode: 'expired_or_canceled_card',
    });
    expect(reversed?.order).toMatchObject({ status: 'paid', refundedAmount: 0 });
    expect(
      await settleRefund(handle.db, id, { status: 'failed', stripeRefundId: stripeId, errorCode: 'again' }),
    ).toBeUndefined();
    expect(await findOrder(handle.db, order.id)).toMatchObject({ status: 'paid', refundedAmount: 0 });
    const [row] = await handle.db.execute<{ n: number }>(
      sql`select count(*)::int as n from refunds where order_id = ${order.id}`,
    );
    expect(row?.n).toBe(1);
  });

  it('a failed refund recorded without a code (written by hand, or by an older build) answers its key as REFUND_FAILED, reason failed', async () => {
    const { input } = await keyedRefund(400);
    const { refund } = await reserveRefund(handle.db, {
      ...input,
      refundId: crypto.randomUUID(),
      reason: null,
    });
    expect(refund).toBeDefined();
    await handle.db
      .update(refunds)
      .set({ status: 'failed', errorCode: null })
      .where(eq(refunds.id, refund?.id ?? ''));
    const { gateway, requests } = provider(succeeds);
    await expect(refundOrder(deps(gateway), input)).rejects.toMatchObject({
      code: 'REFUND_FAILED',
      details: { refundId: refund?.id, reason: 'failed', providerMessage: '' },
    });
    expect(requests).toEqual([]);
  });
});
