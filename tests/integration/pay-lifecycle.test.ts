import { orders, paymentAttempts } from '@chargeonce/db';
import { idempotencyKeyFor, payOrder } from '@chargeonce/payments';
import { eq } from 'drizzle-orm';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';

let env: InProcess;
beforeAll(async () => {
  // A short provider timeout (no SDK retries) so the timeout case is quick.
  env = await startInProcess({
    STRIPE_TIMEOUT_MS: '400',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    CHARGEONCE_PAY_DEADLINE_MS: '1000',
  });
});
afterAll(async () => {
  await env?.stop();
});

const attemptsOf = (orderId: string) =>
  env.db
    .sql`select claim_version, idempotency_key, status, payment_intent_id, error_code, decline_code, claimed_by
               from payment_attempts where order_id = ${orderId} order by claim_version`;
const orderRow = async (orderId: string) =>
  (
    await env.db
      .sql`select status, version, payment_intent_id, payment_method_id from orders where id = ${orderId}`
  )[0];

describe('orders.pay lifecycle', () => {
  it('version increments exactly as designed: create 1, claim 2, finalize 3', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 1000,
      currency: 'USD',
      paymentMethodId: 'pm_card_visa',
    });
    expect(order).toMatchObject({ version: 1, status: 'pending', currency: 'usd' });
    const result = await user.client.orders.pay.mutate({ orderId: order.id });
    expect(result.outcome).toBe('charged');
    expect(result.order).toMatchObject({ version: 3, status: 'paid' });
    const attempts = await attemptsOf(order.id);
    expect(attempts).toHaveLength(1);
    expect(attempts[0]).toMatchObject({
      claim_version: 2,
      idempotency_key: idempotencyKeyFor(order.id, 2),
      status: 'succeeded',
      claimed_by: 'in-process',
    });
    // The key the database derived is the key Stripe saw.
    const [intent] = env.paymentIntentsFor(order.id);
    expect(intent?.idempotency_key).toBe(idempotencyKeyFor(order.id, 2));
    expect(intent?.metadata).toMatchObject({ order_id: order.id, claim_version: '2' });
    // already_paid changes nothing.
    await user.client.orders.pay.mutate({ orderId: order.id });
    expect(await orderRow(order.id)).toMatchObject({
      version: 3,
      status: 'paid',
      payment_intent_id: intent?.id,
    });
  });

  it('a decline leaves the order payable; a second pay with pm_card_visa succeeds', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_chargeDeclined',
    });
    const declined = await trpcError(user.client.orders.pay.mutate({ orderId: order.id }));
    expect(declined).toMatchObject({
      code: 'PAYMENT_REQUIRED',
      httpStatus: 402,
      domainCode: 'PAYMENT_DECLINED',
      declineCode: 'generic_decline',
    });
    expect(await orderRow(order.id)).toMatchObject({ status: 'failed', version: 3 });

    const paid = await user.client.orders.pay.mutate({ orderId: order.id, paymentMethodId: 'pm_card_visa' });
    expect(paid.outcome).toBe('charged');
    expect(paid.order).toMatchObject({ status: 'paid', version: 5, paymentMethodId: 'pm_card_visa' });

    const attempts = await attemptsOf(order.id);
    expect(attempts.map((a) => [a.claim_version, a.status, a.error_code])).toEqual([
      [2, 'failed', 'card_declined'],
      [4, 'succeeded', null],
    ]);
    const intents = env.paymentIntentsFor(order.id);
    expect(intents.map((i) => i.status)).toEqual(['requires_payment_method', 'succeeded']);
  });

  it('insufficient funds is a decline with its reason', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 700,
      currency: 'usd',
      paymentMethodId: 'pm_card_chargeDeclinedInsufficientFunds',
    });
    const declined = await trpcError(user.client.orders.pay.mutate({ orderId: order.id }));
    expect(declined).toMatchObject({ code: 'PAYMENT_REQUIRED', declineCode: 'insufficient_funds' });
    expect(declined.message).toMatch(/insufficient_funds/);
    expect((await attemptsOf(order.id))[0]).toMatchObject({
      status: 'failed',
      decline_code: 'insufficient_funds',
    });
  });

  it('without a return URL (real Stripe, CHARGEONCE_RETURN_URL unset) a card that requires 3-D Secure is declined authentication_required, never parked', async () => {
    // The server here runs with the emulator, so it has a return URL and sends customers through the
    // challenge (three-d-secure.test.ts); a deployment without one confirms with
    // error_on_requires_action: the payments deps below carry no return URL, as the server's then.
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 700,
      currency: 'usd',
      paymentMethodId: 'pm_card_threeDSecure2Required',
    });
    await expect(
      payOrder(env.paymentsDeps('no-return-url'), { orderId: order.id, userId: user.id }),
    ).rejects.toMatchObject({
      code: 'PAYMENT_DECLINED',
      details: { declineCode: 'authentication_required' },
    });
    expect((await attemptsOf(order.id)).map((a) => a.status)).toEqual(['failed']);
    expect(env.paymentIntentsFor(order.id).map((pi) => pi.status)).toEqual(['requires_payment_method']);
    const retried = await user.client.orders.pay.mutate({
      orderId: order.id,
      paymentMethodId: 'pm_card_visa',
    });
    expect(retried.outcome).toBe('charged');
  });

  it('a payment method the provider does not know is rejected with nothing charged, order payable', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 700,
      currency: 'usd',
      paymentMethodId: 'pm_nonexistent',
    });
    const rejected = await trpcError(user.client.orders.pay.mutate({ orderId: order.id }));
    expect(rejected).toMatchObject({ code: 'UNPROCESSABLE_CONTENT', domainCode: 'PAYMENT_REJECTED' });
    expect(await orderRow(order.id)).toMatchObject({ status: 'failed' });
    expect(env.paymentIntentsFor(order.id)).toHaveLength(0);
  });

  it('a provider timeout answers processing, not an error, and never charges twice', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 1234,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    env.emulator.setLatency(1_500); // longer than the 400 ms client timeout
    try {
      const result = await user.client.orders.pay.mutate({ orderId: order.id });
      expect(result.outcome).toBe('processing');
      expect(result.order.status).toBe('processing');
      expect(await attemptsOf(order.id)).toMatchObject([{ status: 'processing', claim_version: 2 }]);
      // Another click while the outcome is unknown: still processing, no new claim, no new charge.
      const again = await user.client.orders.pay.mutate({ orderId: order.id });
      expect(again.outcome).toBe('processing');
      expect(await attemptsOf(order.id)).toHaveLength(1);
    } finally {
      env.emulator.setLatency(0);
    }
    // The provider did charge (the response was lost to the timeout): exactly once.
    await expect
      .poll(() => env.paymentIntentsFor(order.id).length === 1, { message: 'the slow charge to land' })
      .toBe(true);
    expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
  });
});

describe('database guards', () => {
  it('a second succeeded attempt for one order is rejected by the partial unique index', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await user.client.orders.pay.mutate({ orderId: order.id });
    const insert = env.db.db.insert(paymentAttempts).values({
      orderId: order.id,
      claimVersion: 99,
      idempotencyKey: 'manual-key',
      status: 'succeeded',
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      paymentIntentId: 'pi_manual',
      claimedBy: 'test',
    });
    await expect(insert).rejects.toMatchObject({
      cause: { code: '23505', constraint_name: 'payment_attempts_one_success_per_order_uq' },
    });
  });

  it('two paid orders cannot share a PaymentIntent, refunded since or not', async () => {
    const user = await env.newUser();
    const a = await user.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    const b = await user.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    const paid = await user.client.orders.pay.mutate({ orderId: a.id });
    const pi = paid.outcome === 'charged' ? paid.paymentIntentId : 'missing';
    await expect(
      env.db.db.update(orders).set({ status: 'paid', paymentIntentId: pi }).where(eq(orders.id, b.id)),
    ).rejects.toMatchObject({ cause: { code: '23505', constraint_name: 'orders_payment_intent_paid_uq' } });
    await expect(
      env.db.db
        .update(orders)
        .set({ status: 'refunded', paymentIntentId: pi, refundedAmount: 100 })
        .where(eq(orders.id, b.id)),
    ).rejects.toMatchObject({ cause: { code: '23505', constraint_name: 'orders_payment_intent_paid_uq' } });
  });

  it('amount must be positive and status must be a known state, enforced by PostgreSQL', async () => {
    const user = await env.newUser();
    const o = await user.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await expect(env.db.sql`update orders set amount = 0 where id = ${o.id}`).rejects.toMatchObject({
      code: '23514',
    });
    await expect(env.db.sql`update orders set status = 'shipped' where id = ${o.id}`).rejects.toMatchObject({
      code: '22P02',
    });
  });
});
