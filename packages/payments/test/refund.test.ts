import type { DbHandle } from '@chargeonce/db';
import { orders } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { PaymentGateway } from '../src/gateway';
import { createOrder, findOrder, type Order } from '../src/orders';
import { payOrder } from '../src/pay';
import { DEFAULT_RECOVERY_POLICY } from '../src/recover';
import { FULL_REFUND_TRIES, refundOrder } from '../src/refund';
import { runRefundRecovery } from '../src/refund-recover';
import { refundKeyFor, refundsOf, reserveRefund } from '../src/refund-store';
import { aroundStatements, losingDatabase, recordingLogger, refundingProvider, useDatabase } from './support';

/**
 * refundOrder against real PostgreSQL with a scripted provider: the reservation, the provider's
 * answers (success, failure, unknown) and concurrency, counted at the provider.
 */
let handle: DbHandle;
let userId: string;
useDatabase(
  'refund-test',
  (db) => {
    ({ handle, userId } = db);
  },
  { max: 10 },
);

const provider = refundingProvider;

const deps = (gateway: PaymentGateway): PaymentsDeps => ({ db: handle.db, gateway, instanceId: 'unit' });
const requestedBy = () => ({ kind: 'user' as const, id: userId });

async function paidOrder(amount = 1000): Promise<Order> {
  const order = await createOrder(handle.db, {
    userId,
    amount,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  const paid = await payOrder(deps(provider().gateway), { orderId: order.id, userId });
  expect(paid.outcome).toBe('charged');
  return paid.order;
}

describe('refundOrder', () => {
  it('refunds the whole order by default, once, with a key derived from the refund row', async () => {
    const order = await paidOrder();
    const { gateway, requests } = provider();
    const answer = await refundOrder(deps(gateway), {
      orderId: order.id,
      userId,
      requestedBy: requestedBy(),
    });
    expect(answer.outcome).toBe('refunded');
    expect(answer.order).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
    expect(requests).toEqual([
      expect.objectContaining({ amount: 1000, idempotencyKey: refundKeyFor(answer.refund.id) }),
    ]);
    expect(answer.refund).toMatchObject({
      status: 'succeeded',
      stripeRefundId: `re_${refundKeyFor(answer.refund.id)}`,
    });
    await expect(
      refundOrder(deps(gateway), { orderId: order.id, userId, requestedBy: requestedBy() }),
    ).rejects.toMatchObject({ code: 'ORDER_NOT_REFUNDABLE' });
    expect(requests).toHaveLength(1);
  });

  it('partial refunds add up to the amount, and then no more', async () => {
    const order = await paidOrder();
    const { gateway } = provider();
    const first = await refundOrder(deps(gateway), {
      orderId: order.id,
      userId,
      amount: 300,
      requestedBy: requestedBy(),
    });
    expect(first.order).toMatchObject({ status: 'partially_refunded', refundedAmount: 300 });
    await expect(
      refundOrder(deps(gateway), { orderId: order.id, userId, amount: 701, requestedBy: requestedBy() }),
    ).rejects.toMatchObject({
      code: 'REFUND_EXCEEDS_REFUNDABLE',
      details: { requested: 701, refundable: 700 },
    });
    const rest = await refundOrder(deps(gateway), { orderId: order.id, userId, requestedBy: requestedBy() });
    expect(rest.refund.amount).toBe(700);
    expect(rest.order).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
  });

  it('100 concurrent tenth refunds: exactly 10 reach the provider, the order is refunded once over', async () => {
    const order = await paidOrder();
    const { gateway, requests } = provider();
    const results = await Promise.allSettled(
      Array.from({ length: 100 }, () =>
        refundOrder(deps(gateway), { orderId: order.id, userId, amount: 100, requestedBy: requestedBy() }),
      ),
    );
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(10);
    const refused = results.flatMap((r) =>
      r.status === 'rejected' ? [(r.reason as { code: string }).code] : [],
    );
    expect(new Set(refused)).toEqual(new Set(['ORDER_NOT_REFUNDABLE']));
    expect(requests).toHaveLength(10);
    expect(await findOrder(handle.db, order.id)).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
  });

  it('companion: check-then-refund without the reservation refunds more than was charged', async () => {
    const order = await paidOrder();
    const { gateway, requests } = provider(async (r) => {
      await new Promise((resolve) => setImmediate(resolve));
      return { kind: 'succeeded', refundId: `re_${r.idempotencyKey}` };
    });
    // What a naive service does: read what is left, refund at the provider, then record it.
    const naive = async () => {
      const now = await findOrder(handle.db, order.id);
      if (!now || now.amount - now.refundedAmount < 500) return;
      await gateway.refund({
        paymentIntentId: 'pi',
        amount: 500,
        reason: null,
        idempotencyKey: crypto.randomUUID(),
        metadata: {},
      });
    };
    await Promise.all(Array.from({ length: 10 }, naive));
    expect(requests.length).toBeGreaterThan(2);
  });

  it('a failed refund gives its reservation back and says so; nothing stays pending', async () => {
    const order = await paidOrder();
    const { gateway } = provider((r) => ({
      kind: 'failed',
      refundId: `re_${r.idempotencyKey}`,
      reason: 'expired_or_canceled_card',
    }));
    await expect(
      refundOrder(deps(gateway), { orderId: order.id, userId, amount: 400, requestedBy: requestedBy() }),
    ).rejects.toMatchObject({ code: 'REFUND_FAILED', details: { reason: 'expired_or_canceled_card' } });
    expect(await findOrder(handle.db, order.id)).toMatchObject({ status: 'paid', refundedAmount: 0 });
    expect((await refundsOf(handle.db, order.id)).map((r) => r.status)).toEqual(['failed']);
  });

  it('a request the provider rejects (nothing executed) fails with its code and message; the reservation is given back', async () => {
    const order = await paidOrder();
    const { gateway } = provider(() => ({
      kind: 'rejected',
      code: 'charge_disputed',
      message: 'This charge has been disputed.',
    }));
    await expect(
      refundOrder(deps(gateway), { orderId: order.id, userId, amount: 400, requestedBy: requestedBy() }),
    ).rejects.toMatchObject({
      code: 'REFUND_FAILED',
      details: { reason: 'charge_disputed', providerMessage: 'This charge has been disputed.' },
    });
    expect(await findOrder(handle.db, order.id)).toMatchObject({ status: 'paid', refundedAmount: 0 });
    expect(await refundsOf(handle.db, order.id)).toMatchObject([{ status: 'failed', stripeRefundId: null }]);
  });

  it('the database lost after the provider answered: pending, as reserved (recovery settles it), never a 500', async () => {
    const order = await paidOrder();
    const { db, state } = losingDatabase(handle.db);
    const { gateway } = provider((r) => {
      state.down = true;
      return { kind: 'succeeded', refundId: `re_${r.idempotencyKey}` };
    });
    const { logger, entries } = recordingLogger(['warn', 'error']);
    const answer = await refundOrder(
      { ...deps(gateway), db, logger },
      { orderId: order.id, userId, amount: 400, requestedBy: requestedBy() },
    );
    expect(answer).toMatchObject({
      outcome: 'pending',
      order: { id: order.id, refundedAmount: 400 },
      refund: { status: 'pending' },
    });
    expect(entries).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'settling the refund failed; left for recovery',
        orderId: order.id,
        refundId: answer.refund.id,
        status: 'succeeded',
        err: expect.objectContaining({ code: 'CONNECTION_CLOSED' }),
      }),
    ]);
    expect(await refundsOf(handle.db, order.id)).toMatchObject([{ status: 'pending', amount: 400 }]);
    // Back: recovery repeats the create with the refund's key (Stripe replays it) and settles it.
    state.down = false;
    const report = await runRefundRecovery(deps(gateway), { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 });
    expect(report.results.succeeded).toBeGreaterThanOrEqual(1);
    expect(await refundsOf(handle.db, order.id)).toMatchObject([{ status: 'succeeded', amount: 400 }]);
    expect(await findOrder(handle.db, order.id)).toMatchObject({ refundedAmount: 400 });
  });

  it('a refused request (credentials) is PROVIDER_UNAVAILABLE and reserves nothing', async () => {
    const order = await paidOrder();
    const { gateway } = provider(() => ({ kind: 'unavailable', reason: 'authentication_error' }));
    await expect(
      refundOrder(deps(gateway), { orderId: order.id, userId, requestedBy: requestedBy() }),
    ).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    expect(await findOrder(handle.db, order.id)).toMatchObject({ status: 'paid', refundedAmount: 0 });
  });

  it('an unknown outcome keeps the reservation and the refund pending, never a failure', async () => {
    const order = await paidOrder();
    const { gateway } = provider(() => ({ kind: 'unknown', reason: 'timeout' }));
    const { logger, entries } = recordingLogger();
    const answer = await refundOrder(
      { ...deps(gateway), logger },
      { orderId: order.id, userId, requestedBy: requestedBy() },
    );
    expect(answer).toMatchObject({ outcome: 'pending', refund: { status: 'pending' } });
    const names = {
      orderId: order.id,
      refundId: answer.refund.id,
      idempotencyKey: refundKeyFor(answer.refund.id),
    };
    expect(entries).toEqual([
      { level: 'info', msg: 'stripe refunds.create', ...names },
      { level: 'warn', msg: 'refund outcome unknown; left pending', ...names, reason: 'timeout' },
    ]);
    expect(await findOrder(handle.db, order.id)).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
  });

  it('refuses an order that is not paid, another user’s order, and changes nothing', async () => {
    const order = await createOrder(handle.db, {
      userId,
      amount: 1000,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    const { gateway, requests } = provider();
    await expect(
      refundOrder(deps(gateway), { orderId: order.id, userId, requestedBy: requestedBy() }),
    ).rejects.toMatchObject({ code: 'ORDER_NOT_REFUNDABLE', details: { status: 'pending' } });
    await expect(
      refundOrder(deps(gateway), {
        orderId: order.id,
        userId: crypto.randomUUID(),
        requestedBy: requestedBy(),
      }),
    ).rejects.toMatchObject({ code: 'ORDER_NOT_FOUND' });
    expect(requests).toHaveLength(0);
    const [row] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    expect(row).toMatchObject({ status: 'pending', refundedAmount: 0, version: order.version });
    expect(await refundsOf(handle.db, order.id)).toEqual([]);
  });

  it('the database refuses a refunded amount above the charge, whatever the code does', async () => {
    const order = await paidOrder();
    await expect(
      handle.db.execute(sql`update orders set refunded_amount = amount + 1 where id = ${order.id}`),
    ).rejects.toThrow();
  });
});

/**
 * A full refund reads what is left and reserves it in one statement; a partial refund that holds the
 * order's row when that statement reaches it commits first, and the statement, re-checking the row
 * as it now is, reserves nothing (what it read is no longer left). These put such a partial refund
 * (one cent, from another connection) into the window of each of the first `times` reservations of
 * the code under test; they count the races (a reservation seen waiting on the partial refund's
 * row) and the statements with common table expressions the code ran (a reservation each, and the
 * settle of a refund sent).
 */
function racedByPartialRefunds(orderId: string, times: number) {
  let statements = 0;
  let races = 0;
  let commit: Promise<void> = Promise.resolve();
  const db = aroundStatements(handle.db, 'with', {
    async before() {
      statements++;
      if (statements > times) return;
      let holding!: (pid: number) => void;
      const held = new Promise<number>((resolve) => {
        holding = resolve;
      });
      let release!: () => void;
      const released = new Promise<void>((resolve) => {
        release = resolve;
      });
      const tx = handle.db.transaction(async (t) => {
        const [backend] = await t.execute<{ pid: number }>(sql`select pg_backend_pid() as pid`);
        const { refund } = await reserveRefund(t, {
          refundId: crypto.randomUUID(),
          orderId,
          userId,
          amount: 1,
          reason: null,
          requestedBy: requestedBy(),
          idempotencyKeyId: null,
        });
        if (!refund || !backend) throw new Error('the partial refund reserved nothing');
        holding(backend.pid);
        await released;
      });
      const pid = await Promise.race([
        held,
        tx.then(() => {
          throw new Error('the partial refund ended before it held the row');
        }),
      ]);
      // Commit once the statement about to run waits for the row this transaction holds.
      commit = (async () => {
        try {
          await waitForLockWaitOn(pid);
          races++;
        } finally {
          release();
          await tx;
        }
      })();
    },
    after: () => commit,
  });
  return { db, statements: () => statements, races: () => races };
}

/** Until a statement waits on a lock that backend `pid` holds (10 s at most: then it never did). */
async function waitForLockWaitOn(pid: number): Promise<void> {
  const deadline = Date.now() + 10_000;
  for (;;) {
    const rows = await handle.db.execute(
      sql`select 1 from pg_stat_activity
           where wait_event_type = 'Lock' and ${pid}::int = any(pg_blocking_pids(pid))`,
    );
    if (rows.length > 0) return;
    if (Date.now() > deadline) throw new Error('the reservation never waited on the partial refund');
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

describe('refundOrder: a full refund racing partial ones', () => {
  it('re-reads what is left and reserves it, when a partial refund reserved first', async () => {
    const order = await paidOrder();
    const { gateway, requests } = provider();
    const raced = racedByPartialRefunds(order.id, 1);
    const answer = await refundOrder(
      { ...deps(gateway), db: raced.db },
      { orderId: order.id, userId, requestedBy: requestedBy() },
    );
    expect(raced.races()).toBe(1);
    expect(answer.refund.amount).toBe(999);
    expect(requests.map((r) => r.amount)).toEqual([999]);
    expect(answer.order).toMatchObject({ status: 'refunded', refundedAmount: 1000 });
    expect((await refundsOf(handle.db, order.id)).map((r) => r.amount).sort()).toEqual([1, 999]);
  });

  it(`gives up after ${FULL_REFUND_TRIES} reservations that each lost to a partial refund, and says what is left`, async () => {
    const order = await paidOrder();
    const { gateway, requests } = provider();
    const raced = racedByPartialRefunds(order.id, Number.POSITIVE_INFINITY);
    await expect(
      refundOrder(
        { ...deps(gateway), db: raced.db },
        { orderId: order.id, userId, requestedBy: requestedBy() },
      ),
    ).rejects.toMatchObject({
      code: 'REFUND_EXCEEDS_REFUNDABLE',
      details: { refundable: 1000 - FULL_REFUND_TRIES },
    });
    expect(raced.races()).toBe(FULL_REFUND_TRIES);
    expect(raced.statements()).toBe(FULL_REFUND_TRIES);
    expect(requests).toEqual([]);
  });

  it('a partial refund that lost the race to another is refused, not retried', async () => {
    const order = await paidOrder();
    const { gateway, requests } = provider();
    const raced = racedByPartialRefunds(order.id, 1);
    await expect(
      refundOrder(
        { ...deps(gateway), db: raced.db },
        { orderId: order.id, userId, amount: 1000, requestedBy: requestedBy() },
      ),
    ).rejects.toMatchObject({
      code: 'REFUND_EXCEEDS_REFUNDABLE',
      details: { requested: 1000, refundable: 999 },
    });
    expect(raced.races()).toBe(1);
    expect(raced.statements()).toBe(1);
    expect(requests).toEqual([]);
  });
});
