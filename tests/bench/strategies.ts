import { randomUUID } from 'node:crypto';
import { type Database, orders } from '@chargeonce/db';
import { type PaymentGateway, payOrder } from '@chargeonce/payments';
import { eq } from 'drizzle-orm';
import { chargeBlindly, markPaid, naivePay } from '../support/naive-pay';
import type { BenchEnv } from './environment';
import { floorPay } from './floor';

/** One way of paying an order; resolves with the outcome, rejects on anything unexpected. */
export type PayFn = (orderId: string) => Promise<string>;

export const STRATEGIES = ['optimistic', 'pessimistic', 'naive'] as const;
export type StrategyName = (typeof STRATEGIES)[number];

/**
 * A provider whose charge answers at once without I/O: isolates our code from the SDK and the
 * emulator. Only `charge` is on the pay path; the rest is the real gateway's.
 */
export function stubGateway(real: PaymentGateway): PaymentGateway {
  let n = 0;
  return { ...real, charge: async () => ({ kind: 'succeeded', paymentIntentId: `pi_stub_${++n}` }) };
}

/** The product: `payOrder` from packages/payments, exactly as the server calls it. */
export function optimistic(env: BenchEnv, gateway: PaymentGateway = env.gateway): PayFn {
  const deps = { db: env.db.db, gateway, instanceId: 'bench' };
  return async (orderId) => (await payOrder(deps, { orderId, userId: env.userId })).outcome;
}

/**
 * The classic fix (bench only, never the product): lock the row with SELECT ... FOR UPDATE and hold
 * the transaction, hence a pooled connection, across the provider call. Safe, but every in-flight
 * pay parks a connection for the provider's whole round trip, and every click on a locked order
 * parks one more while it waits for the lock.
 */
export function pessimistic(env: BenchEnv): PayFn {
  const db: Database = env.db.db;
  return (orderId) =>
    db.transaction(async (tx) => {
      const [order] = await tx.select().from(orders).where(eq(orders.id, orderId)).for('update');
      if (!order) throw new Error(`order ${orderId} not found`);
      if (order.status === 'paid') return 'already_paid';
      await markPaid(tx, orderId, await chargeBlindly(env.gateway, order));
      return 'charged';
    });
}

/**
 * Check-then-act (bench only): read, charge, write. Two pays inside the read-to-write window both
 * pass the check and both charge; the bench must see that in `hot_storm`.
 */
export function naive(env: BenchEnv): PayFn {
  return (orderId) => naivePay(env.db.db, env.gateway, orderId);
}

/**
 * Diagnostic: the provider call alone (the `stripe` SDK to the emulator, no database), i.e. the
 * most any strategy that charges through it could reach on this machine.
 */
export function providerOnly(env: BenchEnv): PayFn {
  return async (orderId) => {
    const result = await env.gateway.charge({
      amount: 1999,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      idempotencyKey: `bench-${randomUUID()}`,
      captureMethod: 'automatic',
      returnUrl: null,
      metadata: { order_id: orderId },
    });
    return result.kind;
  };
}

export function floor(env: BenchEnv): PayFn {
  const pay = floorPay(env.db.db, env.userId);
  return async (orderId) => {
    await pay(orderId);
    return 'charged';
  };
}

export function strategy(env: BenchEnv, name: StrategyName): PayFn {
  switch (name) {
    case 'optimistic':
      return optimistic(env);
    case 'pessimistic':
      return pessimistic(env);
    case 'naive':
      return naive(env);
  }
}
