import { createUserWithToken, type DbHandle, orders } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAY_POLICY, type PaymentsDeps } from '../src/deps';
import { DomainError } from '../src/errors';
import type { ChargeRequest, ChargeResult, PaymentGateway } from '../src/gateway';
import { createOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { finalizeAttempt } from '../src/settle';
import { losingDatabase, recordingLogger, unusedRefundsAndCaptures, useDatabase } from './support';

/**
 * payOrder against real PostgreSQL with a scripted gateway, for the paths a real provider only
 * takes under failure. Time is virtual: `sleep` advances a fake clock, so deadlines are exercised
 * without waiting.
 */
let handle: DbHandle;
let userId: string;
useDatabase('pay-test', (db) => {
  ({ handle, userId } = db);
});

function deps(
  gateway: PaymentGateway,
  overrides: Partial<PaymentsDeps> = {},
): PaymentsDeps & { clock: { t: number } } {
  const clock = { t: 0 };
  return {
    db: handle.db,
    gateway,
    instanceId: 'unit',
    now: () => clock.t,
    sleep: async (ms) => {
      clock.t += ms;
    },
    clock,
    ...overrides,
  };
}

const newOrder = () =>
  createOrder(handle.db, { userId, amount: 500, currency: 'usd', paymentMethodId: 'pm_card_visa' });
const charges: ChargeRequest[] = [];
/** A gateway whose charge is scripted; payOrder never looks PaymentIntents up. */
const chargeOnly = (charge: PaymentGateway['charge']): PaymentGateway => ({
  ...unusedRefundsAndCaptures,
  charge,
  retrieve: () => Promise.reject(new Error('payOrder does not retrieve')),
  findByAttempt: () => Promise.reject(new Error('payOrder does not search')),
  listPaymentIntents: () => {
    throw new Error('payOrder does not list');
  },
});
const succeeding = chargeOnly(async (request) => {
  charges.push(request);
  return { kind: 'succeeded', paymentIntentId: `pi_${request.idempotencyKey}` };
});
const scripted = (result: ChargeResult): PaymentGateway => chargeOnly(async () => result);

describe('payOrder', () => {
  it('charges with the claim-derived key and metadata naming order and attempt', async () => {
    const order = await newOrder();
    const result = await payOrder(deps(succeeding), { orderId: order.id, userId });
    expect(result.outcome).toBe('charged');
    const request = charges.at(-1)!;
    expect(request).toMatchObject({ amount: 500, currency: 'usd', paymentMethodId: 'pm_card_visa' });
    expect(request.idempotencyKey).toBe(`chargeonce-${order.id}-v2`);
    expect(request.metadata).toMatchObject({ order_id: order.id, claim_version: '2' });
    expect(request.metadata.attempt_id).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('an unknown provider outcome answers processing and leaves the attempt processing', async () => {
    const order = await newOrder();
    const { logger, entries } = recordingLogger();
    const result = await payOrder(deps(scripted({ kind: 'unknown', reason: 'timeout' }), { logger }), {
      orderId: order.id,
      userId,
    });
    expect(result).toMatchObject({ outcome: 'processing', order: { status: 'processing', version: 2 } });
    const [attempt] = await handle.sql`select id, status from payment_attempts where order_id = ${order.id}`;
    expect(attempt?.status).toBe('processing');
    const names = { orderId: order.id, attemptId: attempt?.id, idempotencyKey: `chargeonce-${order.id}-v2` };
    expect(entries).toEqual([
      { level: 'info', msg: 'stripe paymentIntents.create', ...names },
      {
        level: 'warn',
        msg: 'provider outcome unknown; attempt left processing',
        ...names,
        reason: 'timeout',
      },
    ]);
  });

  it('waits for an in-flight claim with backoff, then answers processing at the deadline', async () => {
    const order = await newOrder();
    await payOrder(deps(scripted({ kind: 'unknown', reason: 'timeout' })), { orderId: order.id, userId });
    let looks = 0;
    const d = deps(succeeding, { hooks: { claimConflict: () => looks++ } });
    const result = await payOrder(d, { orderId: order.id, userId });
    expect(result.outcome).toBe('processing');
    expect(d.clock.t).toBe(DEFAULT_PAY_POLICY.deadlineMs);
    // Backoff, not a hot loop: tens of looks over 10 s of virtual time, not thousands.
    expect(looks).toBeGreaterThan(5);
    expect(looks).toBeLessThan(1000);
  });

  it('an in-flight attempt older than inflightStaleMs answers processing at once', async () => {
    const order = await newOrder();
    await payOrder(deps(scripted({ kind: 'unknown', reason: 'timeout' })), { orderId: order.id, userId });
    await handle.sql`update orders set updated_at = now() - interval '1 hour' where id = ${order.id}`;
    const d = deps(succeeding);
    expect((await payOrder(d, { orderId: order.id, userId })).outcome).toBe('processing');
    expect(d.clock.t).toBe(0);
  });

  it('when a webhook or recovery finalized the claim first with the same PaymentIntent, the payer still says charged', async () => {
    const order = await newOrder();
    const racing = chargeOnly(async (request) => {
      const [attempt] = await handle.sql<{ id: string }[]>`
          select id from payment_attempts where idempotency_key = ${request.idempotencyKey}`;
      await finalizeAttempt(handle.db, {
        orderId: order.id,
        attemptId: attempt!.id,
        claimVersion: 2,
        outcome: { status: 'succeeded', paymentIntentId: 'pi_from_webhook' },
      });
      return { kind: 'succeeded', paymentIntentId: 'pi_from_webhook' };
    });
    const result = await payOrder(deps(racing), { orderId: order.id, userId });
    expect(result).toMatchObject({
      outcome: 'charged',
      paymentIntentId: 'pi_from_webhook',
      order: { status: 'paid' },
    });
  });

  it('finalize is conditional: a second finalize of the same claim changes nothing', async () => {
    const order = await newOrder();
    await payOrder(deps(succeeding), { orderId: order.id, userId });
    const [attempt] = await handle.sql<
      { id: string }[]
    >`select id from payment_attempts where order_id = ${order.id}`;
    const again = await finalizeAttempt(handle.db, {
      orderId: order.id,
      attemptId: attempt!.id,
      claimVersion: 2,
      outcome: { status: 'failed', paymentIntentId: null, errorCode: 'late', declineCode: null },
    });
    expect(again).toBeUndefined();
    const [row] = await handle.sql`select status, version from orders where id = ${order.id}`;
    expect(row).toMatchObject({ status: 'paid', version: 3 });
  });

  it('a canceled order is not payable and nothing is charged', async () => {
    const order = await newOrder();
    await handle.db
      .update(orders)
      .set({ status: 'canceled', version: sql`${orders.version} + 1` })
      .where(eq(orders.id, order.id));
    const before = charges.length;
    await expect(payOrder(deps(succeeding), { orderId: order.id, userId })).rejects.toSatisfy(
      (err) => err instanceof DomainError && err.code === 'ORDER_NOT_PAYABLE',
    );
    expect(charges.length).toBe(before);
  });

  it('an order untouched for months can still be paid (no overflow in the age arithmetic)', async () => {
    const order = await newOrder();
    await handle.sql`update orders set updated_at = now() - interval '400 days' where id = ${order.id}`;
    expect((await payOrder(deps(succeeding), { orderId: order.id, userId })).outcome).toBe('charged');
  });

  it('a provider that refuses our credentials is PROVIDER_UNAVAILABLE, nothing charged, order payable again', async () => {
    const order = await newOrder();
    const { logger, entries } = recordingLogger(['warn', 'error']);
    await expect(
      payOrder(deps(scripted({ kind: 'unavailable', reason: 'authentication_error' }), { logger }), {
        orderId: order.id,
        userId,
      }),
    ).rejects.toSatisfy((err) => err instanceof DomainError && err.code === 'PROVIDER_UNAVAILABLE');
    // An operator's alarm: every payment fails until the key is fixed.
    expect(entries).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'payment provider refused our credentials',
        orderId: order.id,
        reason: 'authentication_error',
      }),
    ]);
    const [row] = await handle.sql`select status from orders where id = ${order.id}`;
    expect(row?.status).toBe('failed');
    expect((await payOrder(deps(succeeding), { orderId: order.id, userId })).outcome).toBe('charged');
  });

  it('a database lost between the charge and its finalize: a charge answers processing, a decline is still a decline', async () => {
    const attemptOf = async (orderId: string) =>
      (await handle.sql`select status from payment_attempts where order_id = ${orderId}`)[0]?.status;

    const charged = await newOrder();
    const lost = losingDatabase(handle.db);
    const charge = chargeOnly(async (request) => {
      lost.state.down = true;
      return { kind: 'succeeded', paymentIntentId: `pi_${request.idempotencyKey}` };
    });
    const { logger, entries } = recordingLogger(['warn', 'error']);
    expect(
      await payOrder(deps(charge, { db: lost.db, logger }), { orderId: charged.id, userId }),
    ).toMatchObject({ outcome: 'processing' });
    expect(await attemptOf(charged.id)).toBe('processing');
    // Recovery's to settle (the charge is real and the attempt unsettled), not reconciliation's.
    expect(entries).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'settling the attempt failed; left for recovery',
        orderId: charged.id,
        attemptId: expect.any(String),
        idempotencyKey: `chargeonce-${charged.id}-v2`,
        status: 'succeeded',
        err: expect.objectContaining({ code: 'CONNECTION_CLOSED' }),
      }),
    ]);

    const declined = await newOrder();
    const lostAgain = losingDatabase(handle.db);
    const decline = chargeOnly(async () => {
      lostAgain.state.down = true;
      return {
        kind: 'declined',
        paymentIntentId: 'pi_lost_decline',
        code: 'card_declined',
        declineCode: 'insufficient_funds',
        message: 'Your card has insufficient funds.',
      };
    });
    await expect(
      payOrder(deps(decline, { db: lostAgain.db }), { orderId: declined.id, userId }),
    ).rejects.toMatchObject({ code: 'PAYMENT_DECLINED' });
    // Left for recovery, which hears the same decline again under the attempt's key.
    expect(await attemptOf(declined.id)).toBe('processing');
  });

  it('a claim settled by someone else while the charge ran: the same charge is still this call’s answer, another is not', async () => {
    /** A charge that succeeds, after `first` settled its attempt (a webhook, or reconciliation). */
    const settledFirst = (
      first: (request: ChargeRequest) => Parameters<typeof finalizeAttempt>[1]['outcome'],
    ) =>
      chargeOnly(async (request) => {
        const attemptId = request.metadata.attempt_id!;
        const orderId = request.metadata.order_id!;
        const claimVersion = Number(request.metadata.claim_version);
        expect(
          await finalizeAttempt(handle.db, { orderId, attemptId, claimVersion, outcome: first(request) }),
        ).toBeDefined();
        return { kind: 'succeeded', paymentIntentId: `pi_${request.idempotencyKey}` };
      });
    const sameCharge = await newOrder();
    const webhookFirst = settledFirst((r) => ({
      status: 'succeeded',
      paymentIntentId: `pi_${r.idempotencyKey}`,
    }));
    expect(await payOrder(deps(webhookFirst), { orderId: sameCharge.id, userId })).toMatchObject({
      outcome: 'charged',
      order: { status: 'paid', paymentIntentId: `pi_chargeonce-${sameCharge.id}-v2` },
    });

    const otherwise = await newOrder();
    const { logger, entries } = recordingLogger(['warn', 'error']);
    const failedFirst = settledFirst((r) => ({
      status: 'failed',
      paymentIntentId: `pi_${r.idempotencyKey}`,
      errorCode: 'card_declined',
      declineCode: 'generic_decline',
    }));
    // The order says failed, the provider charged: not this call's to decide, nor to hide.
    expect(await payOrder(deps(failedFirst, { logger }), { orderId: otherwise.id, userId })).toMatchObject({
      outcome: 'processing',
      order: { status: 'failed' },
    });
    expect(entries).toEqual([
      {
        level: 'error',
        msg: 'charged, but the claim was settled otherwise; left for reconciliation',
        orderId: otherwise.id,
        attemptId: expect.any(String),
        idempotencyKey: `chargeonce-${otherwise.id}-v2`,
        paymentIntentId: `pi_chargeonce-${otherwise.id}-v2`,
        status: 'failed',
      },
    ]);
  });

  it("someone else's order is not found", async () => {
    const order = await newOrder();
    const other = await createUserWithToken(handle.db, { name: 'other' });
    await expect(payOrder(deps(succeeding), { orderId: order.id, userId: other.id })).rejects.toSatisfy(
      (err) => err instanceof DomainError && err.code === 'ORDER_NOT_FOUND',
    );
  });
});
