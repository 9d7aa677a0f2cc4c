import { DEFAULT_RECOVERY_POLICY, reconcile, runRecovery } from '@chargeonce/payments';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';

/**
 * Refunds end to end: typed client -> server -> real PostgreSQL -> the real stripe SDK -> the
 * emulator's Refunds API, with its webhooks delivered back to the server, its faults, recovery and
 * reconciliation. Effects are counted at the emulator.
 */
const WEBHOOK_SECRET = 'whsec_refunds_test';
let env: InProcess;
beforeAll(async () => {
  env = await startInProcess({
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    CHARGEONCE_RECOVERY_INTERVAL_MS: '0',
  });
  env.emulator.configureWebhooks({
    url: `${env.server.url}/webhooks/stripe`,
    secret: WEBHOOK_SECRET,
    retryBaseMs: 50,
    retryMaxMs: 200,
  });
  env.emulator.setRefundDelay(200);
});
afterAll(async () => {
  await env?.stop();
});

type Client = Awaited<ReturnType<InProcess['newUser']>>['client'];
async function paidOrder(client: Client, paymentMethodId = 'pm_card_visa', amount = 5000) {
  const order = await client.orders.create.mutate({ amount, currency: 'usd', paymentMethodId });
  expect((await client.orders.pay.mutate({ orderId: order.id })).outcome).toBe('charged');
  return order;
}
const refundsAtProvider = (orderId: string) =>
  env.emulator.refunds().filter((r) => r.metadata.order_id === orderId);
const row = async (orderId: string) =>
  (await env.db.sql`select status, refunded_amount from orders where id = ${orderId}`)[0];

describe('orders.refund', () => {
  it('refunds a paid order in full, once, and orders.get shows the refund', async () => {
    const { client } = await env.newUser();
    const order = await paidOrder(client);
    const answer = await client.orders.refund.mutate({ orderId: order.id, reason: 'requested_by_customer' });
    expect(answer).toMatchObject({
      outcome: 'refunded',
      order: { status: 'refunded', refundedAmount: 5000 },
      refund: { amount: 5000, status: 'succeeded', reason: 'requested_by_customer' },
    });
    const [atProvider] = refundsAtProvider(order.id);
    expect(refundsAtProvider(order.id)).toHaveLength(1);
    expect(atProvider).toMatchObject({ amount: 5000, status: 'succeeded', id: answer.refund.stripeRefundId });
    const { refunds } = await client.orders.get.query({ orderId: order.id });
    expect(refunds.map((r) => [r.amount, r.status])).toEqual([[5000, 'succeeded']]);
    const again = await trpcError(client.orders.refund.mutate({ orderId: order.id }));
    expect(again.domainCode).toBe('ORDER_NOT_REFUNDABLE');
    expect(refundsAtProvider(order.id)).toHaveLength(1);
  });

  it('40 concurrent tenth refunds: 10 at the provider, refunded exactly the amount', async () => {
    const { client } = await env.newUser();
    const order = await paidOrder(client);
    const results = await Promise.allSettled(
      Array.from({ length: 40 }, () => client.orders.refund.mutate({ orderId: order.id, amount: 500 })),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const succeeded = refundsAtProvider(order.id).filter((r) => r.status === 'succeeded');
    expect(succeeded.map((r) => r.amount)).toEqual(Array(10).fill(500));
    expect(await row(order.id)).toEqual({ status: 'refunded', refunded_amount: 5000 });
  });

  it('a refund the provider holds pending is answered pending, then settled by its webhook', async () => {
    const { client } = await env.newUser();
    const order = await paidOrder(client, 'pm_card_pendingRefund');
    const answer = await client.orders.refund.mutate({ orderId: order.id, amount: 2000 });
    expect(answer).toMatchObject({ outcome: 'pending', refund: { status: 'pending' } });
    await expect
      .poll(async () => (await client.orders.get.query({ orderId: order.id })).refunds[0]?.status, {
        message: 'the refund.updated webhook to settle the refund',
      })
      .toBe('succeeded');
    expect(await row(order.id)).toEqual({ status: 'partially_refunded', refunded_amount: 2000 });
  });

  it('a refund that fails after succeeding gives its amount back when its webhook arrives', async () => {
    const { client } = await env.newUser();
    const order = await paidOrder(client, 'pm_card_refundFail');
    const answer = await client.orders.refund.mutate({ orderId: order.id });
    expect(answer.outcome).toBe('refunded');
    await expect
      .poll(() => row(order.id), { message: 'the refund.failed webhook to release the reservation' })
      .toEqual({ status: 'paid', refunded_amount: 0 });
    const { refunds } = await client.orders.get.query({ orderId: order.id });
    expect(refunds[0]).toMatchObject({ status: 'failed', errorCode: 'expired_or_canceled_card' });
  });

  it('a refund whose answer is lost (500 after executing) stays pending; recovery settles it with the same key', async () => {
    const { client } = await env.newUser();
    const order = await paidOrder(client);
    env.emulator.setFaults({ rules: [{ fault: 'error_after', operation: 'refunds.create', times: 1 }] });
    // No webhooks for this one: recovery alone must settle it.
    env.emulator.configureWebhooks({ url: null });
    try {
      const answer = await client.orders.refund.mutate({ orderId: order.id, amount: 1500 });
      expect(answer).toMatchObject({ outcome: 'pending', refund: { status: 'pending' } });
      expect(refundsAtProvider(order.id)).toHaveLength(1);
      const report = await runRecovery(env.paymentsDeps('recovery-test'), {
        ...DEFAULT_RECOVERY_POLICY,
        graceMs: 0,
        leaseMs: 60_000,
        keyWindowMs: 60 * 60_000,
        batchSize: 50,
      });
      expect(report.refunds.results.succeeded).toBeGreaterThanOrEqual(1);
    } finally {
      env.emulator.clearFaults();
      env.emulator.configureWebhooks({ url: `${env.server.url}/webhooks/stripe` });
    }
    expect(refundsAtProvider(order.id)).toHaveLength(1);
    const { refunds } = await client.orders.get.query({ orderId: order.id });
    expect(refunds.map((r) => [r.amount, r.status])).toEqual([[1500, 'succeeded']]);
  });

  it('reconciliation settles a refund left pending and finds the totals equal', async () => {
    const { client } = await env.newUser();
    const order = await paidOrder(client);
    env.emulator.setFaults({ rules: [{ fault: 'error_after', operation: 'refunds.create', times: 1 }] });
    env.emulator.configureWebhooks({ url: null });
    try {
      expect((await client.orders.refund.mutate({ orderId: order.id })).outcome).toBe('pending');
    } finally {
      env.emulator.clearFaults();
    }
    const to = new Date(Date.now() + 60_000);
    const report = await reconcile(env.paymentsDeps('reconcile-test'), {
      from: new Date(to.getTime() - 3_600_000),
      to,
    });
    env.emulator.configureWebhooks({ url: `${env.server.url}/webhooks/stripe` });
    const mine = report.findings.filter((f) => f.orderId === order.id);
    expect(mine.map((f) => f.kind)).toEqual(['refund_healed']);
    expect((await client.orders.get.query({ orderId: order.id })).refunds[0]?.status).toBe('succeeded');
  });

  it('reconciliation matches each pending refund to its own provider refund; without healing it only reports', async () => {
    const { client } = await env.newUser();
    const order = await paidOrder(client);
    env.emulator.setFaults({ rules: [{ fault: 'error_after', operation: 'refunds.create', times: 2 }] });
    env.emulator.configureWebhooks({ url: null });
    try {
      for (const amount of [1000, 1500])
        expect((await client.orders.refund.mutate({ orderId: order.id, amount })).outcome).toBe('pending');
    } finally {
      env.emulator.clearFaults();
    }
    await expect
      .poll(() => refundsAtProvider(order.id).map((r) => r.status))
      .toEqual(['succeeded', 'succeeded']);
    const to = new Date(Date.now() + 60_000);
    const window = { from: new Date(to.getTime() - 3_600_000), to };
    const deps = env.paymentsDeps('reconcile-test');
    try {
      const reported = await reconcile(deps, window, { heal: false });
      // Nothing settled: ours still pending, so the succeeded totals differ.
      expect(reported.findings.filter((f) => f.orderId === order.id).map((f) => f.kind)).toEqual([
        'refund_total_mismatch',
      ]);
      const statuses = await env.db.sql`select status from refunds where order_id = ${order.id}`;
      expect(statuses.map((r) => r.status)).toEqual(['pending', 'pending']);
      const healed = await reconcile(deps, window);
      expect(healed.findings.filter((f) => f.orderId === order.id).map((f) => f.kind)).toEqual([
        'refund_healed',
        'refund_healed',
      ]);
    } finally {
      env.emulator.configureWebhooks({ url: `${env.server.url}/webhooks/stripe` });
    }
    const ours = await env.db
      .sql`select id, amount, status, stripe_refund_id from refunds where order_id = ${order.id}`;
    const theirs = new Map(refundsAtProvider(order.id).map((r) => [r.metadata.refund_id, r]));
    for (const r of ours) {
      expect(r.status).toBe('succeeded');
      expect(r.stripe_refund_id).toBe(theirs.get(r.id as string)?.id);
      expect(r.amount).toBe(theirs.get(r.id as string)?.amount);
    }
  });

  it('refuses an unpaid order, too much, another user’s order; nothing reaches the provider', async () => {
    const owner = await env.newUser();
    const other = await env.newUser();
    const unpaid = await owner.client.orders.create.mutate({
      amount: 5000,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    expect((await trpcError(owner.client.orders.refund.mutate({ orderId: unpaid.id }))).domainCode).toBe(
      'ORDER_NOT_REFUNDABLE',
    );
    const paid = await paidOrder(owner.client);
    const tooMuch = await trpcError(owner.client.orders.refund.mutate({ orderId: paid.id, amount: 5001 }));
    expect([tooMuch.code, tooMuch.domainCode]).toEqual(['CONFLICT', 'REFUND_EXCEEDS_REFUNDABLE']);
    expect((await trpcError(other.client.orders.refund.mutate({ orderId: paid.id }))).code).toBe('NOT_FOUND');
    expect(refundsAtProvider(unpaid.id)).toHaveLength(0);
    expect(refundsAtProvider(paid.id)).toHaveLength(0);
    expect(await row(paid.id)).toEqual({ status: 'paid', refunded_amount: 0 });
  });
});

describe('orders.cancel over HTTP', () => {
  it('cancels a pending order; pay then refuses it; a paid order is refunded, not canceled', async () => {
    const { client } = await env.newUser();
    const order = await client.orders.create.mutate({
      amount: 5000,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    expect((await client.orders.cancel.mutate({ orderId: order.id })).order.status).toBe('canceled');
    expect((await trpcError(client.orders.pay.mutate({ orderId: order.id }))).domainCode).toBe(
      'ORDER_NOT_PAYABLE',
    );
    expect(env.paymentIntentsFor(order.id)).toHaveLength(0);
    const paid = await paidOrder(client);
    expect((await trpcError(client.orders.cancel.mutate({ orderId: paid.id }))).domainCode).toBe(
      'ORDER_NOT_CANCELABLE',
    );
  });
});
