import type Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import { type StripeEmulator, startStripeEmulator } from '../src/index';
import { raw, stripeFor, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), {
  reset: true,
  beforeEach: (e) => e.setIdempotencyKeyTtl(null),
});

const charge: Stripe.PaymentIntentCreateParams = {
  amount: 4200,
  currency: 'usd',
  payment_method: 'pm_card_visa',
  confirm: true,
  metadata: { order_id: 'ord_prune' },
};

describe('idempotency-key pruning', () => {
  it('a request reusing a pruned key executes again: a second PaymentIntent (the double charge to avoid)', async () => {
    const first = await stripe.paymentIntents.create(charge, { idempotencyKey: 'attempt-1' });
    expect(emulator.pruneIdempotencyKeys(60_000)).toBe(0); // not that old yet
    const replay = await stripe.paymentIntents.create(charge, { idempotencyKey: 'attempt-1' });
    expect(replay.id).toBe(first.id);

    expect(emulator.pruneIdempotencyKeys()).toBe(1); // no TTL: default age 0 = every completed key
    const again = await stripe.paymentIntents.create(charge, { idempotencyKey: 'attempt-1' });
    expect(again.id).not.toBe(first.id);
    expect(again.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(emulator.paymentIntents().map((pi) => [pi.idempotency_key, pi.status])).toEqual([
      ['attempt-1', 'succeeded'],
      ['attempt-1', 'succeeded'],
    ]);
  });

  it('forgets keys past idempotencyKeyTtlMs (start option; 0 = immediately)', async () => {
    const short = await startStripeEmulator({ idempotencyKeyTtlMs: 0 });
    try {
      const client = stripeFor(short);
      const a = await client.paymentIntents.create(charge, { idempotencyKey: 'k' });
      const b = await client.paymentIntents.create(charge, { idempotencyKey: 'k' });
      expect(b.id).not.toBe(a.id);
      expect(short.paymentIntents()).toHaveLength(2);
    } finally {
      await short.close();
    }
  });

  it('is controllable over HTTP: TTL in /_emulator/config, pruning at /_emulator/idempotency_keys/prune', async () => {
    const json = { 'Content-Type': 'application/json' };
    await stripe.paymentIntents.create(charge, { idempotencyKey: 'k1' });
    await stripe.paymentIntents.create(charge, { idempotencyKey: 'k2' });
    const none = await raw(emulator, '/_emulator/idempotency_keys/prune', {
      method: 'POST',
      auth: null,
      headers: json,
      body: '{"olderThanMs": 86400000}',
    });
    expect(none.json).toEqual({ pruned: 0 });
    const all = await raw(emulator, '/_emulator/idempotency_keys/prune', { method: 'POST', auth: null });
    expect(all.json).toEqual({ pruned: 2 });

    const config = await raw(emulator, '/_emulator/config', {
      method: 'POST',
      auth: null,
      headers: json,
      body: '{"idempotencyKeyTtlMs": 0}',
    });
    expect(config.json).toMatchObject({ idempotencyKeyTtlMs: 0 });
    const a = await stripe.paymentIntents.create(charge, { idempotencyKey: 'k3' });
    const b = await stripe.paymentIntents.create(charge, { idempotencyKey: 'k3' });
    expect(b.id).not.toBe(a.id);
    const bad = await raw(emulator, '/_emulator/config', {
      method: 'POST',
      auth: null,
      headers: json,
      body: '{"idempotencyKeyTtlMs": -5}',
    });
    expect(bad.status).toBe(400);
  });
});
