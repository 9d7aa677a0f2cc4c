import { type Database, type DbHandle, orders } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { DEFAULT_PAY_POLICY, type PaymentsDeps } from '../src/deps';
import { DomainError } from '../src/errors';
import type { ChargeRequest, ChargeResult, PaymentGateway } from '../src/gateway';
import { createOrder } from '../src/orders';
import { type PayOutcome, payOrder } from '../src/pay';
import { type AttemptOutcome, finalizeAttempt } from '../src/settle';
import { recordingLogger, unusedRefundsAndCaptures, useDatabase } from './support';

/**
 * What payOrder answers at its edges, on real PostgreSQL with a scripted gateway: a claim that
 * someone else settled while the charge ran is reported only when the order holds what the charge
 * says; the provider's message reaches the caller of a decline or a rejection and nothing else's;
 * an in-flight attempt exactly `inflightStaleMs` old is stale; a backoff of 0 ms looks again at once.
 * Time is virtual: `sleep` advances a fake clock and records what it was asked for.
 */
let handle: DbHandle;
let userId: string;
useDatabase('pay-answers', (db) => {
  ({ handle, userId } = db);
});

function deps(
  gateway: PaymentGateway,
  overrides: Partial<PaymentsDeps> = {},
): PaymentsDeps & { clock: { t: number }; slept: number[] } {
  const clock = { t: 0 };
  const slept: number[] = [];
  return {
    db: handle.db,
    gateway,
    instanceId: 'answers',
    now: () => clock.t,
    sleep: async (ms) => {
      slept.push(ms);
      clock.t += ms;
    },
    clock,
    slept,
    ...overrides,
  };
}

const newOrder = (captureMethod: 'automatic' | 'manual' = 'automatic') =>
  createOrder(handle.db, {
    userId,
    amount: 700,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    captureMethod,
  });
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
const scripted = (result: ChargeResult): PaymentGateway => chargeOnly(async () => result);
const piOf = (r: ChargeRequest) => `pi_${r.idempotencyKey}`;

/** A charge answered `answer`, after `first` settled its attempt (a webhook, or recovery). */
const settledFirst = (
  first: (r: ChargeRequest) => AttemptOutcome,
  answer: (r: ChargeRequest) => ChargeResult,
) =>
  chargeOnly(async (request) => {
    const settled = await finalizeAttempt(handle.db, {
      orderId: request.metadata.order_id!,
      attemptId: request.metadata.attempt_id!,
      claimVersion: Number(request.metadata.claim_version),
      outcome: first(request),
    });
    expect(settled).toBeDefined();
    return answer(request);
  });

/** The DomainError a pay was refused with (any other ending fails the test). */
const refusalOf = (paying: Promise<PayOutcome>): Promise<DomainError> =>
  paying.then(
    (outcome) => {
      throw new Error(`expected a refusal, got ${outcome.outcome}`);
    },
    (err: unknown) => {
      if (err instanceof DomainError) return err;
      throw err;
    },
  );

describe('payOrder answers', () => {
  it('a manual-capture charge whose hold a webhook recorded first still answers authorized', async () => {
    const order = await newOrder('manual');
    const gateway = settledFirst(
      (r) => ({ status: 'authorized', paymentIntentId: piOf(r) }),
      (r) => ({ kind: 'authorized', paymentIntentId: piOf(r), amountCapturable: 700 }),
    );
    const { logger, entries } = recordingLogger(['error']);
    expect(await payOrder(deps(gateway, { logger }), { orderId: order.id, userId })).toMatchObject({
      outcome: 'authorized',
      paymentIntentId: `pi_chargeonce-${order.id}-v2`,
      order: { status: 'authorized', paymentIntentId: `pi_chargeonce-${order.id}-v2` },
    });
    expect(entries).toEqual([]);
  });

  it('a charge that took the money while the claim was settled as a hold only is not reported charged', async () => {
    const order = await newOrder();
    const gateway = settledFirst(
      (r) => ({ status: 'authorized', paymentIntentId: piOf(r) }),
      (r) => ({ kind: 'succeeded', paymentIntentId: piOf(r) }),
    );
    const { logger, entries } = recordingLogger(['error']);
    // Same PaymentIntent, but the order says held, the provider says charged: reconciliation's call.
    expect(await payOrder(deps(gateway, { logger }), { orderId: order.id, userId })).toMatchObject({
      outcome: 'processing',
      order: { status: 'authorized', paymentIntentId: `pi_chargeonce-${order.id}-v2` },
    });
    expect(entries).toEqual([
      {
        level: 'error',
        msg: 'charged, but the claim was settled otherwise; left for reconciliation',
        orderId: order.id,
        attemptId: expect.any(String),
        idempotencyKey: `chargeonce-${order.id}-v2`,
        paymentIntentId: `pi_chargeonce-${order.id}-v2`,
        status: 'authorized',
      },
    ]);
  });

  it('a charge whose claim was settled paid by another PaymentIntent is not reported as that payment', async () => {
    const order = await newOrder();
    const gateway = settledFirst(
      (r) => ({ status: 'succeeded', paymentIntentId: `${piOf(r)}_other` }),
      (r) => ({ kind: 'succeeded', paymentIntentId: piOf(r) }),
    );
    const { logger, entries } = recordingLogger(['error']);
    // Paid, but by a PaymentIntent this call did not make: two charges, reconciliation's call.
    expect(await payOrder(deps(gateway, { logger }), { orderId: order.id, userId })).toMatchObject({
      outcome: 'processing',
      order: { status: 'paid', paymentIntentId: `pi_chargeonce-${order.id}-v2_other` },
    });
    expect(entries).toEqual([
      {
        level: 'error',
        msg: 'charged, but the claim was settled otherwise; left for reconciliation',
        orderId: order.id,
        attemptId: expect.any(String),
        idempotencyKey: `chargeonce-${order.id}-v2`,
        paymentIntentId: `pi_chargeonce-${order.id}-v2`,
        status: 'paid',
      },
    ]);
  });

  it("the provider's message reaches the caller of a decline and of a rejection; a canceled PaymentIntent adds none", async () => {
    const declined = await newOrder();
    const decline = await refusalOf(
      payOrder(
        deps(
          scripted({
            kind: 'declined',
            paymentIntentId: 'pi_declined',
            code: 'card_declined',
            declineCode: 'insufficient_funds',
            message: 'Your card has insufficient funds.',
          }),
        ),
        { orderId: declined.id, userId },
      ),
    );
    expect(decline.details).toEqual({
      code: 'PAYMENT_DECLINED',
      orderId: declined.id,
      declineCode: 'insufficient_funds',
      providerMessage: 'Your card has insufficient funds.',
    });
    expect(decline.message).toBe(
      'The card was declined (insufficient_funds). Your card has insufficient funds.',
    );

    const rejected = await newOrder();
    const reject = await refusalOf(
      payOrder(
        deps(
          scripted({
            kind: 'rejected',
            code: 'amount_too_small',
            message: 'Amount must be at least 50 cents.',
          }),
        ),
        { orderId: rejected.id, userId },
      ),
    );
    expect(reject.details).toEqual({
      code: 'PAYMENT_REJECTED',
      orderId: rejected.id,
      providerCode: 'amount_too_small',
      providerMessage: 'Amount must be at least 50 cents.',
    });

    const canceled = await newOrder();
    const cancel = await refusalOf(
      payOrder(deps(scripted({ kind: 'canceled', paymentIntentId: 'pi_canceled', reason: 'abandoned' })), {
        orderId: canceled.id,
        userId,
      }),
    );
    expect(cancel.details).toEqual({
      code: 'PAYMENT_REJECTED',
      orderId: canceled.id,
      providerCode: 'canceled_abandoned',
      providerMessage: '',
    });
    expect(cancel.message).toBe(
      'The payment provider rejected the payment (canceled_abandoned); nothing was charged.',
    );
  });

  it('an in-flight attempt exactly inflightStaleMs old answers processing at once', async () => {
    const order = await newOrder();
    await payOrder(deps(scripted({ kind: 'unknown', reason: 'timeout' })), { orderId: order.id, userId });
    const policy = { ...DEFAULT_PAY_POLICY, inflightStaleMs: 5_000 };
    // A transaction holds the database clock still: its now() is the same for the update and for
    // the claim's age, so the order is exactly inflightStaleMs old when the payer looks.
    const d = await handle.db.transaction(async (tx) => {
      await tx
        .update(orders)
        .set({ updatedAt: sql`now() - make_interval(secs => ${policy.inflightStaleMs / 1000})` })
        .where(eq(orders.id, order.id));
      const looking = deps(scripted({ kind: 'succeeded', paymentIntentId: 'pi_never' }), {
        // payOrder's queries are plain statements: run on the transaction, they see its clock.
        db: tx as unknown as Database,
        policy,
      });
      expect((await payOrder(looking, { orderId: order.id, userId })).outcome).toBe('processing');
      return looking;
    });
    expect(d.clock.t).toBe(0);
    expect(d.slept).toEqual([]);
  });

  it('a backoff that comes out 0 ms looks again at once, without asking sleep for a timer', async () => {
    const order = await newOrder();
    await payOrder(deps(scripted({ kind: 'unknown', reason: 'timeout' })), { orderId: order.id, userId });
    const delays: number[] = [];
    let draws = 0;
    const d = deps(scripted({ kind: 'succeeded', paymentIntentId: 'pi_never' }), {
      policy: { ...DEFAULT_PAY_POLICY, deadlineMs: 200 },
      // The first look's jitter draws 0, every later one the middle of its range.
      random: () => (draws++ === 0 ? 0 : 0.5),
      hooks: { retry: (ms) => delays.push(ms) },
    });
    expect((await payOrder(d, { orderId: order.id, userId })).outcome).toBe('processing');
    expect(d.clock.t).toBe(200);
    expect(delays.slice(0, 3)).toEqual([0, 10, 20]);
    // Every backoff but the zero one is slept (the last one cut to what is left of the deadline).
    expect(d.slept).not.toContain(0);
    expect(d.slept).toHaveLength(delays.length - 1);
    expect(d.slept.slice(0, 2)).toEqual([10, 20]);
  });
});
