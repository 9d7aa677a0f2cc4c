import { type DbHandle, stripeEvents } from '@chargeonce/db';
import { eq } from 'drizzle-orm';
import { describe, expect, it } from 'vitest';
import { claimOrder } from '../src/claim';
import type { ChargeResult, PaymentGateway } from '../src/gateway';
import { createOrder, findOrder } from '../src/orders';
import { finalizeAttempt } from '../src/settle';
import { applyPaymentIntentEvent, type PaymentIntentEvent, seenEvent } from '../src/webhook';
import { recordingLogger, unusedRefundsAndCaptures, useDatabase } from './support';

/**
 * applyPaymentIntentEvent on real PostgreSQL with a scripted provider: which events it routes where
 * (refund events, events of other objects), what each re-read answer makes of an attempt in flight
 * and of an open authorization, that a recorded event is never applied (nor re-read) again, and
 * what operators read in the log.
 */
let handle: DbHandle;
let userId: string;
useDatabase('webhook', (db) => {
  ({ handle, userId } = db);
});

/** A provider whose re-read of any PaymentIntent answers `answer(id)`; it counts every call. */
function provider(answer: (paymentIntentId: string) => ChargeResult) {
  const calls: string[] = [];
  const gateway: PaymentGateway = {
    ...unusedRefundsAndCaptures,
    charge: () => Promise.reject(new Error('not used')),
    findByAttempt: () => Promise.reject(new Error('not used')),
    listPaymentIntents: () => {
      throw new Error('not used');
    },
    retrieve: async (id) => {
      calls.push(`retrieve ${id}`);
      return answer(id);
    },
    retrieveRefund: async (refundId) => {
      calls.push(`retrieveRefund ${refundId}`);
      return { kind: 'succeeded', refundId };
    },
    listRefunds: async (paymentIntentId) => {
      calls.push(`listRefunds ${paymentIntentId}`);
      return [];
    },
  };
  return { gateway, calls };
}
const succeeded = (paymentIntentId: string): ChargeResult => ({ kind: 'succeeded', paymentIntentId });

let seq = 0;
/** A claimed order whose attempt is in flight (`processing`), or holds funds (`authorized`). */
async function attemptIn(state: 'processing' | 'authorized') {
  const order = await createOrder(handle.db, {
    userId,
    amount: 800,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  const { attempt } = await claimOrder(handle.db, {
    orderId: order.id,
    userId,
    claimedBy: 'webhook-test',
    declineCooldownMs: 0,
  });
  const key = { orderId: order.id, attemptId: attempt!.id, claimVersion: attempt!.claimVersion };
  const paymentIntentId = `pi_webhook_${++seq}_${Date.now()}`;
  if (state === 'authorized') {
    expect(
      await finalizeAttempt(handle.db, { ...key, outcome: { status: 'authorized', paymentIntentId } }),
    ).toMatchObject({ status: 'authorized' });
  }
  return { ...key, paymentIntentId };
}

const eventFor = (
  attempt: { attemptId: string; paymentIntentId: string },
  type = 'payment_intent.succeeded',
): PaymentIntentEvent => ({
  id: `evt_webhook_${++seq}`,
  type,
  paymentIntentId: attempt.paymentIntentId,
  metadata: { attempt_id: attempt.attemptId },
});
const deps = (gateway: PaymentGateway, logger = recordingLogger().logger) => ({
  db: handle.db,
  gateway,
  instanceId: 'webhook-test',
  logger,
});
const recorded = async (eventId: string) =>
  (await handle.db.select().from(stripeEvents).where(eq(stripeEvents.id, eventId))).map((r) => r.result);

describe('routing', () => {
  it('sends refund.* events to the refund path, which re-reads the refund and records an unknown one', async () => {
    const { gateway, calls } = provider(succeeded);
    const event = {
      id: `evt_webhook_${++seq}`,
      type: 'refund.updated',
      paymentIntentId: 'pi_refunded_elsewhere',
      refundId: 're_not_ours',
      metadata: {},
    };
    expect(await applyPaymentIntentEvent(deps(gateway), event)).toBe('unknown_refund');
    expect(calls).toEqual(['retrieveRefund re_not_ours']);
    expect(await recorded(event.id)).toEqual(['unknown_refund']);
  });

  it('sends charge.refunded and charge.refund.updated to the refund path, which lists the PaymentIntent’s refunds', async () => {
    for (const type of ['charge.refunded', 'charge.refund.updated']) {
      const { gateway, calls } = provider(succeeded);
      const event = { id: `evt_webhook_${++seq}`, type, paymentIntentId: 'pi_charge_refunded', metadata: {} };
      expect(await applyPaymentIntentEvent(deps(gateway), event)).toBe('unknown_refund');
      expect(calls).toEqual(['listRefunds pi_charge_refunded']);
      expect(await recorded(event.id)).toEqual(['unknown_refund']);
    }
  });

  it('ignores (and records) an event of another object even when it names one of our PaymentIntents', async () => {
    const attempt = await attemptIn('processing');
    const { gateway, calls } = provider(succeeded);
    const event = eventFor(attempt, 'charge.succeeded');
    expect(await applyPaymentIntentEvent(deps(gateway), event)).toBe('ignored');
    expect(calls).toEqual([]);
    expect(await recorded(event.id)).toEqual(['ignored']);
    expect(await findOrder(handle.db, attempt.orderId)).toMatchObject({ status: 'processing' });
  });

  it('warns about, and records, an event for a PaymentIntent of no attempt of ours', async () => {
    const { logger, entries } = recordingLogger();
    const { gateway, calls } = provider(succeeded);
    const event = {
      id: `evt_webhook_${++seq}`,
      type: 'payment_intent.succeeded',
      paymentIntentId: 'pi_never_ours',
      metadata: {},
    };
    expect(await applyPaymentIntentEvent(deps(gateway, logger), event)).toBe('unknown_payment_intent');
    expect(calls).toEqual([]);
    expect(entries).toEqual([
      {
        level: 'warn',
        msg: 'webhook for an unknown PaymentIntent',
        eventId: event.id,
        paymentIntentId: 'pi_never_ours',
      },
    ]);
    expect(await recorded(event.id)).toEqual(['unknown_payment_intent']);
  });
});

describe('an attempt in flight', () => {
  it('is settled by the re-read, logged for operators, and the redelivery is a duplicate without another read', async () => {
    const attempt = await attemptIn('processing');
    const { logger, entries } = recordingLogger();
    const first = provider(succeeded);
    const event = eventFor(attempt);
    expect(await applyPaymentIntentEvent(deps(first.gateway, logger), event)).toBe('finalized');
    expect(first.calls).toEqual([`retrieve ${attempt.paymentIntentId}`]);
    expect(entries).toEqual([
      {
        level: 'info',
        msg: 'webhook settled the payment',
        eventId: event.id,
        type: 'payment_intent.succeeded',
        paymentIntentId: attempt.paymentIntentId,
      },
    ]);
    expect(await findOrder(handle.db, attempt.orderId)).toMatchObject({ status: 'paid' });
    expect(await seenEvent(handle.db, event.id)).toBe(true);
    expect(await seenEvent(handle.db, `${event.id}_never_sent`)).toBe(false);
    // Redelivered while the provider cannot be reached: still acknowledged, nothing re-read.
    const unreachable = provider(() => ({ kind: 'unknown', reason: 'timeout' }));
    expect(await applyPaymentIntentEvent(deps(unreachable.gateway), event)).toBe('duplicate');
    expect(unreachable.calls).toEqual([]);
    expect(await recorded(event.id)).toEqual(['finalized']);
  });

  it('stays in flight when the re-read is refused (our credentials): retry_later, nothing recorded', async () => {
    const attempt = await attemptIn('processing');
    const { gateway } = provider(() => ({ kind: 'unavailable', reason: 'authentication' }));
    const event = eventFor(attempt);
    expect(await applyPaymentIntentEvent(deps(gateway), event)).toBe('retry_later');
    expect(await findOrder(handle.db, attempt.orderId)).toMatchObject({ status: 'processing' });
    expect(await recorded(event.id)).toEqual([]);
  });

  it('is acknowledged as pending when the re-read reached a PaymentIntent still processing, and retried when it reached none', async () => {
    const attempt = await attemptIn('processing');
    const event = eventFor(attempt);
    const processing = provider((paymentIntentId) => ({
      kind: 'unknown',
      reason: 'processing',
      paymentIntentId,
    }));
    expect(await applyPaymentIntentEvent(deps(processing.gateway), event)).toBe('pending');
    const lost = provider(() => ({ kind: 'unknown', reason: 'timeout' }));
    expect(await applyPaymentIntentEvent(deps(lost.gateway), event)).toBe('retry_later');
    expect(await findOrder(handle.db, attempt.orderId)).toMatchObject({ status: 'processing' });
    expect(await recorded(event.id)).toEqual([]);
  });
});

describe('an open authorization', () => {
  it('still held at the provider is pending; an unreadable one is retried; neither is recorded', async () => {
    const held = await attemptIn('authorized');
    const event = eventFor(held, 'payment_intent.amount_capturable_updated');
    const holding = provider((paymentIntentId) => ({
      kind: 'authorized',
      paymentIntentId,
      amountCapturable: 800,
    }));
    expect(await applyPaymentIntentEvent(deps(holding.gateway), event)).toBe('pending');
    expect(holding.calls).toEqual([`retrieve ${held.paymentIntentId}`]);
    const lost = provider(() => ({ kind: 'unknown', reason: 'timeout' }));
    expect(await applyPaymentIntentEvent(deps(lost.gateway), event)).toBe('retry_later');
    expect(await findOrder(handle.db, held.orderId)).toMatchObject({ status: 'authorized' });
    expect(await recorded(event.id)).toEqual([]);
  });
});
