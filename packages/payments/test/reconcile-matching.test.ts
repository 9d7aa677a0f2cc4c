import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { ChargeResult, PaymentGateway, ProviderPaymentIntent } from '../src/gateway';
import { createOrder, findOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { reconcileHolds } from '../src/reconcile-holds';
import { refundOrder } from '../src/refund';
import { reconcileRefunds } from '../src/refund-reconcile';
import { refundsOf } from '../src/refund-store';
import { refundingProvider, useDatabase } from './support';

/**
 * Reconciliation against real PostgreSQL with a scripted provider whose listing lacks our ids in
 * its metadata (a PaymentIntent or refund made, or edited, without them): an open challenge is
 * still matched to its attempt by the PaymentIntent id recorded on it, and a pending refund to its
 * row by the provider refund id recorded on it, and each is settled as the provider says.
 */
let handle: DbHandle;
let userId: string;
useDatabase('reconcile-matching-test', (db) => {
  ({ handle, userId } = db);
});

const deps = (gateway: PaymentGateway): PaymentsDeps => ({ db: handle.db, gateway, instanceId: 'unit' });
const window = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });
const newOrder = () =>
  createOrder(handle.db, { userId, amount: 1000, currency: 'usd', paymentMethodId: 'pm_card_visa' });

describe('reconcileHolds matching', () => {
  it('an open challenge whose PaymentIntent is listed canceled without our attempt id is matched by its id and settled failed', async () => {
    const order = await newOrder();
    const paymentIntentId = `pi_challenge_${order.id}`;
    const challenging: PaymentGateway = {
      ...refundingProvider().gateway,
      charge: async () => ({
        kind: 'requires_action',
        paymentIntentId,
        redirectUrl: 'https://bank.example/3ds',
      }),
    };
    const paid = await payOrder(deps(challenging), { orderId: order.id, userId });
    expect(paid.outcome).toBe('requires_action');
    const [attempt] =
      await handle.sql`select payment_intent_id from payment_attempts where order_id = ${order.id}`;
    expect(attempt?.payment_intent_id).toBe(paymentIntentId);

    const listed: ProviderPaymentIntent = {
      id: paymentIntentId,
      status: 'canceled',
      amount: 1000,
      amountReceived: 0,
      currency: 'usd',
      created: Math.floor(Date.now() / 1000),
      metadata: { order_id: order.id },
    };
    const canceled: ChargeResult = { kind: 'canceled', paymentIntentId, reason: 'abandoned' };
    const gateway: PaymentGateway = { ...refundingProvider().gateway, retrieve: async () => canceled };
    const findings = await reconcileHolds(deps(gateway), [listed], { heal: true });

    expect(findings).toEqual([
      { kind: 'authorization_healed', orderId: order.id, paymentIntentId, detail: 'provider canceled' },
    ]);
    const [settled] =
      await handle.sql`select status, error_code from payment_attempts where order_id = ${order.id}`;
    expect(settled).toMatchObject({ status: 'failed', error_code: 'canceled_abandoned' });
    expect(await findOrder(handle.db, order.id)).toMatchObject({ status: 'failed' });
  });
});

describe('reconcileRefunds matching', () => {
  it('a pending refund the provider lists succeeded without our refund id is matched by its provider id and settled', async () => {
    const order = await newOrder();
    const paid = await payOrder(deps(refundingProvider().gateway), { orderId: order.id, userId });
    expect(paid.outcome).toBe('charged');
    const stripeRefundId = `re_pending_${order.id}`;
    const pending = refundingProvider(() => ({ kind: 'pending', refundId: stripeRefundId }));
    const answer = await refundOrder(deps(pending.gateway), {
      orderId: order.id,
      userId,
      amount: 400,
      requestedBy: { kind: 'user', id: userId },
    });
    expect(answer.refund).toMatchObject({ status: 'pending', stripeRefundId });

    const listing: PaymentGateway = {
      ...refundingProvider().gateway,
      listRefunds: async () => [
        { id: stripeRefundId, status: 'succeeded', amount: 400, failureReason: null, metadata: {} },
      ],
    };
    const report = await reconcileRefunds(deps(listing), window(), { heal: true });

    const at = { orderId: order.id, paymentIntentId: paid.order.paymentIntentId };
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([
      { kind: 'refund_healed', ...at, detail: `${answer.refund.id} succeeded` },
    ]);
    expect(await refundsOf(handle.db, order.id)).toMatchObject([{ status: 'succeeded', stripeRefundId }]);
  });
});
