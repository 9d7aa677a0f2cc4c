import {
  claimOrder,
  DEFAULT_RECOVERY_POLICY,
  type PaymentsDeps,
  type RecoveryPolicy,
  runRecovery,
} from '@chargeonce/payments';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';

/**
 * Unknown outcomes are settled by the recovery worker: the same idempotency key within the
 * provider's key window, a lookup by metadata past it; never a second PaymentIntent.
 */
let env: InProcess;
let deps: PaymentsDeps;
beforeAll(async () => {
  env = await startInProcess({
    STRIPE_TIMEOUT_MS: '300',
    STRIPE_MAX_NETWORK_RETRIES: '0',
    CHARGEONCE_PAY_DEADLINE_MS: '500',
    // Recovery is driven by the tests themselves, with their own policies.
    CHARGEONCE_RECOVERY_INTERVAL_MS: '0',
  });
  deps = env.paymentsDeps('recovery-test');
});
afterAll(async () => {
  await env?.stop();
});

const now: RecoveryPolicy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 };
const order = async (
  client: Awaited<ReturnType<InProcess['newUser']>>['client'],
  paymentMethodId = 'pm_card_visa',
) => client.orders.create.mutate({ amount: 3100, currency: 'usd', paymentMethodId });
const state = async (orderId: string) => {
  const [row] = await env.db.sql`
    select o.status, o.payment_intent_id, a.status as attempt_status
      from orders o join payment_attempts a on a.order_id = o.id where o.id = ${orderId}
     order by a.claim_version desc limit 1`;
  return row;
};

describe('recovery', () => {
  it('charged but response lost: recovery finalizes with the same key; one charge, order paid', async () => {
    const { client } = await env.newUser();
    const o = await order(client);
    await env.payWithLostResponse(client, o.id);
    expect(await state(o.id)).toMatchObject({ status: 'processing', attempt_status: 'processing' });

    const report = await runRecovery(deps, now);
    expect(report.results.succeeded).toBe(1);
    const intents = env.paymentIntentsFor(o.id);
    expect(intents).toHaveLength(1);
    expect(await state(o.id)).toMatchObject({
      status: 'paid',
      payment_intent_id: intents[0]!.id,
      attempt_status: 'succeeded',
    });
    // The customer's next click is told the truth.
    const again = await client.orders.pay.mutate({ orderId: o.id });
    expect(again).toMatchObject({ outcome: 'already_paid', paymentIntentId: intents[0]!.id });
  });

  it('a declined charge whose response was lost is settled as failed; the order is payable again', async () => {
    const { client } = await env.newUser();
    const o = await order(client, 'pm_card_chargeDeclined');
    await env.payWithLostResponse(client, o.id);
    expect((await runRecovery(deps, now)).results.failed).toBe(1);
    expect(await state(o.id)).toMatchObject({ status: 'failed', attempt_status: 'failed' });
    const paid = await client.orders.pay.mutate({ orderId: o.id, paymentMethodId: 'pm_card_visa' });
    expect(paid.outcome).toBe('charged');
  });

  it('attempts younger than the grace period are left to their live payer', async () => {
    const { client } = await env.newUser();
    const o = await order(client);
    await env.payWithLostResponse(client, o.id);
    const report = await runRecovery(deps, { ...now, graceMs: 60_000 });
    expect(report.leased).toBe(0);
    expect((await runRecovery(deps, now)).results.succeeded).toBe(1);
  });

  it('two workers racing never re-drive one attempt twice: one charge per order', async () => {
    const { client } = await env.newUser();
    const orders = [];
    for (let i = 0; i < 4; i++) {
      const o = await order(client);
      await env.payWithLostResponse(client, o.id);
      orders.push(o);
    }
    const [a, b] = await Promise.all([runRecovery(deps, now), runRecovery(deps, now)]);
    expect(a.leased + b.leased).toBe(4);
    for (const o of orders) {
      expect(env.paymentIntentsFor(o.id)).toHaveLength(1);
      expect(await state(o.id)).toMatchObject({ status: 'paid' });
    }
  });

  it('recovery racing a live request: one charge, order paid, the payer still told the truth', async () => {
    const { client } = await env.newUser();
    const o = await order(client);
    env.emulator.setLatency(150); // the live charge is in flight (within the 300 ms client timeout)
    try {
      const live = client.orders.pay.mutate({ orderId: o.id });
      await expect
        .poll(async () => (await state(o.id))?.attempt_status === 'processing', {
          message: 'the live claim',
        })
        .toBe(true);
      const [result, report] = await Promise.all([live, runRecovery(deps, now)]);
      expect(['charged', 'processing']).toContain(result.outcome);
      expect(report.leased).toBe(1);
    } finally {
      env.emulator.setLatency(0);
    }
    // On a loaded machine both may come back unknown (timeout; 409 while the other's create runs):
    // further passes (with a short lease, so the next pass may take it) must settle it.
    await expect
      .poll(
        async () => {
          await runRecovery(deps, { ...now, leaseMs: 1 });
          return (await state(o.id))?.status === 'paid';
        },
        { message: 'recovery to settle the raced attempt', timeout: 30_000 },
      )
      .toBe(true);
    expect(env.paymentIntentsFor(o.id)).toHaveLength(1);
    expect(await state(o.id)).toMatchObject({ status: 'paid', attempt_status: 'succeeded' });
  });

  it('past the key window it only looks the PaymentIntent up: a pruned key never means a second charge', async () => {
    const { client } = await env.newUser();
    const o = await order(client);
    await env.payWithLostResponse(client, o.id);
    // The provider has forgotten the key: repeating the create would charge again.
    env.emulator.pruneIdempotencyKeys(0);
    const report = await runRecovery(deps, { ...now, keyWindowMs: 1 });
    expect(report.results.succeeded).toBe(1);
    expect(env.paymentIntentsFor(o.id)).toHaveLength(1);
    expect(await state(o.id)).toMatchObject({ status: 'paid' });
  });

  it('past the key window with no PaymentIntent at the provider: nothing was charged, order payable', async () => {
    const user = await env.newUser();
    const { client } = user;
    const o = await order(client);
    // A claim whose create never reached the provider (the process died right after claiming).
    const { attempt } = await claimOrder(env.db.db, {
      orderId: o.id,
      userId: user.id,
      claimedBy: 'crashed',
      declineCooldownMs: 0,
    });
    expect(attempt).toBeDefined();
    const report = await runRecovery(deps, { ...now, keyWindowMs: 1 });
    expect(report.results.failed).toBe(1);
    expect(env.paymentIntentsFor(o.id)).toHaveLength(0);
    expect(await state(o.id)).toMatchObject({ status: 'failed', attempt_status: 'failed' });
    expect((await client.orders.pay.mutate({ orderId: o.id })).outcome).toBe('charged');
    expect(env.paymentIntentsFor(o.id)).toHaveLength(1);
  });
});
