import type { DbHandle } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import { cancelOrder } from '../src/cancel';
import { captureOrder, voidOrder } from '../src/capture';
import { capturesOf } from '../src/capture-store';
import type { PaymentsDeps } from '../src/deps';
import type { ChargeResult, PaymentGateway } from '../src/gateway';
import { createOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { recordingLogger, unusedRefundsAndCaptures, useDatabase } from './support';

/**
 * What captureOrder / voidOrder answer, and log, in the cases their neighbours leave open: the
 * provider call named in the log, a void refused (VOID_FAILED, not CAPTURE_FAILED), a refusal whose
 * hold cannot be read back (left pending, never reopened), and a void of an order canceled before
 * it was ever paid (not voidable, not already_done). Real PostgreSQL; the provider is scripted.
 */
let handle: DbHandle;
let userId: string;
useDatabase('capture-answers-test', (db) => {
  ({ handle, userId } = db);
});

/** Holds every charge; capture, cancel and retrieve answer what the test scripts. */
function scriptedProvider(script: {
  capture?: () => ChargeResult;
  cancel?: () => ChargeResult;
  retrieve?: (paymentIntentId: string) => ChargeResult;
}) {
  const calls: string[] = [];
  const gateway: PaymentGateway = {
    ...unusedRefundsAndCaptures,
    charge: async (r) => ({
      kind: 'authorized',
      paymentIntentId: `pi_${r.idempotencyKey}`,
      amountCapturable: r.amount,
    }),
    retrieve: async (id) => {
      calls.push('retrieve');
      return script.retrieve?.(id) ?? { kind: 'authorized', paymentIntentId: id, amountCapturable: 1000 };
    },
    capture: async (r) => {
      calls.push('capture');
      return (
        script.capture?.() ?? {
          kind: 'succeeded',
          paymentIntentId: r.paymentIntentId,
          amountReceived: r.amount ?? 1000,
        }
      );
    },
    cancel: async (r) => {
      calls.push('cancel');
      return (
        script.cancel?.() ?? {
          kind: 'canceled',
          paymentIntentId: r.paymentIntentId,
          reason: 'requested_by_customer',
        }
      );
    },
    findByAttempt: () => Promise.reject(new Error('not used')),
    listPaymentIntents: () => {
      throw new Error('not used');
    },
  };
  return { gateway, calls };
}

const merchant = { kind: 'service' as const, id: '00000000-0000-4000-8000-000000000001' };
const deps = (gateway: PaymentGateway, extra: Partial<PaymentsDeps> = {}): PaymentsDeps => ({
  db: handle.db,
  gateway,
  instanceId: 'unit',
  ...extra,
});

async function pendingOrder() {
  return createOrder(handle.db, {
    userId,
    amount: 1000,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
    captureMethod: 'manual',
  });
}

async function authorizedOrder(gateway: PaymentGateway) {
  const order = await pendingOrder();
  expect((await payOrder(deps(gateway), { orderId: order.id, userId })).outcome).toBe('authorized');
  return order;
}

describe('the provider call in the log', () => {
  it('a capture logs "stripe paymentIntents.capture" and a void "stripe paymentIntents.cancel", with the row and its key', async () => {
    const { gateway } = scriptedProvider({});
    for (const [take, op] of [
      [captureOrder, 'capture'],
      [voidOrder, 'cancel'],
    ] as const) {
      const order = await authorizedOrder(gateway);
      const { logger, entries } = recordingLogger(['info']);
      const answer = await take(deps(gateway, { logger }), {
        orderId: order.id,
        userId,
        requestedBy: merchant,
      });
      expect(answer.outcome).toBe('done');
      expect(entries.filter((e) => e.msg.startsWith('stripe paymentIntents.'))).toEqual([
        {
          level: 'info',
          msg: `stripe paymentIntents.${op}`,
          orderId: order.id,
          captureId: answer.capture!.id,
          idempotencyKey: answer.capture!.idempotencyKey,
        },
      ]);
    }
  });
});

describe('a refusal', () => {
  it('a void refused with the hold still open is VOID_FAILED with its code; the order is authorized again', async () => {
    const { gateway } = scriptedProvider({
      cancel: () => ({ kind: 'rejected', code: 'payment_intent_unexpected_state', message: 'no' }),
    });
    const order = await authorizedOrder(gateway);
    await expect(
      voidOrder(deps(gateway), { orderId: order.id, userId, requestedBy: merchant }),
    ).rejects.toMatchObject({
      code: 'VOID_FAILED',
      details: { reason: 'payment_intent_unexpected_state', status: 'authorized' },
    });
    expect((await capturesOf(handle.db, order.id)).map((c) => [c.kind, c.status])).toEqual([
      ['void', 'failed'],
    ]);
  });

  it('a capture refused whose hold cannot be read back stays pending (capturing), logged for recovery, never reopened', async () => {
    const { gateway, calls } = scriptedProvider({
      capture: () => ({ kind: 'rejected', code: 'amount_too_small', message: 'too small' }),
      retrieve: () => ({ kind: 'unknown', reason: 'timeout' }),
    });
    const order = await authorizedOrder(gateway);
    const { logger, entries } = recordingLogger(['warn']);
    const answer = await captureOrder(deps(gateway, { logger }), {
      orderId: order.id,
      userId,
      requestedBy: merchant,
    });
    expect(answer).toMatchObject({
      outcome: 'pending',
      order: { status: 'capturing' },
      capture: { kind: 'capture', status: 'pending' },
    });
    expect(calls).toEqual(['capture', 'retrieve']);
    expect(entries).toEqual([
      {
        level: 'warn',
        msg: 'capture outcome unknown; left pending for recovery',
        orderId: order.id,
        captureId: answer.capture!.id,
        reason: 'rejected',
      },
    ]);
  });
});

describe('voidOrder on an order that was never authorized', () => {
  it('an order canceled before it was paid is ORDER_NOT_VOIDABLE (canceled), not already_done', async () => {
    const { gateway, calls } = scriptedProvider({});
    const order = await pendingOrder();
    expect((await cancelOrder(handle.db, { orderId: order.id, userId })).outcome).toBe('canceled');
    await expect(
      voidOrder(deps(gateway), { orderId: order.id, userId, requestedBy: merchant }),
    ).rejects.toMatchObject({
      code: 'ORDER_NOT_VOIDABLE',
      details: { status: 'canceled' },
    });
    expect(calls).toEqual([]);
  });
});
