import { DEFAULT_RECOVERY_POLICY, type PaymentsDeps, runRecovery } from '@chargeonce/payments';
import type { FaultRule } from '@chargeonce/stripe-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';

/**
 * One test per provider fault class, through the real server: the pay never reports a failure it
 * cannot know, and after recovery there is exactly one charge and a paid order.
 */
let env: InProcess;
let deps: PaymentsDeps;
beforeAll(async () => {
  env = await startInProcess({
    // No SDK retries, so each fault reaches chargeonce as it is.
    STRIPE_MAX_NETWORK_RETRIES: '0',
    STRIPE_TIMEOUT_MS: '500',
    CHARGEONCE_PAY_DEADLINE_MS: '500',
    CHARGEONCE_RECOVERY_INTERVAL_MS: '0',
  });
  deps = env.paymentsDeps('faults-test');
});
afterAll(async () => {
  await env?.stop();
});

/** Pays one order with `fault` applied to its creates; returns what the payer was told. */
async function payUnder(fault: Omit<FaultRule, 'operation' | 'metadata'>) {
  const { client } = await env.newUser();
  const order = await client.orders.create.mutate({
    amount: 5100,
    currency: 'usd',
    paymentMethodId: 'pm_card_visa',
  });
  env.emulator.setFaults([
    { ...fault, operation: 'payment_intents.create', metadata: { order_id: order.id } },
  ]);
  try {
    const result = await client.orders.pay.mutate({ orderId: order.id });
    return { client, order, result };
  } finally {
    env.emulator.clearFaults();
  }
}

async function recoverAndExpectOneCharge(orderId: string) {
  const report = await runRecovery(deps, { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 });
  expect(report.results.succeeded).toBe(1);
  const intents = env.paymentIntentsFor(orderId).filter((pi) => pi.status === 'succeeded');
  expect(intents).toHaveLength(1);
  const [row] = await env.db.sql`select status, payment_intent_id from orders where id = ${orderId}`;
  expect(row).toMatchObject({ status: 'paid', payment_intent_id: intents[0]!.id });
}

describe('provider faults', () => {
  it('5xx before executing: processing, nothing charged; recovery charges once', async () => {
    const { order, result } = await payUnder({ fault: 'error_before', times: 1 });
    expect(result.outcome).toBe('processing');
    expect(env.paymentIntentsFor(order.id)).toHaveLength(0);
    await recoverAndExpectOneCharge(order.id);
  });

  it('5xx after executing (replayed for the key): processing; recovery finds the charge by metadata', async () => {
    const { order, result } = await payUnder({ fault: 'error_after' });
    expect(result.outcome).toBe('processing');
    expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
    // The fault stays on: repeating the create replays the stored 5xx, as Stripe does.
    env.emulator.setFaults([
      { fault: 'error_after', operation: 'payment_intents.create', metadata: { order_id: order.id } },
    ]);
    try {
      await recoverAndExpectOneCharge(order.id);
    } finally {
      env.emulator.clearFaults();
    }
  });

  it('connection reset after the charge (response lost): processing; recovery replays the key, one charge', async () => {
    // Twice: stripe-node retries a reset connection once even with retries off.
    const { order, result } = await payUnder({ fault: 'reset_after', times: 2 });
    expect(result.outcome).toBe('processing');
    expect(env.paymentIntentsFor(order.id)).toHaveLength(1);
    await recoverAndExpectOneCharge(order.id);
  });

  it('a hang past the client timeout that executes later: processing; one charge after recovery', async () => {
    const { order, result } = await payUnder({ fault: 'hang', ms: 1_500, times: 1 });
    expect(result.outcome).toBe('processing');
    await expect
      .poll(() => env.paymentIntentsFor(order.id).length === 1, { message: 'the late charge' })
      .toBe(true);
    await recoverAndExpectOneCharge(order.id);
  });

  it('409 idempotency_key_in_use: processing, nothing charged; recovery charges once', async () => {
    const { order, result } = await payUnder({ fault: 'in_use_409', times: 1 });
    expect(result.outcome).toBe('processing');
    expect(env.paymentIntentsFor(order.id)).toHaveLength(0);
    await recoverAndExpectOneCharge(order.id);
  });

  it('latency past the client timeout: processing; the charge lands once; recovery pays the order', async () => {
    const { order, result } = await payUnder({ fault: 'latency', ms: 1_200, times: 1 });
    expect(result.outcome).toBe('processing');
    await expect
      .poll(() => env.paymentIntentsFor(order.id).length === 1, { message: 'the slow charge' })
      .toBe(true);
    await recoverAndExpectOneCharge(order.id);
  });
});
