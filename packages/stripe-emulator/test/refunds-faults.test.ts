import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Stripe from 'stripe';
import { afterAll, describe, expect, it } from 'vitest';
import { type StripeEmulator, startStripeEmulator } from '../src/index';
import { raw, rejectionOf, stripeFor, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;
const dir = mkdtempSync(join(tmpdir(), 'stripe-emulator-refunds-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

useEmulator((e) => ({ emulator, stripe } = e), { reset: true, clearFaults: true });

const paid = (payment_method = 'pm_card_visa') =>
  stripe.paymentIntents.create({ amount: 5000, currency: 'usd', payment_method, confirm: true });

describe('faults on refunds', () => {
  it('error_after: the refund is made, the answer is a 5xx, and the key replays that 5xx', async () => {
    const pi = await paid();
    emulator.setFaults([{ operation: 'refunds.create', fault: 'error_after', status: 502, times: 1 }]);
    const params = { payment_intent: pi.id, amount: 1500 };
    const err = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'refund-after' }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeAPIError);
    expect(err).toMatchObject({ statusCode: 502 });
    expect(emulator.refunds()).toMatchObject([
      { amount: 1500, status: 'succeeded', idempotency_key: 'refund-after' },
    ]);

    const replay = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'refund-after' }));
    expect(replay).toMatchObject({ statusCode: 502 });
    expect(replay.headers?.['idempotent-replayed']).toBe('true');
    expect(emulator.refunds()).toHaveLength(1);
    // A recovery worker finds the refund by listing the PaymentIntent's refunds.
    const found = await stripe.refunds.list({ payment_intent: pi.id });
    expect(found.data.map((r) => r.id)).toEqual([emulator.refunds()[0]?.id]);
  });

  it('reset_after: the refund is made, the response lost, and a retry with the key replays it', async () => {
    const pi = await paid();
    // times: 2 — stripe-node retries a closed connection once itself; that replay is lost too.
    emulator.setFaults([{ operation: 'refunds.create', fault: 'reset_after', times: 2 }]);
    const err = await rejectionOf(
      stripe.refunds.create({ payment_intent: pi.id }, { idempotencyKey: 'refund-reset' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeConnectionError);
    const retry = await stripe.refunds.create({ payment_intent: pi.id }, { idempotencyKey: 'refund-reset' });
    expect(retry.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(emulator.refunds().map((r) => r.id)).toEqual([retry.id]);
  });

  it('error_before: nothing is refunded and a retry with the key executes', async () => {
    const pi = await paid();
    emulator.setFaults([
      { operation: 'refunds.create', fault: 'error_before', status: 503, metadata: { order_id: 'o1' } },
    ]);
    const params = { payment_intent: pi.id, metadata: { order_id: 'o1' } };
    const err = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'refund-before' }));
    expect(err).toMatchObject({ statusCode: 503 });
    expect(err.headers?.['stripe-should-retry']).toBe('true');
    expect(emulator.refunds()).toEqual([]);
    emulator.clearFaults();
    const retry = await stripe.refunds.create(params, { idempotencyKey: 'refund-before' });
    expect(retry.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(emulator.refunds()).toHaveLength(1);
  });

  it('covers refunds.retrieve and refunds.list by name', async () => {
    const refund = await stripe.refunds.create({ payment_intent: (await paid()).id });
    emulator.setFaults([
      { operation: ['refunds.retrieve', 'refunds.list'], fault: 'error_before', times: 2 },
    ]);
    expect(await rejectionOf(stripe.refunds.retrieve(refund.id))).toMatchObject({ statusCode: 500 });
    expect(await rejectionOf(stripe.refunds.list())).toMatchObject({ statusCode: 500 });
    expect((await stripe.refunds.retrieve(refund.id)).id).toBe(refund.id);
    expect(emulator.faultStatus().log.map((f) => f.operation)).toEqual(['refunds.retrieve', 'refunds.list']);
  });
});

describe('refunds in the ledger', () => {
  it('refunds() and GET /_emulator/refunds list them in creation order, filtered', async () => {
    const one = await paid();
    const two = await paid('pm_card_refundFail');
    emulator.setRefundDelay(60_000); // stays succeeded for this test
    const a = await stripe.refunds.create({ payment_intent: one.id, amount: 100, metadata: { k: 'a' } });
    const b = await stripe.refunds.create({ payment_intent: two.id, amount: 200, metadata: { k: 'b' } });
    expect(emulator.refunds().map((r) => r.id)).toEqual([a.id, b.id]);
    const ledger = await raw(emulator, '/_emulator/refunds', { auth: null });
    expect(ledger.json.data).toEqual(emulator.refunds());
    const byIntent = await raw(emulator, `/_emulator/refunds?payment_intent=${two.id}`, { auth: null });
    expect(byIntent.json.data.map((r: { id: string }) => r.id)).toEqual([b.id]);
    const byMetadata = await raw(emulator, '/_emulator/refunds?metadata[k]=a&status=succeeded', {
      auth: null,
    });
    expect(byMetadata.json.data.map((r: { id: string }) => r.id)).toEqual([a.id]);

    const config = await raw(emulator, '/_emulator/config', {
      method: 'POST',
      auth: null,
      body: JSON.stringify({ refundDelayMs: 5 }),
    });
    expect(config.json).toMatchObject({ refundDelayMs: 5 });
    const bad = await raw(emulator, '/_emulator/config', {
      method: 'POST',
      auth: null,
      body: '{"refundDelayMs":-1}',
    });
    expect(bad.status).toBe(400);
    emulator.reset(); // also cancels the pending settle of b
    expect(emulator.refunds()).toEqual([]);
    expect(await drained(emulator)).toBe(true);
  });
});

describe('refunds in the state file', () => {
  it('are saved and restored: ids, keys, and a refund still waiting to settle', async () => {
    const stateFile = join(dir, 'refunds.json');
    const first = await startStripeEmulator({ stateFile, refundDelayMs: 400 });
    const client = stripeFor(first);
    const pi = await client.paymentIntents.create({
      amount: 5000,
      currency: 'usd',
      payment_method: 'pm_card_pendingRefund',
      confirm: true,
    });
    const done = await client.refunds.create(
      { payment_intent: pi.id, amount: 1000 },
      { idempotencyKey: 'r-1' },
    );
    await first.close(); // `done` is still pending: it settles after the restart, at its saved time
    expect(done.status).toBe('pending');

    const second = await startStripeEmulator({ stateFile });
    try {
      const again = stripeFor(second);
      expect(second.refunds()).toMatchObject([{ id: done.id, status: 'pending', idempotency_key: 'r-1' }]);
      const replay = await again.refunds.create(
        { payment_intent: pi.id, amount: 1000 },
        { idempotencyKey: 'r-1' },
      );
      expect(replay.id).toBe(done.id);
      expect(replay.lastResponse.headers['idempotent-replayed']).toBe('true');
      // The restored refund still holds its amount back from the charge.
      const over = await rejectionOf(again.refunds.create({ payment_intent: pi.id, amount: 4001 }));
      expect(over.message).toBe(
        'Refund amount ($40.01) is greater than unrefunded amount on charge ($40.00)',
      );
      await second.drainWebhooks();
      expect((await again.refunds.retrieve(done.id)).status).toBe('succeeded');
      expect(second.events().map((e) => e.type)).toContain('charge.refunded');
    } finally {
      await second.close();
    }
  });

  it('loads a state file written before refunds existed', async () => {
    const stateFile = join(dir, 'old.json');
    const first = await startStripeEmulator({ stateFile });
    await first.close();
    const { refunds: _refunds, ...old } = JSON.parse(readFileSync(stateFile, 'utf8'));
    writeFileSync(stateFile, JSON.stringify(old));
    const second = await startStripeEmulator({ stateFile });
    expect(second.refunds()).toEqual([]);
    await second.close();
  });
});

function drained(e: StripeEmulator): Promise<boolean> {
  return e.drainWebhooks(1000).then(
    () => true,
    () => false,
  );
}
