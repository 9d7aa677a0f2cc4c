import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true });

async function createMany(count: number, metadata: (i: number) => Record<string, string> = () => ({})) {
  const created: Stripe.PaymentIntent[] = [];
  for (let i = 0; i < count; i++) {
    created.push(
      await stripe.paymentIntents.create({ amount: 100 + i, currency: 'usd', metadata: metadata(i) }),
    );
  }
  return created;
}

describe('list', () => {
  it('lists newest first with limit, has_more and cursors', async () => {
    const created = await createMany(5);
    const newestFirst = created.map((pi) => pi.id).reverse();

    const page1 = await stripe.paymentIntents.list({ limit: 2 });
    expect(page1).toMatchObject({ object: 'list', has_more: true, url: '/v1/payment_intents' });
    expect(page1.data.map((pi) => pi.id)).toEqual(newestFirst.slice(0, 2));

    const page2 = await stripe.paymentIntents.list({ limit: 2, starting_after: page1.data[1]?.id });
    expect(page2.data.map((pi) => pi.id)).toEqual(newestFirst.slice(2, 4));
    const page3 = await stripe.paymentIntents.list({ limit: 2, starting_after: page2.data[1]?.id });
    expect(page3.data.map((pi) => pi.id)).toEqual(newestFirst.slice(4));
    expect(page3.has_more).toBe(false);

    const before = await stripe.paymentIntents.list({ limit: 2, ending_before: newestFirst[3] });
    expect(before.data.map((pi) => pi.id)).toEqual(newestFirst.slice(1, 3));
    expect(before.has_more).toBe(true);

    expect((await stripe.paymentIntents.list()).data).toHaveLength(5);
  });

  it('filters by created (range operators and exact value)', async () => {
    const created = await createMany(3);
    const stamps = created.map((pi) => pi.created);
    const min = Math.min(...stamps);
    const max = Math.max(...stamps);
    const ids = (list: Stripe.ApiList<Stripe.PaymentIntent>) => list.data.map((pi) => pi.id).sort();
    const expected = (pred: (c: number) => boolean) =>
      created
        .filter((pi) => pred(pi.created))
        .map((pi) => pi.id)
        .sort();

    expect(ids(await stripe.paymentIntents.list({ created: { gte: min, lte: max } }))).toEqual(
      expected(() => true),
    );
    expect(ids(await stripe.paymentIntents.list({ created: { gt: max } }))).toEqual([]);
    expect(ids(await stripe.paymentIntents.list({ created: { lt: min } }))).toEqual([]);
    expect(ids(await stripe.paymentIntents.list({ created: { lt: max } }))).toEqual(expected((c) => c < max));
    expect(ids(await stripe.paymentIntents.list({ created: max }))).toEqual(expected((c) => c === max));

    const err = await rejectionOf(
      stripe.paymentIntents.list({ created: { gte: 'soon' as unknown as number } }),
    );
    expect(err).toMatchObject({ statusCode: 400, param: 'created[gte]' });
  });

  it('auto-paginates across more than 100 PaymentIntents', async () => {
    const created = await createMany(120);
    const seen: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ limit: 100 })) seen.push(pi.id);
    expect(seen).toEqual(created.map((pi) => pi.id).reverse());
    expect(emulator.requestCount()).toBe(120 + 2);

    const filtered = await stripe.paymentIntents
      .list({ limit: 7, created: { gte: created[0]?.created ?? 0 } })
      .autoPagingToArray({ limit: 1000 });
    expect(filtered).toHaveLength(120);
  });

  it('auto-paginates backwards with ending_before', async () => {
    const created = await createMany(7);
    const seen: string[] = [];
    for await (const pi of stripe.paymentIntents.list({ limit: 2, ending_before: created[0]?.id }))
      seen.push(pi.id);
    // stripe-node walks an ending_before list from oldest to newest.
    expect(seen).toEqual(created.slice(1).map((pi) => pi.id));
  });

  it('rejects limits out of range and unknown cursors', async () => {
    await expect(stripe.paymentIntents.list({ limit: 101 })).rejects.toMatchObject({
      statusCode: 400,
      param: 'limit',
    });
    await expect(stripe.paymentIntents.list({ starting_after: 'pi_missing' })).rejects.toMatchObject({
      code: 'resource_missing',
      param: 'starting_after',
    });
  });
});

describe('search', () => {
  it('finds PaymentIntents by metadata, status, amount and currency', async () => {
    await createMany(4, (i) => ({ order_id: `ord_${i}`, parity: i % 2 === 0 ? 'even' : 'odd' }));
    const paid = await stripe.paymentIntents.create({
      amount: 1000,
      currency: 'eur',
      payment_method: 'pm_card_visa',
      confirm: true,
      metadata: { order_id: "o'brien" },
    });

    const byOrder = await stripe.paymentIntents.search({ query: "metadata['order_id']:'ord_2'" });
    expect(byOrder).toMatchObject({ object: 'search_result', has_more: false, next_page: null });
    expect(byOrder.data.map((pi) => pi.metadata.order_id)).toEqual(['ord_2']);

    const escaped = await stripe.paymentIntents.search({
      query: `metadata["order_id"]:"o'brien" AND status:'succeeded'`,
    });
    expect(escaped.data.map((pi) => pi.id)).toEqual([paid.id]);

    const odd = await stripe.paymentIntents.search({ query: "metadata['parity']:'odd' AND -amount:103" });
    expect(odd.data.map((pi) => pi.amount)).toEqual([101]);

    const either = await stripe.paymentIntents.search({
      query: "amount:1000 OR metadata['order_id']:'ord_0'",
    });
    expect(either.data.map((pi) => pi.amount)).toEqual([1000, 100]);

    const ranged = await stripe.paymentIntents.search({ query: "currency:'usd' amount>=102" });
    expect(ranged.data.map((pi) => pi.amount)).toEqual([103, 102]);

    const missing = await stripe.paymentIntents.search({ query: "metadata['parity']:null" });
    expect(missing.data.map((pi) => pi.id)).toEqual([paid.id]);
  });

  it('paginates with next_page (and the SDK auto-paginates search)', async () => {
    const created = await createMany(5, () => ({ batch: 'b1' }));
    const first = await stripe.paymentIntents.search({ query: "metadata['batch']:'b1'", limit: 2 });
    expect(first.has_more).toBe(true);
    expect(first.next_page).toEqual(expect.any(String));
    const second = await stripe.paymentIntents.search({
      query: "metadata['batch']:'b1'",
      limit: 2,
      page: first.next_page as string,
    });
    expect(second.data.map((pi) => pi.id)).toEqual([created[2]?.id, created[1]?.id]);

    const all = await stripe.paymentIntents
      .search({ query: "metadata['batch']:'b1'", limit: 2 })
      .autoPagingToArray({ limit: 100 });
    expect(all.map((pi) => pi.id)).toEqual(created.map((pi) => pi.id).reverse());
  });

  it.each([
    "metadata['order_id']",
    'description:"x"',
    "status:'succeeded' AND amount:1 OR amount:2",
    "metadata['a':'b'",
    'amount:abc',
    "status>'succeeded'",
  ])('rejects unsupported query %s with invalid_request_error', async (query) => {
    const err = await rejectionOf(stripe.paymentIntents.search({ query }));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err.statusCode).toBe(400);
  });

  it('rejects a forged page cursor', async () => {
    const res = await raw(
      emulator,
      `/v1/payment_intents/search?query=${encodeURIComponent('amount:1')}&page=garbage`,
    );
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ type: 'invalid_request_error', param: 'page' });
  });
});
