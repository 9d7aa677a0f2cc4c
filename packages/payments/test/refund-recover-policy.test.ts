import { type Database, type DbHandle, IN_FLIGHT_REFUND_STATUSES, refunds, statusIn } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import type { PaymentsDeps } from '../src/deps';
import type { PaymentGateway, ProviderRefund, RefundResult } from '../src/gateway';
import { createOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { DEFAULT_RECOVERY_POLICY, type RecoveryPolicy } from '../src/recover';
import { refundOrder } from '../src/refund';
import {
  type LeasedRefund,
  leasePendingRefunds,
  recoverRefund,
  summarizePendingRefunds,
} from '../src/refund-recover';
import { findRefund, type Refund } from '../src/refund-store';
import { refundReads as reads, recordingLogger, refundingProvider, useDatabase } from './support';

/**
 * Refund recovery held to its policy on real PostgreSQL: which pending refunds a pass takes (past
 * the grace period, skipping one another worker holds) and for how long it leases them; where the
 * key window ends; that only our own refund in the provider's list settles ours; what it logs for
 * operators; and the pending-refund summary.
 */
let handle: DbHandle;
let userId: string;
useDatabase('refund-recover-policy-test', (db) => {
  ({ handle, userId } = db);
});

const POLICY: RecoveryPolicy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 60_000, leaseMs: 90_000 };

const deps = (gateway: PaymentGateway, over: Partial<PaymentsDeps> = {}): PaymentsDeps => ({
  db: handle.db,
  gateway,
  instanceId: 'unit',
  ...over,
});

/** A paid order of 1000 with a refund of 400 whose first answer was lost (left pending, no id). */
async function pendingRefund(): Promise<Refund> {
  const order = await createOrder(handle.db, {
    userId,
    amount: 1000,
    currency: 'usd',
    paymentMethodId: 'pm_x',
  });
  await payOrder(deps(refundingProvider().gateway), { orderId: order.id, userId });
  const answer = await refundOrder(
    deps(reads({ refund: async () => ({ kind: 'unknown', reason: 'timeout' }) })),
    {
      orderId: order.id,
      userId,
      amount: 400,
      requestedBy: { kind: 'user', id: userId },
    },
  );
  expect(answer).toMatchObject({ outcome: 'pending', refund: { status: 'pending', stripeRefundId: null } });
  return answer.refund;
}

/** Moves the refund's last change `seconds` into the past (database clock). */
async function lastChangedAgo(refund: Refund, seconds: number) {
  await handle.sql`update refunds set updated_at = now() - make_interval(secs => ${seconds}) where id = ${refund.id}`;
}

/**
 * The refund as recovery hands it over without leasing every other pending refund of this file:
 * `recoverRefund` renews the lease itself (same recovery runs) and re-reads the age from the row.
 */
const handedOver = (refund: Refund): LeasedRefund => ({ ...refund, ageMs: 0 });

async function leaseLeftSeconds(refund: Refund): Promise<number> {
  const [row] = await handle.sql<{ s: number }[]>`
    select extract(epoch from (lease_until - now()))::float8 as s from refunds where id = ${refund.id}`;
  return row!.s;
}

describe('a recovery pass', () => {
  it('takes a pending refund only once it has not changed for graceMs, and leases it for leaseMs', async () => {
    const refund = await pendingRefund();
    const taken = async () => (await leasePendingRefunds(handle.db, POLICY)).some((r) => r.id === refund.id);
    expect(await taken()).toBe(false);
    await lastChangedAgo(refund, 30);
    expect(await taken()).toBe(false);
    await lastChangedAgo(refund, 120);
    expect(await taken()).toBe(true);
    const left = await leaseLeftSeconds(refund);
    expect(left).toBeGreaterThan(80);
    expect(left).toBeLessThanOrEqual(90);
    // Leased: not taken again while the lease lasts.
    expect(await taken()).toBe(false);
  });

  it('skips a pending refund another worker has locked instead of waiting for it', async () => {
    const refund = await pendingRefund();
    await lastChangedAgo(refund, 120);
    await handle.db.transaction(async (other) => {
      await other.select({ id: refunds.id }).from(refunds).where(eq(refunds.id, refund.id)).for('update');
      // On its own connection, with a lock timeout: a take that waited for the lock fails here
      // instead of deadlocking with the transaction that holds it.
      const taken = await handle.db.transaction(async (worker) => {
        await worker.execute(sql`set local lock_timeout = '5s'`);
        return leasePendingRefunds(worker, POLICY);
      });
      expect(taken.map((r) => r.id)).not.toContain(refund.id);
    });
    expect((await leasePendingRefunds(handle.db, POLICY)).map((r) => r.id)).toContain(refund.id);
  });
});

describe('recovering a pending refund with no provider id', () => {
  it('at exactly keyWindowMs old is past the window: listed, never repeated, and logged so', async () => {
    const refund = await pendingRefund();
    const { logger, entries } = recordingLogger(['info']);
    const gateway = reads({
      refund: async () => ({ kind: 'succeeded', refundId: 're_repeated' }),
      listRefunds: async () => [],
    });
    // In one transaction now() does not move, so the age read here is the age recovery reads.
    const result = await handle.db.transaction(async (tx) => {
      const [row] = await tx
        .select({ ageMs: sql<number>`(extract(epoch from (now() - ${refunds.createdAt})) * 1000)::float8` })
        .from(refunds)
        .where(eq(refunds.id, refund.id));
      const atWindow = { ...POLICY, keyWindowMs: row!.ageMs };
      const inTx = deps(gateway, { db: tx as unknown as Database, logger });
      return recoverRefund(inTx, handedOver(refund), atWindow);
    });
    expect(result).toBe('failed');
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({
      status: 'failed',
      errorCode: 'abandoned',
      stripeRefundId: null,
    });
    expect(entries[0]).toMatchObject({
      msg: 'recovering refund',
      refundId: refund.id,
      withinKeyWindow: false,
    });
  });

  it('past the window is settled only by a listed refund whose metadata names it, not by another', async () => {
    const refund = await pendingRefund();
    const foreign: ProviderRefund = {
      id: 're_foreign',
      status: 'succeeded',
      amount: refund.amount,
      failureReason: null,
      metadata: { refund_id: '00000000-0000-4000-8000-000000000000' },
    };
    const pastWindow = { ...POLICY, keyWindowMs: 0 };
    const gateway = reads({ listRefunds: async () => [foreign] });
    expect(await recoverRefund(deps(gateway), handedOver(refund), pastWindow)).toBe('failed');
    expect(await findRefund(handle.db, { id: refund.id })).toMatchObject({
      status: 'failed',
      errorCode: 'abandoned',
      stripeRefundId: null,
    });
  });

  it('logs the refund it recovers, within the window, and the status it settled', async () => {
    const refund = await pendingRefund();
    const { logger, entries } = recordingLogger();
    const repeated: RefundResult = { kind: 'succeeded', refundId: 're_repeated_ok' };
    const gateway = reads({ refund: async () => repeated });
    expect(await recoverRefund(deps(gateway, { logger }), handedOver(refund), POLICY)).toBe('succeeded');
    const named = { orderId: refund.orderId, refundId: refund.id, idempotencyKey: refund.idempotencyKey };
    expect(entries).toEqual([
      { level: 'info', msg: 'recovering refund', ...named, withinKeyWindow: true },
      { level: 'info', msg: 'refund recovered', ...named, status: 'succeeded' },
    ]);
  });
});

describe('summarizePendingRefunds', () => {
  it('counts the pending refunds and gives the oldest one’s age in seconds', async () => {
    const refund = await pendingRefund();
    await handle.sql`update refunds set created_at = now() - interval '120 seconds' where id = ${refund.id}`;
    const summary = await summarizePendingRefunds(handle.db);
    const [pending] = await handle.db
      .select({ n: sql<number>`count(*)::int` })
      .from(refunds)
      .where(statusIn(refunds.status, IN_FLIGHT_REFUND_STATUSES));
    expect(pending!.n).toBeGreaterThanOrEqual(1);
    expect(summary.count).toBe(pending!.n);
    expect(summary.oldestAgeSeconds).toBeGreaterThanOrEqual(120);
  });
});
