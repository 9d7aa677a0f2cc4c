import { type DbHandle, paymentAttempts } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { claimOrder } from '../src/claim';
import { leaseRows, renewRowLease } from '../src/lease';
import { createOrder } from '../src/orders';
import { useDatabase } from './support';

/**
 * leaseRows and renewRowLease on real PostgreSQL: how long a lease lasts, and that a worker skips
 * a row another worker holds instead of queueing behind it.
 */
let handle: DbHandle;
let userId: string;
useDatabase('lease', (db) => {
  ({ handle, userId } = db);
});

const a = paymentAttempts;

/** A claimed order's in-flight attempt, and the lease options that make exactly it due. */
async function inFlightAttempt() {
  const order = await createOrder(handle.db, {
    userId,
    amount: 500,
    currency: 'usd',
    paymentMethodId: 'pm_x',
  });
  const { attempt } = await claimOrder(handle.db, {
    orderId: order.id,
    userId,
    claimedBy: 'lease-test',
    declineCooldownMs: 0,
  });
  const id = attempt!.id;
  return { id, options: { due: eq(a.id, id), leaseMs: 90_000, batchSize: 10, since: a.claimedAt } };
}

/** Seconds from the database's now to the attempt's lease_until. */
async function leaseLeftSeconds(id: string): Promise<number> {
  const [row] = await handle.db
    .select({ s: sql<number>`extract(epoch from (${a.leaseUntil} - now()))::float8` })
    .from(a)
    .where(eq(a.id, id));
  return row!.s;
}

describe('leaseRows', () => {
  it('leases a due row for leaseMs and bumps its recovery runs; a leased row is not due again', async () => {
    const { id, options } = await inFlightAttempt();
    const [leased, ...more] = await leaseRows(handle.db, a, options);
    expect(more).toHaveLength(0);
    expect(leased).toMatchObject({ id, recoveryRuns: 1 });
    expect(leased!.ageMs).toBeGreaterThanOrEqual(0);
    const left = await leaseLeftSeconds(id);
    expect(left).toBeGreaterThan(80);
    expect(left).toBeLessThanOrEqual(90);
    expect(await leaseRows(handle.db, a, options)).toHaveLength(0);
  });

  it('skips a row another worker has locked instead of waiting for it', async () => {
    const { id, options } = await inFlightAttempt();
    await handle.db.transaction(async (other) => {
      await other.select({ id: a.id }).from(a).where(eq(a.id, id)).for('update');
      // On its own connection, with a lock timeout: a take that waited for the lock fails here
      // instead of deadlocking with the transaction that holds it.
      const taken = await handle.db.transaction(async (worker) => {
        await worker.execute(sql`set local lock_timeout = '5s'`);
        return leaseRows(worker, a, options);
      });
      expect(taken).toHaveLength(0);
    });
    expect(await leaseRows(handle.db, a, options)).toMatchObject([{ id, recoveryRuns: 1 }]);
  });
});

describe('renewRowLease', () => {
  it('renews the lease for leaseMs while recovery runs have not moved on, and leaves it once they have', async () => {
    const { id, options } = await inFlightAttempt();
    const [leased] = await leaseRows(handle.db, a, { ...options, leaseMs: 1_000 });
    const still = eq(a.status, 'processing');
    const renewed = await renewRowLease(handle.db, a, leased!, {
      still,
      leaseMs: 60_000,
      since: a.claimedAt,
    });
    expect(renewed).toMatchObject({ id, recoveryRuns: 1 });
    const left = await leaseLeftSeconds(id);
    expect(left).toBeGreaterThan(50);
    expect(left).toBeLessThanOrEqual(60);
    const takenOver = { ...leased!, recoveryRuns: leased!.recoveryRuns - 1 };
    expect(await renewRowLease(handle.db, a, takenOver, { still, leaseMs: 60_000, since: a.claimedAt })).toBe(
      undefined,
    );
  });
});
