import { type Database, type DbHandle, type Executor, paymentAttempts } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { claimOrder } from '../src/claim';
import type { PaymentsDeps } from '../src/deps';
import type { ChargeRequest, ChargeResult, FindOptions, LookupResult, PaymentGateway } from '../src/gateway';
import { recoverOne } from '../src/operations';
import { createOrder, findOrder } from '../src/orders';
import {
  DEFAULT_RECOVERY_POLICY,
  type LeasedAttempt,
  leaseStaleAttempts,
  type RecoveryPolicy,
  recoverAttempt,
} from '../src/recover';
import { finalizeAttempt } from '../src/settle';
import { recordingLogger, unusedRefundsAndCaptures, useDatabase } from './support';

/**
 * The attempt half of recovery on real PostgreSQL, with a scripted provider: which attempts a
 * worker leases (past the grace period; an open challenge only past its timeout too; never one
 * another worker holds), where an open challenge's timeout and the key window begin (to the
 * millisecond, on a database clock held still by one transaction), what recovery asks the provider
 * on either side of them, and what it tells operators when the answer is still unknown.
 */
let handle: DbHandle;
let userId: string;
useDatabase('recover-test', (db) => {
  ({ handle, userId } = db);
});

const a = paymentAttempts;
const POLICY: RecoveryPolicy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 };

/** A claimed order's attempt, in flight (`processing`) or awaiting the customer's challenge. */
async function attemptIn(state: 'processing' | 'requires_action') {
  const order = await createOrder(handle.db, {
    userId,
    amount: 900,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  const { attempt } = await claimOrder(handle.db, {
    orderId: order.id,
    userId,
    claimedBy: 'recover-test',
    declineCooldownMs: 0,
  });
  const key = { orderId: order.id, attemptId: attempt!.id, claimVersion: attempt!.claimVersion };
  const paymentIntentId = `pi_challenged_${attempt!.id}`;
  if (state === 'requires_action') {
    const outcome = { status: state, paymentIntentId, actionUrl: 'https://bank.example/3ds' } as const;
    expect(await finalizeAttempt(handle.db, { ...key, outcome })).toMatchObject({ status: state });
  }
  return { ...key, idempotencyKey: attempt!.idempotencyKey, paymentIntentId };
}

/** Moves an attempt's claim `ageMs` into the past of `db`'s clock. */
async function setAge(db: Executor, attemptId: string, ageMs: number) {
  await db
    .update(a)
    .set({ claimedAt: sql`now() - make_interval(secs => ${ageMs / 1000})` })
    .where(eq(a.id, attemptId));
}

/**
 * Runs `body` in one transaction, handed over as the database: now() is the same in every statement
 * of it, so an attempt's age as recovery computes it is exactly what `setAge` made it.
 */
function atOneInstant<T>(body: (db: Database) => Promise<T>): Promise<T> {
  return handle.db.transaction((tx) => body(tx as unknown as Database));
}

async function leased(
  db: Executor,
  attemptId: string,
  policy: RecoveryPolicy,
): Promise<LeasedAttempt | undefined> {
  return (await leaseStaleAttempts(db, policy)).find((l) => l.id === attemptId);
}

type Scripted = {
  charge?: (r: ChargeRequest) => ChargeResult;
  retrieve?: (paymentIntentId: string) => ChargeResult;
  findByAttempt?: (attemptId: string, options?: FindOptions) => LookupResult;
  cancel?: PaymentGateway['cancel'];
};

/** A provider answering only what a test scripts (anything else must not be called), recording each call. */
function provider(script: Scripted) {
  const calls: { call: string; args: unknown[] }[] = [];
  const answer =
    <A extends unknown[], R>(call: string, f: ((...args: A) => R) | undefined) =>
    async (...args: A): Promise<Awaited<R>> => {
      calls.push({ call, args });
      if (!f) throw new Error(`${call} must not be called`);
      return await f(...args);
    };
  const gateway: PaymentGateway = {
    ...unusedRefundsAndCaptures,
    listPaymentIntents: () => {
      throw new Error('listPaymentIntents must not be called');
    },
    charge: answer('charge', script.charge),
    retrieve: answer('retrieve', script.retrieve),
    findByAttempt: answer('findByAttempt', script.findByAttempt),
    cancel: answer('cancel', script.cancel),
  };
  return { gateway, calls };
}

const depsOf = (db: Database, gateway: PaymentGateway, logger = recordingLogger().logger): PaymentsDeps => ({
  db,
  gateway,
  instanceId: 'recover-test',
  logger,
});

const attemptRow = async (db: Executor, attemptId: string) =>
  (await db.select().from(a).where(eq(a.id, attemptId)))[0]!;

describe('leaseStaleAttempts', () => {
  it('leases an attempt in flight longer than the grace period, and not one younger', async () => {
    const old = await attemptIn('processing');
    const young = await attemptIn('processing');
    await setAge(handle.db, old.attemptId, 90_000);
    await setAge(handle.db, young.attemptId, 30_000);
    const policy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 60_000 };
    const batch = await leaseStaleAttempts(handle.db, policy);
    expect(batch.find((l) => l.id === old.attemptId)).toMatchObject({
      status: 'processing',
      recoveryRuns: 1,
    });
    expect(batch.find((l) => l.id === old.attemptId)!.ageMs).toBeGreaterThanOrEqual(90_000);
    expect(batch.map((l) => l.id)).not.toContain(young.attemptId);
  });

  it('leases an open challenge only once it is older than both its challenge timeout and the grace period', async () => {
    const abandoned = await attemptIn('requires_action');
    const open = await attemptIn('requires_action');
    await setAge(handle.db, abandoned.attemptId, 90_000);
    await setAge(handle.db, open.attemptId, 45_000);
    // Past the grace period but not the challenge timeout: still the customer's.
    const challengeLonger = { ...DEFAULT_RECOVERY_POLICY, challengeTimeoutMs: 60_000, graceMs: 30_000 };
    const batch = await leaseStaleAttempts(handle.db, challengeLonger);
    expect(batch.find((l) => l.id === abandoned.attemptId)).toMatchObject({
      status: 'requires_action',
      recoveryRuns: 1,
    });
    expect(batch.map((l) => l.id)).not.toContain(open.attemptId);
    // Past the challenge timeout but not the grace period: the longer of the two counts.
    const graceLonger = { ...DEFAULT_RECOVERY_POLICY, challengeTimeoutMs: 30_000, graceMs: 60_000 };
    expect((await leaseStaleAttempts(handle.db, graceLonger)).map((l) => l.id)).not.toContain(open.attemptId);
  });

  it('skips an attempt another worker has locked instead of waiting for it', async () => {
    const key = await attemptIn('processing');
    await setAge(handle.db, key.attemptId, 1_000);
    await handle.db.transaction(async (other) => {
      await other.select({ id: a.id }).from(a).where(eq(a.id, key.attemptId)).for('update');
      // On its own connection, with a lock timeout: a take that waited for the lock fails here
      // instead of deadlocking with the transaction that holds it.
      const taken = await handle.db.transaction(async (worker) => {
        await worker.execute(sql`set local lock_timeout = '5s'`);
        return leaseStaleAttempts(worker, POLICY);
      });
      expect(taken.map((l) => l.id)).not.toContain(key.attemptId);
    });
    expect(await leased(handle.db, key.attemptId, POLICY)).toMatchObject({ recoveryRuns: 1 });
  });
});

describe('recovery of an open challenge', () => {
  const challenged = (paymentIntentId: string): ChargeResult => ({
    kind: 'requires_action',
    paymentIntentId,
    redirectUrl: 'https://bank.example/3ds',
  });

  it("an operator's recover of a challenge younger than its timeout re-reads it and leaves it to the customer", async () => {
    const key = await attemptIn('requires_action');
    const { gateway, calls } = provider({ retrieve: challenged });
    const answer = await recoverOne(depsOf(handle.db, gateway), DEFAULT_RECOVERY_POLICY, {
      kind: 'attempt',
      id: key.attemptId,
    });
    expect(answer).toMatchObject({ outcome: 'requires_action', status: 'requires_action' });
    expect(calls).toEqual([{ call: 'retrieve', args: [key.paymentIntentId] }]);
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'requires_action' });
  });

  it('is canceled, keyed by the attempt’s key and "-abandon", from exactly its timeout; a millisecond younger it is not', async () => {
    const key = await attemptIn('requires_action');
    const policy = { ...DEFAULT_RECOVERY_POLICY, challengeTimeoutMs: 60_000 };
    const { gateway, calls } = provider({
      retrieve: challenged,
      cancel: async (r) => ({ kind: 'canceled', paymentIntentId: r.paymentIntentId, reason: 'abandoned' }),
    });
    const target = { kind: 'attempt', id: key.attemptId } as const;
    await atOneInstant(async (db) => {
      await setAge(db, key.attemptId, 59_999);
      expect(await recoverOne(depsOf(db, gateway), policy, target)).toMatchObject({
        outcome: 'requires_action',
      });
      expect(calls.map((c) => c.call)).toEqual(['retrieve']);

      await setAge(db, key.attemptId, 60_000);
      expect(await recoverOne(depsOf(db, gateway), policy, target)).toMatchObject({
        outcome: 'failed',
        status: 'failed',
      });
    });
    expect(calls).toEqual([
      { call: 'retrieve', args: [key.paymentIntentId] },
      { call: 'retrieve', args: [key.paymentIntentId] },
      {
        call: 'cancel',
        args: [
          {
            paymentIntentId: key.paymentIntentId,
            idempotencyKey: `${key.idempotencyKey}-abandon`,
            reason: 'abandoned',
          },
        ],
      },
    ]);
    expect(await attemptRow(handle.db, key.attemptId)).toMatchObject({
      status: 'failed',
      errorCode: 'canceled_abandoned',
    });
  });
});

describe('recovery of an attempt whose outcome was lost', () => {
  it('within the key window repeats the create; from exactly its end only looks up, consistently from ten minutes before the claim', async () => {
    const key = await attemptIn('processing');
    const policy = { ...POLICY, keyWindowMs: 60_000 };
    const paymentIntentId = `pi_found_${key.attemptId}`;
    const { gateway, calls } = provider({
      charge: () => ({ kind: 'unknown', reason: 'timeout' }),
      // Search lags: the lookup after the repeat finds nothing; the consistent one finds it.
      findByAttempt: (_id, options) =>
        options ? { kind: 'succeeded', paymentIntentId, amountReceived: 900 } : { kind: 'not_found' },
    });
    const { logger, entries } = recordingLogger();
    const { claimedAt } = await atOneInstant(async (db) => {
      await setAge(db, key.attemptId, 59_999);
      const lease = (await leased(db, key.attemptId, policy))!;
      expect(await recoverAttempt(depsOf(db, gateway, logger), lease, policy)).toBe('unknown');
      await setAge(db, key.attemptId, 60_000);
      expect(await recoverAttempt(depsOf(db, gateway, logger), lease, policy)).toBe('succeeded');
      return attemptRow(db, key.attemptId);
    });
    expect(calls.map((c) => c.call)).toEqual(['charge', 'findByAttempt', 'findByAttempt']);
    expect(calls[0]!.args[0]).toMatchObject({ idempotencyKey: key.idempotencyKey });
    expect(calls[1]!.args).toEqual([key.attemptId]);
    expect(calls[2]!.args).toEqual([
      key.attemptId,
      { consistentSince: new Date(claimedAt.getTime() - 10 * 60_000) },
    ]);
    const names = { orderId: key.orderId, attemptId: key.attemptId, idempotencyKey: key.idempotencyKey };
    expect(entries).toEqual([
      { level: 'info', msg: 'recovering attempt', ...names, withinKeyWindow: true },
      { level: 'warn', msg: 'attempt still unknown', ...names, reason: 'timeout' },
      { level: 'info', msg: 'recovering attempt', ...names, withinKeyWindow: false },
      { level: 'info', msg: 'attempt recovered', ...names, status: 'succeeded' },
    ]);
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'paid', paymentIntentId });
  });

  it('whose repeat is refused for our credentials stays in flight, logged as still unknown', async () => {
    const key = await attemptIn('processing');
    const { gateway, calls } = provider({
      charge: () => ({ kind: 'unavailable', reason: 'StripeAuthenticationError' }),
    });
    const { logger, entries } = recordingLogger(['warn']);
    const lease = (await leased(handle.db, key.attemptId, POLICY))!;
    // The first request with the key may have executed: a refusal of this one says nothing about it.
    expect(await recoverAttempt(depsOf(handle.db, gateway, logger), lease, POLICY)).toBe('unknown');
    expect(calls.map((c) => c.call)).toEqual(['charge']);
    expect(entries).toEqual([
      {
        level: 'warn',
        msg: 'attempt still unknown',
        orderId: key.orderId,
        attemptId: key.attemptId,
        idempotencyKey: key.idempotencyKey,
        reason: 'unavailable',
      },
    ]);
    expect(await attemptRow(handle.db, key.attemptId)).toMatchObject({
      status: 'processing',
      errorCode: null,
    });
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'processing' });
  });
});
