import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import { claimOrder } from '../src/claim';
import { createOrder, findOrder } from '../src/orders';
import { type AttemptOutcome, finalizeAttempt } from '../src/settle';
import { useDatabase } from './support';

/**
 * What each outcome finalizeAttempt settles records on the order, on real PostgreSQL: the order
 * names its PaymentIntent only once it is charged or holds funds, records a payment (paid_at, the
 * amount taken) only when charged, and records when a hold began only when authorized. These are
 * the columns the order's DTO gives callers (paidAt, authorizedAt) and refunds are bounded by
 * (captured_amount).
 */
let handle: DbHandle;
let userId: string;
useDatabase('settle-outcomes', (db) => {
  ({ handle, userId } = db);
});

let pis = 0;
const newPaymentIntentId = () => `pi_outcomes_${++pis}_${Date.now()}`;

/** A claimed order of 700 whose attempt is processing (moved there by the product's own claim). */
async function processingAttempt(captureMethod: 'automatic' | 'manual' = 'automatic') {
  const order = await createOrder(handle.db, {
    userId,
    amount: 700,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    captureMethod,
  });
  const { attempt } = await claimOrder(handle.db, {
    orderId: order.id,
    userId,
    claimedBy: 'test',
    declineCooldownMs: 0,
  });
  return { orderId: order.id, attemptId: attempt!.id, claimVersion: attempt!.claimVersion };
}

/** Settles the attempt with `outcome` and returns the order as stored afterwards. */
async function settle(key: Awaited<ReturnType<typeof processingAttempt>>, outcome: AttemptOutcome) {
  expect(await finalizeAttempt(handle.db, { ...key, outcome })).toMatchObject({
    status: outcome.status === 'succeeded' ? 'paid' : outcome.status,
  });
  return (await findOrder(handle.db, key.orderId))!;
}

describe('what a settle records on the order', () => {
  it('succeeded: names the PaymentIntent, records the payment and the amount taken, and no hold', async () => {
    const paymentIntentId = newPaymentIntentId();
    const order = await settle(await processingAttempt(), { status: 'succeeded', paymentIntentId });
    expect(order).toMatchObject({ status: 'paid', paymentIntentId, capturedAmount: 700, authorizedAt: null });
    // Written by the settle's own statement: the same transaction time as its updated_at.
    expect(order.paidAt).toEqual(order.updatedAt);
  });

  it('succeeded with less received (a partial capture): the amount taken is what was received', async () => {
    const paymentIntentId = newPaymentIntentId();
    const order = await settle(await processingAttempt(), {
      status: 'succeeded',
      paymentIntentId,
      amountReceived: 500,
    });
    expect(order).toMatchObject({ status: 'paid', paymentIntentId, capturedAmount: 500, authorizedAt: null });
  });

  it('authorized: names the PaymentIntent and when the hold began, but records no payment', async () => {
    const paymentIntentId = newPaymentIntentId();
    const order = await settle(await processingAttempt('manual'), { status: 'authorized', paymentIntentId });
    expect(order).toMatchObject({
      status: 'authorized',
      paymentIntentId,
      paidAt: null,
      capturedAmount: null,
    });
    expect(order.authorizedAt).toEqual(order.updatedAt);
  });

  it('failed: names no PaymentIntent (though the provider gave one) and records neither payment nor hold', async () => {
    const paymentIntentId = newPaymentIntentId();
    const key = await processingAttempt();
    const order = await settle(key, {
      status: 'failed',
      paymentIntentId,
      errorCode: 'card_declined',
      declineCode: 'generic_decline',
    });
    expect(order).toMatchObject({
      status: 'failed',
      paymentIntentId: null,
      paidAt: null,
      capturedAmount: null,
      authorizedAt: null,
    });
    // The PaymentIntent is recorded where it belongs: on the attempt that made it.
    const [attempt] =
      await handle.sql`select status, payment_intent_id, error_code from payment_attempts where id = ${key.attemptId}`;
    expect(attempt).toEqual({
      status: 'failed',
      payment_intent_id: paymentIntentId,
      error_code: 'card_declined',
    });
  });

  it('requires_action: names no PaymentIntent on the order until the challenge ends in a charge', async () => {
    const paymentIntentId = newPaymentIntentId();
    const key = await processingAttempt();
    const challenged = await settle(key, {
      status: 'requires_action',
      paymentIntentId,
      actionUrl: 'https://bank.example/challenge',
    });
    expect(challenged).toMatchObject({
      status: 'requires_action',
      paymentIntentId: null,
      paidAt: null,
      capturedAmount: null,
      authorizedAt: null,
    });
    const paid = await settle(key, { status: 'succeeded', paymentIntentId });
    expect(paid).toMatchObject({ status: 'paid', paymentIntentId, capturedAmount: 700, authorizedAt: null });
  });
});
