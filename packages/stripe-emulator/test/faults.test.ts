import Stripe from 'stripe';
import { describe, expect, it, vi } from 'vitest';
import { type FaultPlan, type StripeEmulator, startStripeEmulator } from '../src/index';
import { raw, rejectionOf, stripeFor, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true, clearFaults: true });

const charge = (
  overrides: Partial<Stripe.PaymentIntentCreateParams> = {},
): Stripe.PaymentIntentCreateParams => ({
  amount: 4200,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
  metadata: { order_id: 'ord_1' },
  ...overrides,
});

describe('error_before', () => {
  it('answers 5xx without charging, stores nothing for the key, and a retry executes', async () => {
    emulator.setFaults([
      { operation: 'payment_intents.create', fault: 'error_before', status: 503, times: 1 },
    ]);
    const err = await rejectionOf(stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-before' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err).toMatchObject({ statusCode: 503, type: 'StripeAPIError' });
    expect(err.headers?.['stripe-should-retry']).toBe('true');
    expect(emulator.paymentIntents()).toEqual([]);

    const retry = await stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-before' });
    expect(retry.status).toBe('succeeded');
    expect(retry.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.faultsApplied()).toBe(1);
  });
});

describe('error_after', () => {
  it('charges, answers 5xx, and replays that 5xx for the key', async () => {
    emulator.setFaults([
      { operation: 'payment_intents.create', fault: 'error_after', status: 502, times: 1 },
    ]);
    const err = await rejectionOf(stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-after' }));
    expect(err).toMatchObject({ statusCode: 502, type: 'StripeAPIError' });
    expect(emulator.paymentIntents()).toMatchObject([{ status: 'succeeded', idempotency_key: 'k-after' }]);

    const replay = await rejectionOf(stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-after' }));
    expect(replay).toMatchObject({ statusCode: 502 });
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    expect(emulator.paymentIntents()).toHaveLength(1);
    expect(emulator.faultsApplied()).toBe(1); // the replay is not a new fault
    // The charge is real: it can be found by metadata, as a recovery worker would.
    const found = await stripe.paymentIntents.search({ query: "metadata['order_id']:'ord_1'" });
    expect(found.data.map((pi) => pi.status)).toEqual(['succeeded']);
  });
});

describe('reset_after', () => {
  it('charges, loses the response, and a retry with the key replays the success', async () => {
    // times: 2 — stripe-node retries a closed connection once even with retries off; that retry is a
    // replay, and it is lost too, so the caller sees the connection error.
    emulator.setFaults([{ operation: 'payment_intents.create', fault: 'reset_after', times: 2 }]);
    const err = await rejectionOf(stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-reset' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(emulator.faultsApplied()).toBe(2);
    const [pi] = emulator.paymentIntents();
    expect(pi).toMatchObject({ status: 'succeeded' });

    const retry = await stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-reset' });
    expect(retry.id).toBe(pi?.id);
    expect(retry.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it("with times: 1, the SDK's own reconnect-retry gets the replayed success", async () => {
    emulator.setFaults([{ fault: 'reset_after', times: 1 }]);
    const pi = await stripe.paymentIntents.create(charge());
    expect(pi.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(emulator.paymentIntents().map((p) => p.id)).toEqual([pi.id]);
  });
});

describe('hang', () => {
  it('holds past the client timeout, keeps the key busy (409), then executes: the charge lands late', async () => {
    emulator.setFaults([{ operation: 'payment_intents.create', fault: 'hang', ms: 1500, times: 1 }]);
    const impatient = stripeFor(emulator, { timeout: 100 });
    const err = await rejectionOf(impatient.paymentIntents.create(charge(), { idempotencyKey: 'k-hang' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    expect(emulator.paymentIntents()).toEqual([]);

    const busy = await rejectionOf(stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-hang' }));
    expect(busy).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });

    await vi.waitFor(() => expect(emulator.paymentIntents()).toHaveLength(1), { timeout: 5000 });
    const retry = await stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-hang' });
    expect(retry.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(retry.id).toBe(emulator.paymentIntents()[0]?.id);
  });

  it('without ms, holds until the client gives up and then executes', async () => {
    emulator.setFaults([{ fault: 'hang', times: 1 }]);
    const impatient = stripeFor(emulator, { timeout: 100 });
    const err = await rejectionOf(impatient.paymentIntents.create(charge()));
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    await vi.waitFor(() => expect(emulator.paymentIntents()).toMatchObject([{ status: 'succeeded' }]));
  });
});

describe('latency', () => {
  it('delays only the matching requests', async () => {
    emulator.setFaults([{ fault: 'latency', ms: 150, metadata: { order_id: 'slow' } }]);
    await stripe.paymentIntents.create(charge());
    const started = Date.now();
    await stripe.paymentIntents.create(charge({ metadata: { order_id: 'slow' } }), {
      idempotencyKey: 'k-slow',
    });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);
    const status = emulator.faultStatus();
    expect(status.log).toMatchObject([{ fault: 'latency', idempotencyKey: 'k-slow', ms: 150 }]);
    expect(status.rules).toEqual([{ seen: 1, applied: 1 }]);
    expect(emulator.paymentIntents()).toHaveLength(2);
  });
});

describe('in_use_409', () => {
  it('answers idempotency_key_in_use without executing or storing; keyless requests are not matched', async () => {
    emulator.setFaults([{ fault: 'in_use_409', times: 1 }]);
    // No Idempotency-Key (the SDK keys every POST, so raw HTTP): not matched.
    const keyless = await raw(emulator, '/v1/payment_intents', {
      method: 'POST',
      body: 'amount=500&currency=usd', // (was 5: under Stripe's USD minimum of 50)
    });
    expect(keyless.status).toBe(200);
    const err = await rejectionOf(stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-409' }));
    expect(err).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    expect(err.headers?.['stripe-should-retry']).toBe('true');
    expect(emulator.paymentIntents()).toHaveLength(1);
    const retry = await stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-409' });
    expect(retry.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(emulator.paymentIntents()).toHaveLength(2);
  });
});

/** Fires `n` keyless creates one after another; true where the request failed. */
async function failurePattern(target: StripeEmulator, n: number): Promise<boolean[]> {
  const client = stripeFor(target);
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) {
    out.push(
      await client.paymentIntents.create(charge()).then(
        () => false,
        () => true,
      ),
    );
  }
  return out;
}

describe('rule selection', () => {
  it('is deterministic given a seed (start option, setFaults and a rewind agree)', async () => {
    const plan: FaultPlan = { seed: 7, rules: [{ fault: 'error_before', probability: 0.5 }] };
    const a = await startStripeEmulator({ faults: plan });
    const b = await startStripeEmulator({ seed: 8, faults: plan.rules });
    try {
      const first = await failurePattern(a, 16);
      expect(first).toContain(true);
      expect(first).toContain(false);
      expect(a.faultsApplied()).toBe(first.filter(Boolean).length);
      emulator.setFaults(plan);
      expect(await failurePattern(emulator, 16)).toEqual(first);
      expect(await failurePattern(b, 16)).not.toEqual(first); // another seed, other choices
      a.reset(); // rewinds the plan's PRNG and counters
      expect(await failurePattern(a, 16)).toEqual(first);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('honours nth, times, idempotency-key prefixes and operations', async () => {
    emulator.setFaults([{ operation: 'payment_intents.create', fault: 'error_before', nth: [2, 4] }]);
    expect(await failurePattern(emulator, 5)).toEqual([false, true, false, true, false]);

    emulator.setFaults([{ fault: 'error_before', times: 2 }]);
    expect(await failurePattern(emulator, 4)).toEqual([true, true, false, false]);

    emulator.setFaults([{ fault: 'error_before', idempotencyKeyPrefix: 'recover-' }]);
    await stripe.paymentIntents.create(charge(), { idempotencyKey: 'pay-1' });
    await rejectionOf(stripe.paymentIntents.create(charge(), { idempotencyKey: 'recover-1' }));

    emulator.setFaults([{ operation: ['payment_intents.retrieve'], fault: 'error_before' }]);
    const pi = await stripe.paymentIntents.create(charge());
    expect(await rejectionOf(stripe.paymentIntents.retrieve(pi.id))).toMatchObject({ statusCode: 500 });
    expect(emulator.faultsApplied()).toBe(2 + 2 + 1 + 1);
  });

  it('first firing rule wins; error_after does not fire on a replay', async () => {
    emulator.setFaults([
      { fault: 'error_after', times: 1 },
      { fault: 'latency', ms: 1 },
    ]);
    await stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-first' }).catch(() => {});
    await rejectionOf(stripe.paymentIntents.create(charge(), { idempotencyKey: 'k-first' }));
    expect(emulator.faultStatus().rules).toEqual([
      { seen: 1, applied: 1 },
      { seen: 2, applied: 1 },
    ]);
  });
});

describe('admin /_emulator/faults', () => {
  const json = { 'Content-Type': 'application/json' };

  it('sets, reports and clears a plan; rejects a bad one', async () => {
    const set = await raw(emulator, '/_emulator/faults', {
      method: 'POST',
      auth: null,
      headers: json,
      body: JSON.stringify({
        seed: 3,
        rules: [{ operation: 'payment_intents.create', fault: 'error_before' }],
      }),
    });
    expect(set.status).toBe(200);
    expect(set.json).toMatchObject({ seed: 3, applied: 0, plan: { rules: [{ fault: 'error_before' }] } });
    await rejectionOf(stripe.paymentIntents.create(charge()));
    const got = await raw(emulator, '/_emulator/faults', { auth: null });
    expect(got.json).toMatchObject({ applied: 1, rules: [{ seen: 1, applied: 1 }] });

    const cleared = await raw(emulator, '/_emulator/faults', { method: 'DELETE', auth: null });
    expect(cleared.json).toMatchObject({ plan: null, applied: 1 });
    await stripe.paymentIntents.create(charge());

    for (const body of ['{"rules":[{"fault":"explode"}]}', '{"rules":[{"fault":"latency"}]}', 'nope', '{}']) {
      const bad = await raw(emulator, '/_emulator/faults', {
        method: 'POST',
        auth: null,
        headers: json,
        body,
      });
      expect(bad.status, body).toBe(400);
    }
    expect(() => emulator.setFaults([{ fault: 'hang', probability: 2 }])).toThrow(/probability/);
  });
});
