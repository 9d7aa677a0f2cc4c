import { type DbHandle, SETTLE } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import { REFRESH_MEMORY, refreshChallenge, rememberedRefreshes, takeRefreshTurn } from '../src/challenge';
import { claimOrder } from '../src/claim';
import type { ChargeResult, PaymentGateway } from '../src/gateway';
import { createOrder, findOrder } from '../src/orders';
import { DEFAULT_RECOVERY_POLICY, leaseStaleAttempts, recoverAttempt, runRecovery } from '../src/recover';
import { type AttemptOutcome, finalizeAttempt } from '../src/settle';
import { applyPaymentIntentEvent } from '../src/webhook';
import { recordingLogger, unusedRefundsAndCaptures, useDatabase } from './support';

/**
 * Every settle move the state machine declares, run on real PostgreSQL from every state it may
 * start in: no in-flight state is a dead end. And the paths that settle an attempt awaiting the
 * customer (requires_action): recovery and webhooks.
 */
let handle: DbHandle;
let userId: string;
useDatabase('settle', (db) => {
  ({ handle, userId } = db);
});

let pis = 0;
const outcomeFor = (status: AttemptOutcome['status']): AttemptOutcome => {
  const paymentIntentId = `pi_settle_${++pis}_${Date.now()}`;
  switch (status) {
    case 'failed':
      return { status, paymentIntentId, errorCode: 'card_declined', declineCode: 'generic_decline' };
    case 'requires_action':
      return { status, paymentIntentId, actionUrl: 'https://bank.example/challenge' };
    default:
      return { status, paymentIntentId };
  }
};

/** A claimed order whose attempt is in `from` (moved there by the product's own statements). */
async function attemptIn(from: 'processing' | 'requires_action') {
  const order = await createOrder(handle.db, {
    userId,
    amount: 700,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  const { attempt } = await claimOrder(handle.db, {
    orderId: order.id,
    userId,
    claimedBy: 'test',
    declineCooldownMs: 0,
  });
  const key = { orderId: order.id, attemptId: attempt!.id, claimVersion: attempt!.claimVersion };
  if (from === 'requires_action') {
    expect(
      await finalizeAttempt(handle.db, { ...key, outcome: outcomeFor('requires_action') }),
    ).toMatchObject({
      status: 'requires_action',
      version: 3,
    });
  }
  return key;
}

describe('every settle move, from every state it may start in', () => {
  const cases = Object.entries(SETTLE).flatMap(([outcome, move]) =>
    move.attempt.from.map((from) => [from, outcome] as const),
  );
  it.each(cases)('%s -> %s moves the order and the attempt once', async (from, outcome) => {
    const key = await attemptIn(from);
    const settled = await finalizeAttempt(handle.db, { ...key, outcome: outcomeFor(outcome as never) });
    const move = SETTLE[outcome as keyof typeof SETTLE];
    expect(settled).toMatchObject({ status: move.order.to });
    const [attempt] = await handle.sql`select status from payment_attempts where id = ${key.attemptId}`;
    expect(attempt?.status).toBe(move.attempt.to);
    // The same settle again (a late webhook, a racing worker) changes nothing.
    const version = settled!.version;
    expect(
      await finalizeAttempt(handle.db, { ...key, outcome: outcomeFor(outcome as never) }),
    ).toBeUndefined();
    expect((await findOrder(handle.db, key.orderId))?.version).toBe(version);
  });
});

/** A provider that says every PaymentIntent it is asked about has succeeded. */
const succeededProvider = (): PaymentGateway & { charges: number } => {
  const gateway = {
    ...unusedRefundsAndCaptures,
    charges: 0,
    charge: async () => {
      gateway.charges++;
      return { kind: 'succeeded' as const, paymentIntentId: 'pi_unexpected_charge' };
    },
    retrieve: async (paymentIntentId: string) => ({ kind: 'succeeded' as const, paymentIntentId }),
    findByAttempt: () => Promise.reject(new Error('not used')),
    listPaymentIntents: () => {
      throw new Error('not used');
    },
  };
  return gateway;
};
const now = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 };

describe('an attempt awaiting the customer (requires_action) settles', () => {
  it('by recovery once its challenge timed out, which re-reads its PaymentIntent and never creates another', async () => {
    const key = await attemptIn('requires_action');
    const gateway = succeededProvider();
    // Within the challenge timeout the challenge is the customer's: recovery leaves it alone.
    await runRecovery({ db: handle.db, gateway, instanceId: 'test' }, now);
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'requires_action' });
    const report = await runRecovery(
      { db: handle.db, gateway, instanceId: 'test' },
      { ...now, challengeTimeoutMs: 0 },
    );
    expect(report.results.succeeded).toBeGreaterThanOrEqual(1);
    expect(gateway.charges).toBe(0);
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'paid', version: 4 });
  });

  it('by a webhook for its PaymentIntent', async () => {
    const key = await attemptIn('requires_action');
    const [row] =
      await handle.sql`select payment_intent_id from payment_attempts where id = ${key.attemptId}`;
    const result = await applyPaymentIntentEvent(
      { db: handle.db, gateway: succeededProvider(), instanceId: 'test' },
      {
        id: `evt_${key.attemptId}`,
        type: 'payment_intent.succeeded',
        paymentIntentId: row!.payment_intent_id,
        metadata: { attempt_id: key.attemptId },
      },
    );
    expect(result).toBe('finalized');
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'paid' });
  });
});

/** A provider whose re-read of any PaymentIntent answers `answer(id)`, counting the reads. */
const readingProvider = (answer: (paymentIntentId: string) => ChargeResult) => {
  const gateway = {
    ...succeededProvider(),
    reads: 0,
    retrieve: async (paymentIntentId: string) => {
      gateway.reads++;
      return answer(paymentIntentId);
    },
  };
  return gateway;
};
const stillChallenged = (paymentIntentId: string): ChargeResult => ({
  kind: 'requires_action',
  paymentIntentId,
  redirectUrl: 'https://bank.example/challenge',
});

describe('an attempt awaiting the customer stays so', () => {
  async function challengeEvent() {
    const key = await attemptIn('requires_action');
    const [row] =
      await handle.sql`select payment_intent_id from payment_attempts where id = ${key.attemptId}`;
    return {
      key,
      event: {
        id: `evt_${key.attemptId}`,
        type: 'payment_intent.requires_action',
        paymentIntentId: row!.payment_intent_id as string,
        metadata: { attempt_id: key.attemptId },
      },
    };
  }

  it('when a webhook’s re-read says it still awaits the customer (pending), or the re-read fails (retry_later)', async () => {
    const { key, event } = await challengeEvent();
    const deps = (gateway: PaymentGateway) => ({ db: handle.db, gateway, instanceId: 'test' });
    expect(await applyPaymentIntentEvent(deps(readingProvider(stillChallenged)), event)).toBe('pending');
    // Answered without its PaymentIntent: the read did not reach it.
    const failedRead = readingProvider(() => ({ kind: 'unknown', reason: 'timeout' }));
    expect(await applyPaymentIntentEvent(deps(failedRead), event)).toBe('retry_later');
    // Neither is recorded: the redelivery is applied afresh, and settles it.
    expect(await applyPaymentIntentEvent(deps(succeededProvider()), event)).toBe('finalized');
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'paid' });
  });

  it('when the customer’s return re-reads it: at most once per interval per order, and nothing to read for an order without one', async () => {
    const { key } = await challengeEvent();
    const clock = { t: 1_000_000 };
    const gateway = readingProvider(stillChallenged);
    const deps = { db: handle.db, gateway, instanceId: 'test', now: () => clock.t };
    const refresh = (orderId = key.orderId) => refreshChallenge(deps, orderId, { minIntervalMs: 2_000 });
    expect(await refresh()).toBe(false);
    expect(gateway.reads).toBe(1);
    clock.t += 1_999;
    expect(await refresh()).toBe(false);
    expect(gateway.reads).toBe(1);
    clock.t += 1;
    // Our credentials refused on the re-read: it says nothing about the charge the challenge was
    // for, so the attempt still awaits the customer (a pay's own refusal would fail it instead).
    gateway.retrieve = async () => {
      gateway.reads++;
      return { kind: 'unavailable', reason: 'authentication' };
    };
    expect(await refresh()).toBe(false);
    expect(gateway.reads).toBe(2);
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'requires_action' });
    clock.t += 2_000;
    gateway.retrieve = async (paymentIntentId) => {
      gateway.reads++;
      return { kind: 'succeeded', paymentIntentId };
    };
    expect(await refresh()).toBe(true);
    expect(gateway.reads).toBe(3);
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'paid' });
    // Paid now (and an order never challenged): no attempt awaits the customer, nothing is read.
    clock.t += 10_000;
    expect(await refresh()).toBe(false);
    const plain = await createOrder(handle.db, {
      userId,
      amount: 300,
      currency: 'usd',
      paymentMethodId: 'pm_x',
    });
    expect(await refresh(plain.id)).toBe(false);
    expect(gateway.reads).toBe(3);
  });
});

describe('the customer’s return after a webhook settled the challenge meanwhile', () => {
  it('reads succeeded, but settles nothing itself: false, and the order is paid once', async () => {
    const key = await attemptIn('requires_action');
    const gateway = readingProvider((paymentIntentId) => ({ kind: 'succeeded', paymentIntentId }));
    const first = gateway.retrieve;
    gateway.retrieve = async (paymentIntentId) => {
      // The webhook for the completed challenge lands while this re-read is at the provider.
      await finalizeAttempt(handle.db, { ...key, outcome: { status: 'succeeded', paymentIntentId } });
      return first(paymentIntentId);
    };
    expect(await refreshChallenge({ db: handle.db, gateway, instanceId: 'test' }, key.orderId)).toBe(false);
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'paid', version: 4 });
  });
});

describe('the re-read turns of one process', () => {
  it('are not scanned before the memory is full: an order past its interval is still remembered', () => {
    const clock = { t: 0 };
    const deps = { db: handle.db, gateway: succeededProvider(), instanceId: 'test', now: () => clock.t };
    expect(takeRefreshTurn(deps, 'first', 1_000)).toBe(true);
    clock.t = 5_000;
    expect(takeRefreshTurn(deps, 'second', 1_000)).toBe(true);
    expect(rememberedRefreshes(deps)).toBe(2);
  });

  it('stay bounded: once full, the orders past their interval are forgotten, those within it kept', () => {
    const clock = { t: 0 };
    const deps = { db: handle.db, gateway: succeededProvider(), instanceId: 'test', now: () => clock.t };
    for (let i = 0; i < REFRESH_MEMORY - 1; i++) expect(takeRefreshTurn(deps, `old-${i}`, 1_000)).toBe(true);
    clock.t = 999;
    expect(takeRefreshTurn(deps, 'young', 1_000)).toBe(true);
    expect(rememberedRefreshes(deps)).toBe(REFRESH_MEMORY);
    // Exactly one interval after the old ones: they are forgotten; the young one is still within its.
    clock.t = 1_000;
    expect(takeRefreshTurn(deps, 'new', 1_000)).toBe(true);
    expect(rememberedRefreshes(deps)).toBe(2);
    expect(takeRefreshTurn(deps, 'young', 1_000)).toBe(false);
    expect(takeRefreshTurn(deps, 'old-0', 1_000)).toBe(true);
  });
});

describe('recovery of an abandoned challenge', () => {
  const abandoned = { ...now, challengeTimeoutMs: 0 };
  const leasedAttempt = async (attemptId: string) =>
    (await leaseStaleAttempts(handle.db, abandoned)).find((l) => l.id === attemptId)!;
  const challengeProvider = (cancel: PaymentGateway['cancel']) =>
    Object.assign(readingProvider(stillChallenged), { cancel });

  it('completed to a hold and settled between the read and the cancel: the released hold makes the order payable', async () => {
    const key = await attemptIn('requires_action');
    const lease = await leasedAttempt(key.attemptId);
    const gateway = challengeProvider(async (request) => {
      // The customer completed the challenge just now, and its webhook settled the hold first...
      await finalizeAttempt(handle.db, {
        ...key,
        outcome: { status: 'authorized', paymentIntentId: request.paymentIntentId },
      });
      // ...which this cancel then released.
      return { kind: 'canceled', paymentIntentId: request.paymentIntentId, reason: 'abandoned' };
    });
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'requires_action' });
    expect(await recoverAttempt({ db: handle.db, gateway, instanceId: 'test' }, lease, abandoned)).toBe(
      'already_final',
    );
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'failed' });
  });

  it('whose cancel is refused while it still awaits the customer: left as it is, nothing recorded', async () => {
    const key = await attemptIn('requires_action');
    const lease = await leasedAttempt(key.attemptId);
    const gateway = challengeProvider(async () => ({
      kind: 'rejected',
      code: 'payment_intent_unexpected_state',
      message: '',
    }));
    expect(await recoverAttempt({ db: handle.db, gateway, instanceId: 'test' }, lease, abandoned)).toBe(
      'requires_action',
    );
    expect(gateway.reads).toBe(2); // before the cancel, and after it was refused
    expect(await findOrder(handle.db, key.orderId)).toMatchObject({ status: 'requires_action', version: 3 });
  });
});

describe('recovery leases', () => {
  it('a worker whose lease another worker took over leaves the attempt alone', async () => {
    const key = await attemptIn('processing');
    const [mine] = (await leaseStaleAttempts(handle.db, now)).filter((a) => a.id === key.attemptId);
    expect(mine).toBeDefined();
    // Our lease ran out while we worked through the batch, and another worker leased it.
    await handle.sql`update payment_attempts set lease_until = now() - interval '1 second' where id = ${key.attemptId}`;
    const theirs = (await leaseStaleAttempts(handle.db, now)).filter((a) => a.id === key.attemptId);
    expect(theirs).toHaveLength(1);
    const gateway = succeededProvider();
    expect(await recoverAttempt({ db: handle.db, gateway, instanceId: 'late' }, mine!, now)).toBe(
      'taken_over',
    );
    expect(gateway.charges).toBe(0);
    // The worker that holds the lease re-drives it.
    const { logger, entries } = recordingLogger();
    expect(
      await recoverAttempt({ db: handle.db, gateway, instanceId: 'owner', logger }, theirs[0]!, now),
    ).toBe('succeeded');
    expect(gateway.charges).toBe(1);
    const names = {
      orderId: key.orderId,
      attemptId: key.attemptId,
      idempotencyKey: theirs[0]!.idempotencyKey,
    };
    expect(entries).toEqual([
      { level: 'info', msg: 'recovering attempt', ...names, withinKeyWindow: true },
      { level: 'info', msg: 'attempt recovered', ...names, status: 'succeeded' },
    ]);
  });
});
