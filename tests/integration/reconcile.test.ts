import { orders } from '@chargeonce/db';
import { createStripeClient, type PaymentsDeps, reconcile } from '@chargeonce/payments';
import { EMULATOR_SECRET_KEY } from '@chargeonce/stripe-emulator';
import { eq, sql } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';
import { runScript } from '../support/processes';

let env: InProcess;
let deps: PaymentsDeps;
beforeAll(async () => {
  env = await startInProcess({
    STRIPE_TIMEOUT_MS: '300',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    CHARGEONCE_RECOVERY_INTERVAL_MS: '0',
  });
  deps = env.paymentsDeps('reconcile-test');
});
afterAll(async () => {
  await env?.stop();
});

const window = () => ({ from: new Date(Date.now() - 3_600_000), to: new Date(Date.now() + 60_000) });
const findingsFor = async (orderId: string) =>
  (await reconcile(deps, window())).findings.filter((f) => f.orderId === orderId).map((f) => f.kind);
const stripe = () =>
  createStripeClient({ secretKey: EMULATOR_SECRET_KEY, apiBase: env.emulator.url, maxNetworkRetries: 0 });

describe('reconcile', () => {
  it('a normally paid order is accounted for', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 700,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await client.orders.pay.mutate({ orderId: o.id });
    expect(await findingsFor(o.id)).toEqual([]);
  });

  it('heals a succeeded PaymentIntent whose attempt is still processing (response lost)', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 800,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await env.payWithLostResponse(client, o.id);
    // Without healing: reported, saying the order knows no PaymentIntent yet.
    const reported = (await reconcile(deps, window(), { heal: false })).findings.filter(
      (f) => f.orderId === o.id,
    );
    expect(reported).toEqual([
      expect.objectContaining({
        kind: 'orphan',
        detail: 'order processing with no payment intent, attempt processing',
      }),
    ]);
    expect(await findingsFor(o.id)).toEqual(['orphan_healed']);
    expect((await client.orders.get.query({ orderId: o.id })).order.status).toBe('paid');
    expect(await findingsFor(o.id)).toEqual([]);
  });

  it('heals a hold whose pay answer was lost: the attempt, knowing no PaymentIntent yet, is found by its id in the metadata', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 850,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      captureMethod: 'manual',
    });
    await env.payWithLostResponse(client, o.id);
    const [attempt] = await env.db
      .sql`select payment_intent_id from payment_attempts where order_id = ${o.id}`;
    expect(attempt?.payment_intent_id).toBeNull();
    const healed = (await reconcile(deps, window())).findings.filter((f) => f.orderId === o.id);
    expect(healed).toEqual([
      expect.objectContaining({ kind: 'authorization_healed', detail: 'provider requires_capture' }),
    ]);
    expect((await client.orders.get.query({ orderId: o.id })).order.status).toBe('authorized');
  });

  it('a hold it cannot re-read because the provider refuses our key is left open: never failed, nothing reported', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 860,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      captureMethod: 'manual',
    });
    await env.payWithLostResponse(client, o.id);
    const refused: PaymentsDeps = {
      ...deps,
      gateway: {
        ...deps.gateway,
        retrieve: async () => ({ kind: 'unavailable', reason: 'StripeAuthenticationError' }),
      },
    };
    // The create may have executed (it did): unavailable on the re-read says nothing about it.
    const report = await reconcile(refused, window());
    expect(report.findings.filter((f) => f.orderId === o.id)).toEqual([]);
    const [attempt] = await env.db.sql`select status from payment_attempts where order_id = ${o.id}`;
    expect(attempt?.status).toBe('processing');
    expect(await findingsFor(o.id)).toEqual(['authorization_healed']);
  });

  it('reports a second succeeded PaymentIntent for a paid order (a double charge) and its amount mismatch', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 900,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await client.orders.pay.mutate({ orderId: o.id });
    // Someone charged the order again outside chargeonce.
    await stripe().paymentIntents.create({
      amount: 901,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { order_id: o.id },
    });
    expect((await findingsFor(o.id)).sort()).toEqual(['multiple_succeeded', 'orphan']);
  });

  it('reports a PaymentIntent made outside chargeonce for one of our attempts: its amount, currency and the order it did not pay', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 1200,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    const paid = await client.orders.pay.mutate({ orderId: o.id });
    const [attempt] = await env.db.sql`select id from payment_attempts where order_id = ${o.id}`;
    const other = await stripe().paymentIntents.create({
      amount: 1201,
      currency: 'eur',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { order_id: o.id, attempt_id: attempt!.id as string },
    });
    const report = await reconcile(deps, window());
    const mine = report.findings.filter((f) => f.paymentIntentId === other.id);
    expect(mine.map((f) => [f.kind, f.detail])).toEqual([
      ['amount_mismatch', '1200 != 1201'],
      ['currency_mismatch', 'usd != eur'],
      [
        'orphan',
        `order paid with ${'paymentIntentId' in paid ? paid.paymentIntentId : ''}, attempt succeeded`,
      ],
    ]);
    expect((await findingsFor(o.id)).sort()).toEqual([
      'amount_mismatch',
      'currency_mismatch',
      'multiple_succeeded',
      'orphan',
    ]);
  });

  it('reports a refund made outside chargeonce of an order it refunded, and the refunded totals that differ', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 1100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await client.orders.pay.mutate({ orderId: o.id });
    expect((await client.orders.refund.mutate({ orderId: o.id, amount: 300 })).outcome).toBe('refunded');
    const { order } = await client.orders.get.query({ orderId: o.id });
    await stripe().refunds.create({ payment_intent: order.paymentIntentId!, amount: 200 });
    // The provider's refunds unreadable now: nothing is said of them (the next run looks again).
    env.emulator.setFaults([{ operation: 'refunds.list', fault: 'error_before' }]);
    try {
      const unread = await reconcile(deps, window());
      expect(unread.findings.filter((f) => f.orderId === o.id)).toEqual([]);
    } finally {
      env.emulator.clearFaults();
    }
    const report = await reconcile(deps, window());
    const mine = report.findings.filter((f) => f.orderId === o.id);
    expect(mine.map((f) => f.kind).sort()).toEqual(['refund_total_mismatch', 'refund_unknown']);
    expect(mine.find((f) => f.kind === 'refund_total_mismatch')?.detail).toBe('provider 500 != recorded 300');
  });

  it('a paid order whose PaymentIntent was created before the window is looked up directly, not reported', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 1300,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await client.orders.pay.mutate({ orderId: o.id });
    // Paid (as the window sees it) an hour from now: its PaymentIntent, made now, is not listed.
    await env.db.db.update(orders).set({ paidAt: sql`now() + interval '1 hour'` }).where(eq(orders.id, o.id));
    const later = { from: new Date(Date.now() + 1_800_000), to: new Date(Date.now() + 7_200_000) };
    const report = await reconcile(deps, later);
    expect(report.findings.filter((f) => f.orderId === o.id)).toEqual([]);
  });

  it('succeeded PaymentIntents naming no order are each an orphan, never one double charge', async () => {
    const outside = () =>
      stripe().paymentIntents.create({
        amount: 777,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
      });
    const [a, b] = [await outside(), await outside()];
    const report = await reconcile(deps, window());
    const of = (id: string) =>
      report.findings.filter((f) => f.paymentIntentId === id || f.detail.includes(id));
    expect(of(a.id)).toEqual([
      { kind: 'orphan', paymentIntentId: a.id, orderId: undefined, detail: 'no attempt' },
    ]);
    expect(of(b.id)).toEqual([
      { kind: 'orphan', paymentIntentId: b.id, orderId: undefined, detail: 'no attempt' },
    ]);
  });

  it('reports a paid order without a succeeded PaymentIntent', async () => {
    const { client } = await env.newUser();
    const o = await client.orders.create.mutate({
      amount: 1000,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await env.db.db
      .update(orders)
      .set({
        status: 'paid',
        paymentIntentId: 'pi_never_charged',
        paidAt: sql`now()`,
        version: sql`${orders.version} + 1`,
      })
      .where(eq(orders.id, o.id));
    expect(await findingsFor(o.id)).toEqual(['paid_without_succeeded_payment_intent']);
  });

  it('pnpm reconcile --json prints the report last and exits 1 while anything is unexplained', async () => {
    const run = await runScript('apps/server/src/cli/reconcile.ts', ['--json', '--since', '1'], {
      DATABASE_URL: env.database.url,
      STRIPE_SECRET_KEY: EMULATOR_SECRET_KEY,
      STRIPE_API_BASE: env.emulator.url,
    });
    const report = JSON.parse(run.lastLine);
    expect(run.code).toBe(1);
    expect(report.unexplained).toBeGreaterThan(0);
    expect(report.findings.map((f: { kind: string }) => f.kind)).toContain('multiple_succeeded');
  });
});
