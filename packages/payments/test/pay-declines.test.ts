import type { DbHandle } from '@chargeonce/db';
import { paymentAttempts } from '@chargeonce/db';
import { eq, sql } from 'drizzle-orm';
import { describe, expect, it, vi } from 'vitest';
import { DEFAULT_PAY_POLICY, type PaymentsDeps } from '../src/deps';
import { DomainError } from '../src/errors';
import type { ChargeRequest, ChargeResult, PaymentGateway } from '../src/gateway';
import { createOrder } from '../src/orders';
import { payOrder } from '../src/pay';
import { unusedRefundsAndCaptures, useDatabase } from './support';

/**
 * Declines under concurrency, on real PostgreSQL: a burst of pays with one payment method reaches
 * the provider once and every caller gets that attempt's decline; a new attempt needs another
 * payment method or the cool-down to pass. Decided in the database (no in-memory state).
 */
let handle: DbHandle;
let userId: string;
useDatabase(
  'declines',
  (db) => {
    ({ handle, userId } = db);
  },
  { max: 8 },
);

/** A gateway whose charges are held until `release()`, then answered by card. */
function heldGateway() {
  const charges: ChargeRequest[] = [];
  let release!: () => void;
  let gate = new Promise<void>((r) => {
    release = r;
  });
  const gateway: PaymentGateway = {
    ...unusedRefundsAndCaptures,
    async charge(request): Promise<ChargeResult> {
      charges.push(request);
      await gate;
      return request.paymentMethodId === 'pm_card_chargeDeclined'
        ? {
            kind: 'declined',
            paymentIntentId: `pi_${request.idempotencyKey}`,
            code: 'card_declined',
            declineCode: 'generic_decline',
            message: 'Your card was declined.',
          }
        : { kind: 'succeeded', paymentIntentId: `pi_${request.idempotencyKey}` };
    },
    retrieve: () => Promise.reject(new Error('not used')),
    findByAttempt: () => Promise.reject(new Error('not used')),
    listPaymentIntents: () => {
      throw new Error('not used');
    },
  };
  return {
    gateway,
    charges,
    release: () => release(),
    hold: () => {
      gate = new Promise<void>((r) => {
        release = r;
      });
    },
  };
}

const deps = (gateway: PaymentGateway, overrides: Partial<PaymentsDeps> = {}): PaymentsDeps => ({
  db: handle.db,
  gateway,
  instanceId: 'declines',
  ...overrides,
});
const declinedOrder = () =>
  createOrder(handle.db, { userId, amount: 900, currency: 'usd', paymentMethodId: 'pm_card_chargeDeclined' });
const isDecline = (err: unknown) =>
  err instanceof DomainError &&
  err.details.code === 'PAYMENT_DECLINED' &&
  err.details.declineCode === 'generic_decline';
const attempts = (orderId: string) =>
  handle.db.select().from(paymentAttempts).where(eq(paymentAttempts.orderId, orderId));

describe('a declining card', () => {
  it('a burst during the charge and a burst after the decline: one provider call, every caller declined', async () => {
    const provider = heldGateway();
    const order = await declinedOrder();
    const during = Array.from({ length: 10 }, () =>
      payOrder(deps(provider.gateway), { orderId: order.id, userId }).then(
        () => 'resolved',
        (err: unknown) => err,
      ),
    );
    await vi.waitFor(() => expect(provider.charges).toHaveLength(1));
    provider.release();
    for (const result of await Promise.all(during)) expect(isDecline(result), String(result)).toBe(true);
    // Arriving after the decline was recorded: the same decline, not another charge of the same card.
    const after = await Promise.allSettled(
      Array.from({ length: 10 }, () => payOrder(deps(provider.gateway), { orderId: order.id, userId })),
    );
    for (const r of after) expect(r.status === 'rejected' && isDecline(r.reason)).toBe(true);
    expect(provider.charges).toHaveLength(1);
    expect(await attempts(order.id)).toHaveLength(1);
  });

  it('the harness can fail: with the cool-down off, the burst after the decline charges the card again', async () => {
    const provider = heldGateway();
    provider.release();
    const order = await declinedOrder();
    const off = (gateway: PaymentGateway) =>
      deps(gateway, { policy: { ...DEFAULT_PAY_POLICY, declineCooldownMs: 0 } });
    await expect(payOrder(off(provider.gateway), { orderId: order.id, userId })).rejects.toSatisfy(isDecline);
    await Promise.allSettled(
      Array.from({ length: 5 }, () => payOrder(off(provider.gateway), { orderId: order.id, userId })),
    );
    expect(provider.charges.length).toBeGreaterThan(1);
  });

  it('another payment method, or the same one after the cool-down, is a new attempt', async () => {
    const provider = heldGateway();
    provider.release();
    const order = await declinedOrder();
    await expect(payOrder(deps(provider.gateway), { orderId: order.id, userId })).rejects.toSatisfy(
      isDecline,
    );
    await expect(payOrder(deps(provider.gateway), { orderId: order.id, userId })).rejects.toSatisfy(
      isDecline,
    );
    expect(provider.charges).toHaveLength(1);
    // The cool-down is measured from the decline, by the database clock.
    await handle.db
      .update(paymentAttempts)
      .set({ completedAt: sql`now() - interval '11 seconds'` })
      .where(eq(paymentAttempts.orderId, order.id));
    await expect(payOrder(deps(provider.gateway), { orderId: order.id, userId })).rejects.toSatisfy(
      isDecline,
    );
    expect(provider.charges).toHaveLength(2);
    const paid = await payOrder(deps(provider.gateway), {
      orderId: order.id,
      userId,
      paymentMethodId: 'pm_card_visa',
    });
    expect(paid.outcome).toBe('charged');
    expect(provider.charges.map((c) => c.paymentMethodId)).toEqual([
      'pm_card_chargeDeclined',
      'pm_card_chargeDeclined',
      'pm_card_visa',
    ]);
  });

  it('a caller that waited answers with the attempt it waited on, not with a newer one in flight', async () => {
    const first = heldGateway();
    const order = await declinedOrder();
    const payer = payOrder(deps(first.gateway), { orderId: order.id, userId }).catch((err: unknown) => err);
    await vi.waitFor(() => expect(first.charges).toHaveLength(1));
    // The waiter sees the first attempt in flight, then sleeps until we let it look again.
    let wake!: () => void;
    const woken = new Promise<void>((r) => {
      wake = r;
    });
    let sleeping = false;
    const waiter = payOrder(
      deps(first.gateway, {
        sleep: async () => {
          sleeping = true;
          await woken;
        },
      }),
      { orderId: order.id, userId },
    ).catch((err: unknown) => err);
    await vi.waitFor(() => expect(sleeping).toBe(true));
    first.release();
    expect(isDecline(await payer)).toBe(true);
    // Meanwhile someone pays with another card: a newer attempt is in flight when the waiter looks.
    const second = heldGateway();
    const other = payOrder(deps(second.gateway), {
      orderId: order.id,
      userId,
      paymentMethodId: 'pm_card_visa',
    });
    await vi.waitFor(() => expect(second.charges).toHaveLength(1));
    wake();
    expect(isDecline(await waiter), String(await waiter)).toBe(true);
    second.release();
    expect((await other).outcome).toBe('charged');
  });
});
