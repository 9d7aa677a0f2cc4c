import { type DbHandle, orders } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { ChargeResult, PaymentGateway, ProviderPaymentIntent } from '../src/gateway';
import { createOrder, findOrder, type Order } from '../src/orders';
import { payOrder } from '../src/pay';
import { reconcile } from '../src/reconcile';
import { recordingLogger, refundingProvider, useDatabase } from './support';

/**
 * reconcile against real PostgreSQL with a scripted provider (its listed PaymentIntents and its
 * answer to a direct re-read): how PaymentIntents are matched to attempts, what it heals and what
 * it refuses to call healed, and what each finding and log line tells the operator.
 */
let handle: DbHandle;
let userId: string;
useDatabase('reconcile-test', (db) => {
  ({ handle, userId } = db);
});

/**
 * A provider listing `listed` in any window, answering a direct re-read of a PaymentIntent with
 * `reread(id)` (default: succeeded) and recording which ids were re-read.
 */
function provider(listed: ProviderPaymentIntent[], reread?: (id: string) => ChargeResult) {
  const retrieved: string[] = [];
  const gateway: PaymentGateway = {
    ...refundingProvider().gateway,
    async *listPaymentIntents() {
      yield* listed;
    },
    async retrieve(id) {
      retrieved.push(id);
      return reread?.(id) ?? { kind: 'succeeded', paymentIntentId: id };
    },
  };
  return { gateway, retrieved };
}

const deps = (gateway: PaymentGateway, extra: Partial<PaymentsDeps> = {}): PaymentsDeps => ({
  db: handle.db,
  gateway,
  instanceId: 'unit',
  ...extra,
});
/** From now on (taken at a test's start): orders paid by earlier tests fall outside it. */
const windowFromNow = () => ({ from: new Date(), to: new Date(Date.now() + 60_000) });

const newOrder = () =>
  createOrder(handle.db, { userId, amount: 1000, currency: 'usd', paymentMethodId: 'pm_card_visa' });
const succeededIntent = (id: string, metadata: Record<string, string>): ProviderPaymentIntent => ({
  id,
  status: 'succeeded',
  amount: 1000,
  amountReceived: 1000,
  currency: 'usd',
  created: Math.floor(Date.now() / 1000),
  metadata,
});

/** A paid order, charged as usual (its PaymentIntent is `pi_<key>`). */
async function paidOrder(): Promise<Order> {
  const paid = await payOrder(deps(refundingProvider().gateway), { orderId: (await newOrder()).id, userId });
  expect(paid.outcome).toBe('charged');
  return paid.order;
}

/** An order whose charge answer was lost: order and attempt left processing, no PaymentIntent. */
async function processingOrder(): Promise<{ order: Order; attemptId: string }> {
  const order = await newOrder();
  const lost: PaymentGateway = {
    ...refundingProvider().gateway,
    charge: async () => ({ kind: 'unknown', reason: 'timeout' }),
  };
  const answer = await payOrder(deps(lost), { orderId: order.id, userId });
  expect(answer.outcome).toBe('processing');
  const [attempt] = await handle.sql`select id, status from payment_attempts where order_id = ${order.id}`;
  expect(attempt?.status).toBe('processing');
  return { order, attemptId: attempt!.id as string };
}

describe('reconcile', () => {
  it('two succeeded PaymentIntents for one order are a double charge whose detail counts and names both', async () => {
    const window = windowFromNow();
    const orderId = crypto.randomUUID();
    const { gateway } = provider([
      succeededIntent('pi_double_a', { order_id: orderId }),
      succeededIntent('pi_double_b', { order_id: orderId }),
    ]);
    const report = await reconcile(deps(gateway), window);
    expect(report.findings.filter((f) => f.kind === 'multiple_succeeded')).toEqual([
      { kind: 'multiple_succeeded', orderId, detail: '2 succeeded PaymentIntents: pi_double_a, pi_double_b' },
    ]);
  });

  it('a succeeded PaymentIntent without our attempt id in its metadata is matched to its attempt by its id', async () => {
    const window = windowFromNow();
    const order = await paidOrder();
    const { gateway } = provider([succeededIntent(order.paymentIntentId!, { order_id: order.id })]);
    const report = await reconcile(deps(gateway), window);
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([]);
  });

  it('a paid order whose PaymentIntent is listed as succeeded is not re-read from the provider', async () => {
    const window = windowFromNow();
    const order = await paidOrder();
    const [attempt] = await handle.sql`select id from payment_attempts where order_id = ${order.id}`;
    const { gateway, retrieved } = provider(
      [succeededIntent(order.paymentIntentId!, { order_id: order.id, attempt_id: attempt!.id as string })],
      () => ({ kind: 'unknown', reason: 'timeout' }),
    );
    const report = await reconcile(deps(gateway), window);
    expect(retrieved).not.toContain(order.paymentIntentId);
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([]);
  });

  it('a paid order whose PaymentIntent the provider does not call succeeded is reported with what the provider says', async () => {
    const window = windowFromNow();
    const order = await paidOrder();
    const { gateway } = provider([], (id) => ({
      kind: 'canceled',
      paymentIntentId: id,
      reason: 'abandoned',
    }));
    const report = await reconcile(deps(gateway), window);
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([
      {
        kind: 'paid_without_succeeded_payment_intent',
        orderId: order.id,
        paymentIntentId: order.paymentIntentId,
        detail: 'provider says canceled',
      },
    ]);
  });

  it('finalizes a processing attempt whose PaymentIntent succeeded: reported healed, logged, nothing left unexplained', async () => {
    const window = windowFromNow();
    const { order, attemptId } = await processingOrder();
    const { logger, entries } = recordingLogger(['warn']);
    const { gateway } = provider([
      succeededIntent('pi_healed_here', { order_id: order.id, attempt_id: attemptId }),
    ]);
    const report = await reconcile(deps(gateway, { logger }), window);
    const at = { orderId: order.id, paymentIntentId: 'pi_healed_here' };
    expect(report.findings).toEqual([{ kind: 'orphan_healed', ...at, detail: 'finalized' }]);
    expect(report.unexplained).toBe(0);
    expect(entries).toEqual([{ level: 'warn', msg: 'reconciliation finalized an orphaned payment', ...at }]);
    expect(await findOrder(handle.db, order.id)).toMatchObject({
      status: 'paid',
      paymentIntentId: 'pi_healed_here',
    });
  });

  it('a processing attempt it cannot finalize (its order moved since) is reported as an orphan, not as healed', async () => {
    const window = windowFromNow();
    const { order, attemptId } = await processingOrder();
    // Another writer moved the order since the attempt's claim: the attempt is no longer its current one.
    await handle.db
      .update(orders)
      .set({ version: sql`${orders.version} + 1` })
      .where(eq(orders.id, order.id));
    const { logger, entries } = recordingLogger(['warn']);
    const { gateway } = provider([
      succeededIntent('pi_not_healed', { order_id: order.id, attempt_id: attemptId }),
    ]);
    const report = await reconcile(deps(gateway, { logger }), window);
    expect(report.findings.filter((f) => f.orderId === order.id)).toEqual([
      {
        kind: 'orphan',
        orderId: order.id,
        paymentIntentId: 'pi_not_healed',
        detail: 'order processing with no payment intent, attempt processing',
      },
    ]);
    expect(report.unexplained).toBeGreaterThan(0);
    expect(entries).toEqual([]);
    expect(await findOrder(handle.db, order.id)).toMatchObject({
      status: 'processing',
      paymentIntentId: null,
    });
  });
});
