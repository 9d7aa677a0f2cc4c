import { randomUUID } from 'node:crypto';
import { captures, type DbHandle, orders, paymentAttempts } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { captureOrder, START_TRIES, voidOrder } from '../src/capture';
import { summarizeOpenAuthorizations } from '../src/capture-recover';
import { capturesOf, settleAuthorization, startCapture } from '../src/capture-store';
import { claimOrder } from '../src/claim';
import { DEFAULT_PAY_POLICY, type PaymentsDeps } from '../src/deps';
import type { ChargeResult, PaymentGateway } from '../src/gateway';
import { createOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { DEFAULT_RECOVERY_POLICY, runRecovery } from '../src/recover';
import { finalizeAttempt } from '../src/settle';
import {
  aroundStatements,
  losingDatabase,
  recordingLogger,
  unusedRefundsAndCaptures,
  useDatabase,
} from './support';

/**
 * captureOrder / voidOrder against real PostgreSQL and a provider that holds funds like Stripe's
 * manual capture: racing requests (truly concurrent, from many connections) counted at the
 * provider, and a naive take that the same count catches.
 */
let handle: DbHandle;
let userId: string;
useDatabase(
  'capture-test',
  (db) => {
    ({ handle, userId } = db);
  },
  { max: 12 },
);

/** A PaymentIntent per key; capture and cancel move a held one once, as Stripe does, and are counted. */
function holdingProvider(answer?: (op: 'capture' | 'cancel') => ChargeResult | undefined) {
  const intents = new Map<
    string,
    { status: 'held' | 'captured' | 'released'; amount: number; received: number }
  >();
  const calls: { op: 'capture' | 'cancel'; paymentIntentId: string; executed: boolean }[] = [];
  const state = (id: string): ChargeResult => {
    const pi = intents.get(id);
    if (!pi) return { kind: 'unknown', reason: 'no such intent' };
    if (pi.status === 'held') return { kind: 'authorized', paymentIntentId: id, amountCapturable: pi.amount };
    if (pi.status === 'captured')
      return { kind: 'succeeded', paymentIntentId: id, amountReceived: pi.received };
    return { kind: 'canceled', paymentIntentId: id, reason: 'requested_by_customer' };
  };
  const move = async (op: 'capture' | 'cancel', id: string, amount: number | null): Promise<ChargeResult> => {
    // Let the racing request run while this one is at the provider.
    await new Promise((resolve) => setTimeout(resolve, 3));
    const pi = intents.get(id);
    const executed = pi?.status === 'held';
    calls.push({ op, paymentIntentId: id, executed });
    const forced = answer?.(op);
    if (forced) return forced;
    if (!pi || !executed) return { kind: 'rejected', code: 'payment_intent_unexpected_state', message: '' };
    if (op === 'capture') Object.assign(pi, { status: 'captured', received: amount ?? pi.amount });
    else pi.status = 'released';
    return state(id);
  };
  const gateway: PaymentGateway = {
    ...unusedRefundsAndCaptures,
    async charge(request) {
      const id = `pi_${request.idempotencyKey}`;
      intents.set(id, {
        status: request.captureMethod === 'manual' ? 'held' : 'captured',
        amount: request.amount,
        received: 0,
      });
      return state(id);
    },
    retrieve: async (id) => state(id),
    capture: (r) => move('capture', r.paymentIntentId, r.amount),
    cancel: (r) => move('cancel', r.paymentIntentId, null),
    findByAttempt: () => Promise.reject(new Error('not used')),
    listPaymentIntents: () => {
      throw new Error('not used');
    },
  };
  return { gateway, calls, intents };
}

const deps = (gateway: PaymentGateway): PaymentsDeps => ({ db: handle.db, gateway, instanceId: 'unit' });
const merchant = { kind: 'service' as const, id: '00000000-0000-4000-8000-000000000001' };
async function authorizedOrder(gateway: PaymentGateway, amount = 1000) {
  const order = await createOrder(handle.db, {
    userId,
    amount,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    captureMethod: 'manual',
  });
  expect((await payOrder(deps(gateway), { orderId: order.id, userId })).outcome).toBe('authorized');
  return order;
}

/** A manual-capture order of 1000 whose pay `claimedBy` has claimed (in flight, at the provider). */
async function claimedManualOrder(claimedBy: string) {
  const order = await createOrder(handle.db, {
    userId,
    amount: 1000,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    captureMethod: 'manual',
  });
  const { attempt } = await claimOrder(handle.db, {
    orderId: order.id,
    userId,
    claimedBy,
    declineCooldownMs: 0,
  });
  if (!attempt) throw new Error(`order ${order.id} not claimed`);
  return { order, attempt };
}

describe('a capture and a void racing', () => {
  it('over 30 orders, 4 captures and 4 voids each, fired at once: one request per order reaches the provider', async () => {
    const { gateway, calls } = holdingProvider();
    for (let trial = 0; trial < 30; trial++) {
      const order = await authorizedOrder(gateway);
      const input = { orderId: order.id, userId: null, requestedBy: merchant };
      const results = await Promise.allSettled(
        Array.from({ length: 8 }, (_, i) =>
          i % 2 ? voidOrder(deps(gateway), input) : captureOrder(deps(gateway), input),
        ),
      );
      const done = results.filter((r) => r.status === 'fulfilled' && r.value.outcome === 'done');
      expect(done).toHaveLength(1);
      const sent = calls.filter(
        (c) => c.paymentIntentId === order.paymentIntentId || c.paymentIntentId.includes(order.id),
      );
      expect(sent).toHaveLength(1);
      const [row] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
      expect(row?.status).toBe(sent[0]?.op === 'capture' ? 'paid' : 'canceled');
    }
  });

  it('the same count catches a naive take (read, then write without the conditional guard)', async () => {
    const { gateway, calls } = holdingProvider();
    const order = await authorizedOrder(gateway);
    const [held] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    // Naive: each request reads "authorized" and calls the provider; nothing decides a winner first.
    const naive = async (op: 'capture' | 'cancel') => {
      const [now] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
      if (now?.status !== 'authorized') return;
      const request = {
        paymentIntentId: held!.paymentIntentId!,
        idempotencyKey: `naive-${op}-${Math.random()}`,
      };
      await (op === 'capture'
        ? gateway.capture({ ...request, amount: null })
        : gateway.cancel({ ...request, reason: 'requested_by_customer' }));
    };
    await Promise.all([naive('capture'), naive('cancel'), naive('capture'), naive('cancel')]);
    expect(calls.length).toBeGreaterThan(1);
  });
});

describe('captureOrder', () => {
  it('captures part, once; the order is paid with what was taken', async () => {
    const { gateway, intents } = holdingProvider();
    const order = await authorizedOrder(gateway, 5000);
    const answer = await captureOrder(deps(gateway), {
      orderId: order.id,
      userId,
      amount: 1200,
      requestedBy: merchant,
    });
    expect(answer).toMatchObject({ outcome: 'done', order: { status: 'paid', capturedAmount: 1200 } });
    expect([...intents.values()].find((pi) => pi.status === 'captured')?.received).toBe(1200);
  });

  it('a void again is already_done with the first void; a capture then is ORDER_NOT_CAPTURABLE, saying voided', async () => {
    const { gateway, calls } = holdingProvider();
    const order = await authorizedOrder(gateway);
    const input = { orderId: order.id, userId, requestedBy: merchant };
    const first = await voidOrder(deps(gateway), input);
    expect(first).toMatchObject({ outcome: 'done', order: { status: 'canceled' } });
    expect(await voidOrder(deps(gateway), input)).toMatchObject({
      outcome: 'already_done',
      order: { status: 'canceled' },
      capture: { id: first.capture!.id, kind: 'void', status: 'succeeded' },
    });
    await expect(captureOrder(deps(gateway), input)).rejects.toMatchObject({
      code: 'ORDER_NOT_CAPTURABLE',
      message: 'Order cannot be captured: its authorization is voided.',
    });
    expect(calls.map((c) => c.op)).toEqual(['cancel']);
  });

  it('a refusal with the hold still open gives the order back to authorized (CAPTURE_FAILED); another capture may follow', async () => {
    let refuse = true;
    const { gateway } = holdingProvider((op) =>
      op === 'capture' && refuse
        ? { kind: 'rejected', code: 'amount_too_small', message: 'too small' }
        : undefined,
    );
    const order = await authorizedOrder(gateway);
    const input = { orderId: order.id, userId, requestedBy: merchant };
    await expect(captureOrder(deps(gateway), input)).rejects.toMatchObject({
      code: 'CAPTURE_FAILED',
      details: { reason: 'amount_too_small' },
    });
    refuse = false;
    expect((await captureOrder(deps(gateway), input)).outcome).toBe('done');
  });

  it('after a refused capture, a hold captured outside chargeonce is already_done with no capture of ours', async () => {
    const { gateway } = holdingProvider((op) =>
      op === 'capture' ? { kind: 'rejected', code: 'amount_too_small', message: 'too small' } : undefined,
    );
    const order = await authorizedOrder(gateway);
    const input = { orderId: order.id, userId, requestedBy: merchant };
    await expect(captureOrder(deps(gateway), input)).rejects.toMatchObject({ code: 'CAPTURE_FAILED' });
    // The merchant captures it in the provider's dashboard; its event settles the order.
    const [held] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    await settleAuthorization(handle.db, {
      orderId: order.id,
      paymentIntentId: held!.paymentIntentId!,
      outcome: { kind: 'captured', amountReceived: 1000 },
    });
    // The refused row is the order's only capture: it did not capture, so it is not the answer's.
    expect((await capturesOf(handle.db, order.id)).map((c) => c.status)).toEqual(['failed']);
    expect(await captureOrder(deps(gateway), input)).toMatchObject({
      outcome: 'already_done',
      order: { status: 'paid' },
      capture: null,
    });
  });

  it('our credentials refused is PROVIDER_UNAVAILABLE, the hold still open: the order is authorized again', async () => {
    const { gateway, calls } = holdingProvider((op) =>
      op === 'capture' ? { kind: 'unavailable', reason: 'authentication_error' } : undefined,
    );
    const order = await authorizedOrder(gateway);
    await expect(
      captureOrder(deps(gateway), { orderId: order.id, userId, requestedBy: merchant }),
    ).rejects.toMatchObject({ code: 'PROVIDER_UNAVAILABLE' });
    const [row] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    expect(row?.status).toBe('authorized');
    expect(await capturesOf(handle.db, order.id)).toMatchObject([
      { status: 'failed', errorCode: 'provider_unavailable' },
    ]);
    expect(calls).toHaveLength(1);
  });

  it('the database lost after the provider captured: pending (capturing) from the rows in hand, logged, never an error', async () => {
    const { db, state } = losingDatabase(handle.db);
    const { gateway } = holdingProvider(() => {
      state.down = true;
      return undefined;
    });
    const order = await authorizedOrder(gateway);
    const { logger, entries } = recordingLogger(['warn', 'error']);
    expect(
      await captureOrder(
        { ...deps(gateway), db, logger },
        { orderId: order.id, userId, requestedBy: merchant },
      ),
    ).toMatchObject({ outcome: 'pending', order: { status: 'capturing' }, capture: { status: 'pending' } });
    expect(entries).toEqual([
      expect.objectContaining({
        level: 'error',
        msg: 'settling the capture failed; left for recovery',
        orderId: order.id,
        captureId: expect.any(String),
        err: expect.objectContaining({ code: 'CONNECTION_CLOSED' }),
      }),
    ]);
    expect(await capturesOf(handle.db, order.id)).toMatchObject([{ status: 'pending' }]);
  });

  it('an unknown outcome leaves it pending (capturing); a second request answers pending and sends nothing', async () => {
    const { gateway, calls } = holdingProvider((op) =>
      op === 'capture' ? { kind: 'unknown', reason: 'timeout' } : undefined,
    );
    const order = await authorizedOrder(gateway);
    const input = { orderId: order.id, userId, requestedBy: merchant };
    const { logger, entries } = recordingLogger();
    const first = await captureOrder({ ...deps(gateway), logger }, input);
    expect(first).toMatchObject({ outcome: 'pending', order: { status: 'capturing' } });
    const names = { orderId: order.id, captureId: first.capture!.id };
    expect(entries).toEqual([
      {
        level: 'info',
        msg: 'stripe paymentIntents.capture',
        ...names,
        idempotencyKey: first.capture!.idempotencyKey,
      },
      {
        level: 'warn',
        msg: 'capture outcome unknown; left pending for recovery',
        ...names,
        reason: 'timeout',
      },
    ]);
    expect((await captureOrder(deps(gateway), input)).outcome).toBe('pending');
    await expect(voidOrder(deps(gateway), input)).rejects.toMatchObject({ code: 'ORDER_NOT_VOIDABLE' });
    expect(calls).toHaveLength(1);
  });
});

describe('capture recovery', () => {
  it('repeats a capture left pending with its key; a refusal of the repeat settles it, and the order is authorized again', async () => {
    let refuse = false;
    const { gateway, calls } = holdingProvider((op) => {
      if (op !== 'capture') return undefined;
      return refuse
        ? { kind: 'rejected', code: 'amount_too_small', message: 'too small' }
        : { kind: 'unknown', reason: 'timeout' };
    });
    const order = await authorizedOrder(gateway);
    const input = { orderId: order.id, userId, requestedBy: merchant };
    expect((await captureOrder(deps(gateway), input)).outcome).toBe('pending');
    refuse = true;
    // The refusal is the requester's to hear (CAPTURE_FAILED); for recovery the row is settled.
    const report = await runRecovery(deps(gateway), { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 });
    expect(report.captures.results.settled).toBeGreaterThanOrEqual(1);
    expect(await capturesOf(handle.db, order.id)).toMatchObject([
      { kind: 'capture', status: 'failed', errorCode: 'amount_too_small' },
    ]);
    const [row] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    expect(row?.status).toBe('authorized');
    const mine = calls.filter((c) => c.paymentIntentId === row?.paymentIntentId);
    expect(mine.map((c) => c.op)).toEqual(['capture', 'capture']);
  });
});

describe('capture recovery, when it cannot settle', () => {
  it('a repeat refused as unavailable says nothing of the first call: the capture stays pending (unknown)', async () => {
    let answer: ChargeResult | undefined = { kind: 'unknown', reason: 'timeout' };
    const { gateway } = holdingProvider((op) => (op === 'capture' ? answer : undefined));
    const order = await authorizedOrder(gateway);
    expect(
      (await captureOrder(deps(gateway), { orderId: order.id, userId, requestedBy: merchant })).outcome,
    ).toBe('pending');
    answer = { kind: 'unavailable', reason: 'authentication_error' };
    // Open holds are watched in the same pass (all of this file's: the check age is 0).
    const report = await runRecovery(deps(gateway), {
      ...DEFAULT_RECOVERY_POLICY,
      graceMs: 0,
      authorizationCheckAfterMs: 0,
    });
    expect(report.captures.results.unknown).toBeGreaterThanOrEqual(1);
    expect(report.captures.results.authorization_open).toBeGreaterThanOrEqual(1);
    expect(report.captures.leased).toBe(Object.values(report.captures.results).reduce((n, r) => n + r, 0));
    expect(await capturesOf(handle.db, order.id)).toMatchObject([{ status: 'pending' }]);
  });

  it('the database lost while it settles: the pass fails (the row stays pending for the next), never a false settled', async () => {
    const { db, state } = losingDatabase(handle.db);
    state.once = true; // back for the rest of the pass: only the settle is lost
    let answer: ChargeResult | undefined = { kind: 'unknown', reason: 'timeout' };
    const { gateway } = holdingProvider((op) => {
      if (op !== 'capture') return undefined;
      if (!answer) state.down = true;
      return answer;
    });
    const order = await authorizedOrder(gateway);
    await captureOrder(deps(gateway), { orderId: order.id, userId, requestedBy: merchant });
    answer = undefined; // the repeat executes; the database is gone before it is recorded
    await expect(
      runRecovery({ ...deps(gateway), db }, { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 }),
    ).rejects.toMatchObject({ code: 'CONNECTION_CLOSED' });
    expect(await capturesOf(handle.db, order.id)).toMatchObject([{ status: 'pending' }]);
  });
});

describe('recovery watching open authorizations', () => {
  it('a hold still open past the check age is left open; once it lapsed at the provider the order follows', async () => {
    const { gateway, intents, calls } = holdingProvider();
    const order = await authorizedOrder(gateway);
    const policy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0, leaseMs: 0, authorizationCheckAfterMs: 0 };
    const statusOf = async () => (await handle.db.select().from(orders).where(eq(orders.id, order.id)))[0];
    const first = await runRecovery(deps(gateway), policy);
    expect(first.captures.results.authorization_open).toBeGreaterThanOrEqual(1);
    expect((await statusOf())?.status).toBe('authorized');
    const paymentIntentId = (await statusOf())!.paymentIntentId!;
    intents.get(paymentIntentId)!.status = 'released';
    const { logger, entries } = recordingLogger();
    const second = await runRecovery({ ...deps(gateway), logger }, policy);
    expect(entries).toContainEqual({
      level: 'info',
      msg: 'authorization settled by recovery',
      orderId: order.id,
      attemptId: expect.any(String),
      outcome: 'released',
      status: 'failed',
    });
    expect(second.captures.results.authorization_settled).toBeGreaterThanOrEqual(1);
    expect((await statusOf())?.status).toBe('failed');
    expect(calls).toEqual([]); // only read, never captured or canceled
  });
});

describe('paying an order that holds funds, or held them', () => {
  it('while its capture is in progress answers already_authorized: no second hold', async () => {
    const { gateway, intents } = holdingProvider();
    const order = await authorizedOrder(gateway);
    await handle.db.update(orders).set({ status: 'capturing' }).where(eq(orders.id, order.id));
    const again = await payOrder(deps(gateway), { orderId: order.id, userId });
    expect(again).toMatchObject({ outcome: 'already_authorized', order: { status: 'capturing' } });
    expect(intents.size).toBe(1);
  });

  it('once its hold lapsed (the order failed) is a new pay, not already_authorized', async () => {
    const { gateway, intents } = holdingProvider();
    const order = await authorizedOrder(gateway);
    const [held] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    intents.get(held!.paymentIntentId!)!.status = 'released';
    const policy = { ...DEFAULT_RECOVERY_POLICY, graceMs: 0, leaseMs: 0, authorizationCheckAfterMs: 0 };
    await runRecovery(deps(gateway), policy);
    const [lapsed] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    expect(lapsed).toMatchObject({ status: 'failed', paymentIntentId: held!.paymentIntentId });
    const again = await payOrder(deps(gateway), { orderId: order.id, userId });
    expect(again.outcome).toBe('authorized');
    expect(intents.size).toBe(2);
  });

  it('waiting on another pay whose hold then lapsed, pays anew instead of waiting on it', async () => {
    const { gateway, intents } = holdingProvider();
    const { order, attempt: other } = await claimedManualOrder('other');
    let lapsed = false;
    // While this pay waits, the other one authorizes and its hold lapses (the order is payable again).
    const sleep = async () => {
      if (lapsed) return;
      lapsed = true;
      const outcome = { status: 'authorized' as const, paymentIntentId: 'pi_other_hold' };
      await finalizeAttempt(handle.db, {
        orderId: order.id,
        attemptId: other.id,
        claimVersion: other.claimVersion,
        outcome,
      });
      await settleAuthorization(handle.db, {
        orderId: order.id,
        paymentIntentId: 'pi_other_hold',
        outcome: { kind: 'released', reason: 'authorization_expired' },
      });
    };
    const policy = { ...DEFAULT_PAY_POLICY, deadlineMs: 3_000 };
    const paid = await payOrder({ ...deps(gateway), sleep, policy }, { orderId: order.id, userId });
    expect(lapsed).toBe(true);
    expect(paid).toMatchObject({ outcome: 'authorized', order: { status: 'authorized' } });
    expect(intents.size).toBe(1);
  });

  it('once voided, or while its void is in progress, is not payable: never already_authorized', async () => {
    const { gateway } = holdingProvider();
    const voided = await authorizedOrder(gateway);
    await voidOrder(deps(gateway), { orderId: voided.id, userId, requestedBy: merchant });
    const voiding = await authorizedOrder(gateway);
    await handle.db.update(orders).set({ status: 'voiding' }).where(eq(orders.id, voiding.id));
    for (const order of [voided, voiding]) {
      const [row] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
      expect(row?.paymentIntentId).not.toBeNull();
      await expect(payOrder(deps(gateway), { orderId: order.id, userId })).rejects.toMatchObject({
        code: 'ORDER_NOT_PAYABLE',
      });
    }
  });
});

describe('a capture that cannot take its order', () => {
  it('re-reads it START_TRIES times, then answers by its state (an order without a hold is not capturable)', async () => {
    const { gateway, calls } = holdingProvider();
    const order = await authorizedOrder(gateway);
    // Authorized, yet no authorized attempt holds it (as if another settle were mid-way): never taken.
    await handle.db
      .update(paymentAttempts)
      .set({ status: 'failed', errorCode: 'x' })
      .where(eq(paymentAttempts.orderId, order.id));
    let takes = 0;
    const counted = aroundStatements(handle.db, 'with', {
      async after() {
        takes++;
        if (takes > 2 * START_TRIES) throw new Error('startCapture repeated without a bound');
      },
    });
    // All of it, by amount: not more than authorized, so never CAPTURE_EXCEEDS_AUTHORIZED.
    await expect(
      captureOrder(
        { ...deps(gateway), db: counted },
        { orderId: order.id, userId, requestedBy: merchant, amount: 1000 },
      ),
    ).rejects.toMatchObject({ code: 'ORDER_NOT_CAPTURABLE' });
    expect(takes).toBe(START_TRIES);
    expect(calls).toEqual([]);
  });

  it('of an order that is not authorized any more is answered at the first look, never re-read', async () => {
    const { gateway } = holdingProvider();
    const order = await authorizedOrder(gateway);
    await captureOrder(deps(gateway), { orderId: order.id, userId, requestedBy: merchant });
    let takes = 0;
    const counted = aroundStatements(handle.db, 'with', {
      async after() {
        takes++;
      },
    });
    const again = await captureOrder(
      { ...deps(gateway), db: counted },
      { orderId: order.id, userId, requestedBy: merchant },
    );
    expect(again.outcome).toBe('already_done');
    expect(takes).toBe(1);
  });
});

describe('settling an authorization closes what was pending on it', () => {
  const started = async (kind: 'capture' | 'void') => {
    const { gateway } = holdingProvider();
    const order = await authorizedOrder(gateway);
    const [row] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    const { capture } = await startCapture(handle.db, {
      captureId: randomUUID(),
      kind,
      orderId: order.id,
      userId,
      amount: null,
      requestedBy: merchant,
    });
    expect(capture).toMatchObject({ status: 'pending' });
    return { orderId: order.id, paymentIntentId: row!.paymentIntentId! };
  };

  it('a void pending when the provider says captured fails as payment_intent_captured; the order is paid', async () => {
    const at = await started('void');
    const order = await settleAuthorization(handle.db, {
      ...at,
      outcome: { kind: 'captured', amountReceived: 1000 },
    });
    expect(order).toMatchObject({ status: 'paid', canceledAt: null });
    const [row] = await capturesOf(handle.db, at.orderId);
    expect(row).toMatchObject({ kind: 'void', status: 'failed', errorCode: 'payment_intent_captured' });
    expect(row?.completedAt).toBeInstanceOf(Date);
  });

  it('a capture pending when the hold was released fails as authorization_released; a void done cancels the order', async () => {
    const capturing = await started('capture');
    const lapsed = await settleAuthorization(handle.db, {
      ...capturing,
      outcome: { kind: 'released', reason: 'authorization_expired' },
    });
    // Lapsed, not voided: payable again, never canceled.
    expect(lapsed).toMatchObject({ status: 'failed', canceledAt: null });
    const [row] = await capturesOf(handle.db, capturing.orderId);
    expect(row).toMatchObject({ kind: 'capture', status: 'failed', errorCode: 'authorization_released' });
    expect(row?.completedAt).toBeInstanceOf(Date);

    const voiding = await started('void');
    const voided = await settleAuthorization(handle.db, {
      ...voiding,
      outcome: { kind: 'released', reason: 'requested_by_customer' },
    });
    expect(voided?.canceledAt).toBeInstanceOf(Date);
    const [done] = await capturesOf(handle.db, voiding.orderId);
    expect(done).toMatchObject({ kind: 'void', status: 'succeeded', errorCode: null });
    expect(done?.completedAt).toBeInstanceOf(Date);
  });
});

describe('settling an authorization, as other readers see it', () => {
  it('never shows the order settled while its void is still pending: both move in one transaction', async () => {
    const { gateway } = holdingProvider();
    const order = await authorizedOrder(gateway);
    const [held] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    const { capture } = await startCapture(handle.db, {
      captureId: randomUUID(),
      kind: 'void',
      orderId: order.id,
      userId,
      amount: null,
      requestedBy: merchant,
    });
    // Another transaction holds the void's row, so the settle stops between its two statements.
    let locked!: () => void;
    let release!: () => void;
    const holding = new Promise<void>((resolve) => (locked = resolve));
    const gate = new Promise<void>((resolve) => (release = resolve));
    const holder = handle.db.transaction(async (tx) => {
      await tx.select({ id: captures.id }).from(captures).where(eq(captures.id, capture!.id)).for('update');
      locked();
      await gate;
    });
    await holding;
    const settling = settleAuthorization(handle.db, {
      orderId: order.id,
      paymentIntentId: held!.paymentIntentId!,
      outcome: { kind: 'released', reason: 'requested_by_customer' },
    });
    await expect
      .poll(
        async () =>
          (
            await handle.sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock'`
          )[0]?.n,
      )
      .toBeGreaterThan(0);
    // Read on another connection: the order's move is not visible before the void's close (a
    // repeated void read here was answered ORDER_NOT_VOIDABLE when the two were committed apart).
    const [seen] = await handle.db
      .select({ status: orders.status })
      .from(orders)
      .where(eq(orders.id, order.id));
    expect(seen?.status).toBe('voiding');
    release();
    await holder;
    expect(await settling).toMatchObject({ status: 'canceled' });
    expect(await capturesOf(handle.db, order.id)).toMatchObject([{ kind: 'void', status: 'succeeded' }]);
  });
});

describe('the summary of open authorizations (metrics, operations)', () => {
  it('counts the holds and gives the oldest one’s age, by the database clock', async () => {
    const { gateway } = holdingProvider();
    const order = await authorizedOrder(gateway);
    await handle.db.execute(
      sql`update payment_attempts set completed_at = now() - interval '120 seconds' where order_id = ${order.id}`,
    );
    const summary = await summarizeOpenAuthorizations(handle.db);
    expect(summary.authorizations).toBeGreaterThanOrEqual(1);
    expect(summary.oldestAgeSeconds).toBeGreaterThanOrEqual(120);
  });
});

describe('a capture or void before the authorization', () => {
  it('while the pay is in flight answers PAYMENT_IN_PROGRESS (no final answer: a retry with the key asks again)', async () => {
    const { gateway, calls } = holdingProvider();
    const { order } = await claimedManualOrder('unit');
    const input = { orderId: order.id, userId, requestedBy: merchant };
    await expect(captureOrder(deps(gateway), input)).rejects.toMatchObject({ code: 'PAYMENT_IN_PROGRESS' });
    await expect(voidOrder(deps(gateway), input)).rejects.toMatchObject({ code: 'PAYMENT_IN_PROGRESS' });
    expect(calls).toHaveLength(0);
  });
});

describe('settleAuthorization', () => {
  it('a capture taken while a lapse waited for the order row: the order and that capture both settle', async () => {
    const { gateway } = holdingProvider();
    const order = await authorizedOrder(gateway);
    const [held] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    let taken!: () => void;
    let commit!: () => void;
    const tookIt = new Promise<void>((resolve) => (taken = resolve));
    const gate = new Promise<void>((resolve) => (commit = resolve));
    const take = handle.db.transaction(async (tx) => {
      await startCapture(tx, {
        captureId: randomUUID(),
        kind: 'capture',
        orderId: order.id,
        userId: null,
        amount: null,
        requestedBy: merchant,
      });
      taken();
      await gate;
    });
    await tookIt;
    // The lapse starts now (its snapshot cannot see the uncommitted capture) and waits for the row.
    const lapse = settleAuthorization(handle.db, {
      orderId: order.id,
      paymentIntentId: held!.paymentIntentId!,
      outcome: { kind: 'released', reason: 'canceled_automatic' },
    });
    await expect
      .poll(
        async () =>
          (
            await handle.sql`select count(*)::int as n from pg_stat_activity where wait_event_type = 'Lock'`
          )[0]?.n,
      )
      .toBeGreaterThan(0);
    commit();
    await take;
    expect(await lapse).toMatchObject({ status: 'failed' });
    expect(await capturesOf(handle.db, order.id)).toMatchObject([
      { status: 'failed', errorCode: 'authorization_released' },
    ]);
  });

  it('moves an order only from the states its outcome may come from, and only for its own PaymentIntent', async () => {
    const { gateway } = holdingProvider();
    const order = await authorizedOrder(gateway);
    const [row] = await handle.db.select().from(orders).where(eq(orders.id, order.id));
    const pi = row!.paymentIntentId!;
    const other = await settleAuthorization(handle.db, {
      orderId: order.id,
      paymentIntentId: 'pi_someone_else',
      outcome: { kind: 'captured', amountReceived: 1000 },
    });
    expect(other).toBeUndefined();
    // An authorized order is not "reopened" (no capture or void is deciding it).
    const reopened = await settleAuthorization(handle.db, {
      orderId: order.id,
      paymentIntentId: pi,
      outcome: { kind: 'reopened', captureId: '00000000-0000-4000-8000-000000000009', errorCode: 'x' },
    });
    expect(reopened).toBeUndefined();
    const lapsed = await settleAuthorization(handle.db, {
      orderId: order.id,
      paymentIntentId: pi,
      outcome: { kind: 'released', reason: 'canceled_automatic' },
    });
    expect(lapsed).toMatchObject({ status: 'failed', version: row!.version + 1 });
    // Settled once: a second settler sees nothing to move.
    const again = await settleAuthorization(handle.db, {
      orderId: order.id,
      paymentIntentId: pi,
      outcome: { kind: 'captured', amountReceived: 1000 },
    });
    expect(again).toBeUndefined();
    const [attempt] = await handle.db.execute<{ status: string; error_code: string }>(
      sql`select status, error_code from payment_attempts where order_id = ${order.id}`,
    );
    expect(attempt).toMatchObject({ status: 'canceled', error_code: 'canceled_automatic' });
  });
});
