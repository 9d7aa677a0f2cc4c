import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { PaymentGateway, ProviderRefund } from '../src/gateway';
import { createOrder, type Order } from '../src/orders';
import { payOrder } from '../src/pay';
import { refundOrder } from '../src/refund';
import { reconcileRefunds } from '../src/refund-reconcile';
import { refundsOf } from '../src/refund-store';
import { recordingLogger, refundingProvider, useDatabase } from './support';

/**
 * reconcileRefunds against real PostgreSQL with a scripted provider listing: what it settles, what
 * it leaves alone, and what it tells the operator (the finding and the log line).
 */
let handle: DbHandle;
let userId: string;
useDatabase('refund-reconcile-test', (db) => {
  ({ handle, userId } = db);
});

const deps = (gateway: PaymentGateway, extra: Partial<PaymentsDeps> = {}): PaymentsDeps => ({
  db: handle.db,
  gateway,
  instanceId: 'unit',
  ...extra,
});
const window = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });

/** A paid order with one refund left pending here: its answer was lost, no provider id recorded. */
async function orderWithPendingRefund(): Promise<{ order: Order; refundId: string }> {
  const order = await createOrder(handle.db, {
    userId,
    amount: 1000,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  const paid = await payOrder(deps(refundingProvider().gateway), { orderId: order.id, userId });
  expect(paid.outcome).toBe('charged');
  const lost = refundingProvider(() => ({ kind: 'unknown', reason: 'timeout' }));
  const answer = await refundOrder(deps(lost.gateway), {
    orderId: order.id,
    userId,
    amount: 400,
    requestedBy: { kind: 'user', id: userId },
  });
  expect(answer.refund).toMatchObject({ status: 'pending', stripeRefundId: null });
  return { order: paid.order, refundId: answer.refund.id };
}

/** A gateway whose provider lists `listed` as the PaymentIntent's refunds. */
const listing = (listed: ProviderRefund[]): PaymentGateway => ({
  ...refundingProvider().gateway,
  listRefunds: async () => listed,
});

describe('reconcileRefunds', () => {
  it('a refund pending here and still pending at the provider is left alone: nothing healed, nothing recorded', async () => {
    const { order, refundId } = await orderWithPendingRefund();
    const { logger, entries } = recordingLogger(['warn']);
    const provider = { id: 're_still_pending', status: 'pending' as const, amount: 400, failureReason: null };
    const report = await reconcileRefunds(
      deps(listing([{ ...provider, metadata: { refund_id: refundId } }]), { logger }),
      window(),
      { heal: true },
    );
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([]);
    expect(entries).toEqual([]);
    expect(await refundsOf(handle.db, order.id)).toMatchObject([{ status: 'pending', stripeRefundId: null }]);
  });

  it('a refund it settles is reported with its id and new status, and logged for the operator', async () => {
    const { order, refundId } = await orderWithPendingRefund();
    const { logger, entries } = recordingLogger(['warn']);
    const provider = {
      id: 're_settled_there',
      status: 'succeeded' as const,
      amount: 400,
      failureReason: null,
    };
    const report = await reconcileRefunds(
      deps(listing([{ ...provider, metadata: { refund_id: refundId } }]), { logger }),
      window(),
      { heal: true },
    );
    const at = { orderId: order.id, paymentIntentId: order.paymentIntentId };
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([
      { kind: 'refund_healed', ...at, detail: `${refundId} succeeded` },
    ]);
    expect(entries).toEqual([
      { level: 'warn', msg: 'reconciliation settled a refund', ...at, refundId, status: 'succeeded' },
    ]);
    expect(await refundsOf(handle.db, order.id)).toMatchObject([
      { status: 'succeeded', stripeRefundId: 're_settled_there' },
    ]);
  });
});
