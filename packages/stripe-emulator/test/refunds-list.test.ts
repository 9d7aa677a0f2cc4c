import Stripe from 'stripe';
import { describe, expect, it, vi } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf, stripeFor, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true, clearFaults: true });

const paid = (amount = 5000) =>
  stripe.paymentIntents.create({ amount, currency: 'usd', payment_method: 'pm_card_visa', confirm: true });

describe('GET /v1/refunds', () => {
  it('lists newest first, filters by payment_intent and charge, and pages with cursors', async () => {
    const one = await paid();
    const two = await paid();
    const refunds: Stripe.Refund[] = [];
    for (const [pi, amount] of [
      [one, 100],
      [two, 200],
      [one, 300],
      [two, 400],
      [one, 500],
    ] as const) {
      refunds.push(await stripe.refunds.create({ payment_intent: pi.id, amount }));
    }
    const ids = (list: { data: Stripe.Refund[] }) => list.data.map((r) => r.amount);

    const all = await stripe.refunds.list();
    expect(all).toMatchObject({ object: 'list', has_more: false, url: '/v1/refunds' });
    expect(ids(all)).toEqual([500, 400, 300, 200, 100]);
    expect(ids(await stripe.refunds.list({ payment_intent: one.id }))).toEqual([500, 300, 100]);
    expect(ids(await stripe.refunds.list({ charge: two.latest_charge as string }))).toEqual([400, 200]);
    expect(ids(await stripe.refunds.list({ payment_intent: 'pi_other' }))).toEqual([]);

    const page = await stripe.refunds.list({ limit: 2 });
    expect(ids(page)).toEqual([500, 400]);
    expect(page.has_more).toBe(true);
    const next = await stripe.refunds.list({ limit: 2, starting_after: page.data[1]?.id });
    expect(ids(next)).toEqual([300, 200]);
    const back = await stripe.refunds.list({ limit: 2, ending_before: next.data[0]?.id });
    expect(ids(back)).toEqual([500, 400]);
    // The SDK's auto-pagination walks the same cursors.
    const walked: number[] = [];
    for await (const refund of stripe.refunds.list({ payment_intent: one.id, limit: 1 }))
      walked.push(refund.amount);
    expect(walked).toEqual([500, 300, 100]);

    const created = refunds[0]?.created ?? 0;
    expect(ids(await stripe.refunds.list({ created: { gte: created } }))).toHaveLength(5);
    expect(ids(await stripe.refunds.list({ created: { lt: created } }))).toEqual([]);
  });

  it('validates its parameters as the other lists do', async () => {
    const unknown = await rejectionOf(
      stripe.refunds.list({ status: 'succeeded' } as unknown as Stripe.RefundListParams),
    );
    expect(unknown).toMatchObject({ statusCode: 400, code: 'parameter_unknown', param: 'status' });
    const cursor = await rejectionOf(stripe.refunds.list({ starting_after: 're_gone' }));
    expect(cursor).toMatchObject({
      statusCode: 400,
      code: 'resource_missing',
      param: 'starting_after',
      message: "No such refund: 're_gone'",
    });
    const limit = await rejectionOf(stripe.refunds.list({ limit: 101 }));
    expect(limit).toMatchObject({ statusCode: 400, param: 'limit' });
  });
});

describe('idempotency of refunds', () => {
  it('replays a refund with Idempotent-Replayed: true and refunds once', async () => {
    const pi = await paid();
    const params = { payment_intent: pi.id, amount: 1200, metadata: { order_id: 'ord_idem' } };
    const first = await stripe.refunds.create(params, { idempotencyKey: 'refund-once' });
    const second = await stripe.refunds.create(params, { idempotencyKey: 'refund-once' });
    expect(first.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(second.lastResponse.headers['idempotent-replayed']).toBe('true');
    expect(second.lastResponse.headers['original-request']).toBe(first.lastResponse.requestId);
    expect({ ...second }).toEqual({ ...first });
    expect(emulator.refunds()).toMatchObject([{ id: first.id, idempotency_key: 'refund-once' }]);
    expect(emulator.events().filter((e) => e.type === 'refund.created')).toHaveLength(1);
  });

  it('rejects the key with other parameters (400 idempotency_error)', async () => {
    const pi = await paid();
    await stripe.refunds.create({ payment_intent: pi.id, amount: 100 }, { idempotencyKey: 'refund-k' });
    const err = await rejectionOf(
      stripe.refunds.create({ payment_intent: pi.id, amount: 200 }, { idempotencyKey: 'refund-k' }),
    );
    expect(err).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(err).toMatchObject({ statusCode: 400, rawType: 'idempotency_error' });
    // A key first used for a PaymentIntent cannot create a refund either (another path).
    await stripe.paymentIntents.create({ amount: 500, currency: 'usd' }, { idempotencyKey: 'pi-k' });
    const otherPath = await rejectionOf(
      stripe.refunds.create({ payment_intent: pi.id, amount: 100 }, { idempotencyKey: 'pi-k' }),
    );
    expect(otherPath).toBeInstanceOf(Stripe.errors.StripeIdempotencyError);
    expect(emulator.refunds()).toHaveLength(1);
  });

  it('answers 409 while the first request with the key is still executing', async () => {
    const pi = await paid();
    emulator.setFaults([{ operation: 'refunds.create', fault: 'hang', ms: 400, times: 1 }]);
    const params = { payment_intent: pi.id, amount: 300 };
    const slow = stripe.refunds.create(params, { idempotencyKey: 'refund-busy' });
    await vi.waitFor(() => expect(emulator.faultStatus().rules[0]?.applied).toBe(1));
    const busy = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'refund-busy' }));
    expect(busy).toMatchObject({ statusCode: 409, code: 'idempotency_key_in_use' });
    const first = await slow;
    const replay = await stripe.refunds.create(params, { idempotencyKey: 'refund-busy' });
    expect(replay.id).toBe(first.id);
    expect(emulator.refunds()).toHaveLength(1);
  });

  it('scopes keys per secret key, as for PaymentIntents', async () => {
    const pi = await paid();
    const other = stripeFor(emulator, {}, 'sk_test_another_account_key_0000');
    const a = await stripe.refunds.create(
      { payment_intent: pi.id, amount: 100 },
      { idempotencyKey: 'shared' },
    );
    const b = await other.refunds.create(
      { payment_intent: pi.id, amount: 100 },
      { idempotencyKey: 'shared' },
    );
    expect(b.id).not.toBe(a.id);
    const raws = await raw(emulator, `/v1/refunds?payment_intent=${pi.id}`);
    expect(raws.json.data).toHaveLength(2);
  });
});
