import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { PaymentGateway, ProviderRefund } from '../src/gateway';
import { createOrder, type Order } from '../src/orders';
import { payOrder } from '../src/pay';
import { refundOrder } from '../src/refund';
import { reconcileRefunds } from '../src/refund-reconcile';
import { refundingProvider, useDatabase } from './support';

/**
 * reconcileRefunds against real PostgreSQL with a scripted provider listing: how a provider refund
 * is matched to a refund row of ours, and what it reports of one that no row accounts for.
 */
let handle: DbHandle;
let userId: string;
useDatabase('refund-reconcile-findings-test', (db) => {
  ({ handle, userId } = db);
});

const deps = (gateway: PaymentGateway): PaymentsDeps => ({ db: handle.db, gateway, instanceId: 'unit' });
const window = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });

/** A paid order refunded 400 of 1000, the refund succeeded (recorded with the provider's id). */
async function refundedOrder(): Promise<{ order: Order; refundId: string; stripeRefundId: string }> {
  const order = await createOrder(handle.db, {
    userId,
    amount: 1000,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  const paid = await payOrder(deps(refundingProvider().gateway), { orderId: order.id, userId });
  expect(paid.outcome).toBe('charged');
  const answer = await refundOrder(deps(refundingProvider().gateway), {
    orderId: order.id,
    userId,
    amount: 400,
    requestedBy: { kind: 'user', id: userId },
  });
  expect(answer.refund).toMatchObject({ status: 'succeeded', stripeRefundId: expect.any(String) });
  return { order: paid.order, refundId: answer.refund.id, stripeRefundId: answer.refund.stripeRefundId! };
}

/** A gateway whose provider lists `listed` as the PaymentIntent's refunds. */
const listing = (listed: ProviderRefund[]): PaymentGateway => ({
  ...refundingProvider().gateway,
  listRefunds: async () => listed,
});

describe('reconcileRefunds findings', () => {
  it('a provider refund without our refund id in its metadata is known by the provider id we recorded', async () => {
    const { order, stripeRefundId } = await refundedOrder();
    const provider = { id: stripeRefundId, status: 'succeeded' as const, amount: 400, failureReason: null };
    const report = await reconcileRefunds(deps(listing([{ ...provider, metadata: {} }])), window(), {
      heal: true,
    });
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([]);
  });

  it('a provider refund no row of ours accounts for is reported with its id, status and amount', async () => {
    const { order, refundId, stripeRefundId } = await refundedOrder();
    const ours = { id: stripeRefundId, status: 'succeeded' as const, amount: 400, failureReason: null };
    const outside = { id: 're_made_outside', status: 'succeeded' as const, amount: 200, failureReason: null };
    const report = await reconcileRefunds(
      deps(
        listing([
          { ...ours, metadata: { refund_id: refundId } },
          { ...outside, metadata: {} },
        ]),
      ),
      window(),
      { heal: true },
    );
    const at = { orderId: order.id, paymentIntentId: order.paymentIntentId };
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([
      { kind: 'refund_unknown', ...at, detail: 're_made_outside succeeded 200' },
      { kind: 'refund_total_mismatch', ...at, detail: 'provider 600 != recorded 400' },
    ]);
  });
});
