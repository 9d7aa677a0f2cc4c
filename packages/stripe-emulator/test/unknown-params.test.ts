import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true });

/** Params the SDK's types refuse: what a typo, a stale integration or another API version sends. */
const loose = <T>(params: Record<string, unknown>) => params as T;
const create = (params: Record<string, unknown>) =>
  stripe.paymentIntents.create(
    loose<Stripe.PaymentIntentCreateParams>({ amount: 1000, currency: 'usd', ...params }),
  );

function expectUnknown(err: Stripe.errors.StripeError, param: string, message: string): void {
  expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
  expect(err).toMatchObject({
    statusCode: 400,
    rawType: 'invalid_request_error',
    code: 'parameter_unknown',
    doc_url: 'https://stripe.com/docs/error-codes/parameter-unknown',
    param,
    message,
  });
}

describe('unknown parameters', () => {
  it('are refused on create, top-level and nested, and nothing is created', async () => {
    expectUnknown(await rejectionOf(create({ foo: 'bar' })), 'foo', 'Received unknown parameter: foo');
    expectUnknown(
      await rejectionOf(create({ automatic_payment_methods: { enabled: true, foo: 'x' } })),
      'automatic_payment_methods[foo]',
      'Received unknown parameter: automatic_payment_methods[foo]',
    );
    expectUnknown(
      await rejectionOf(create({ shipping: { name: 'A', address: { line1: 'x', zip: '1' } } })),
      'shipping[address][zip]',
      'Received unknown parameter: shipping[address][zip]',
    );
    // API version 2026-10-28 has no payment_method_types on create (allowed_payment_method_types replaced it).
    expectUnknown(
      await rejectionOf(create({ payment_method_types: ['card'], bogus: 1 })),
      'payment_method_types',
      'Received unknown parameters: payment_method_types, bogus',
    );
    expect(emulator.paymentIntents()).toEqual([]);
    expect(emulator.events()).toEqual([]);
  });

  it("accept what chargeonce's gateway sends, free-form metadata and stripe-node's expand", async () => {
    const pi = await stripe.paymentIntents.create(
      {
        amount: 4200,
        currency: 'usd',
        payment_method: 'pm_card_visa',
        confirm: true,
        automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
        error_on_requires_action: true,
        metadata: { order_id: 'ord_1', attempt_id: 'att_1', 'any key at all': 'v' },
        expand: ['latest_charge'],
      },
      { idempotencyKey: 'gw-1' },
    );
    expect(pi).toMatchObject({
      status: 'succeeded',
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      metadata: { order_id: 'ord_1', attempt_id: 'att_1', 'any key at all': 'v' },
    });
    expect((await stripe.paymentIntents.retrieve(pi.id, { expand: ['latest_charge'] })).id).toBe(pi.id);
    const window = { gte: pi.created - 60, lte: pi.created + 60 };
    const listed: string[] = [];
    // limit 1 makes stripe-node page with starting_after, as the gateway's limit 100 does past 100.
    await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    for await (const item of stripe.paymentIntents.list({ created: window, limit: 1 })) listed.push(item.id);
    expect(listed).toHaveLength(2);
    const found = await stripe.paymentIntents.search({ query: "metadata['attempt_id']:'att_1'", limit: 10 });
    expect(found.data.map((p) => p.id)).toEqual([pi.id]);
  });

  it('are refused on every other operation', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const onRetrieve = await rejectionOf(
      stripe.paymentIntents.retrieve(pi.id, loose<Stripe.PaymentIntentRetrieveParams>({ foo: 'x' })),
    );
    expectUnknown(onRetrieve, 'foo', 'Received unknown parameter: foo');
    const onList = await rejectionOf(stripe.paymentIntents.list(loose({ created: { gte: 1, eq: 2 } })));
    expectUnknown(onList, 'created[eq]', 'Received unknown parameter: created[eq]');
    const onSearch = await rejectionOf(
      stripe.paymentIntents.search(loose({ query: "status:'canceled'", sort: 'x' })),
    );
    expectUnknown(onSearch, 'sort', 'Received unknown parameter: sort');
    // Stripe's confirm takes no metadata (only create, capture and update do).
    const onConfirm = await rejectionOf(
      stripe.paymentIntents.confirm(pi.id, loose({ payment_method: 'pm_card_visa', metadata: { a: '1' } })),
    );
    expectUnknown(onConfirm, 'metadata', 'Received unknown parameter: metadata');
    const onCapture = await rejectionOf(stripe.paymentIntents.capture(pi.id, loose({ amount: 5 })));
    expectUnknown(onCapture, 'amount', 'Received unknown parameter: amount');
    const onEvents = await rejectionOf(stripe.events.list(loose({ object: 'payment_intent' })));
    expectUnknown(onEvents, 'object', 'Received unknown parameter: object');
    const [event] = emulator.events();
    const onEvent = await rejectionOf(stripe.events.retrieve(event?.id ?? '', loose({ foo: 1 })));
    expectUnknown(onEvent, 'foo', 'Received unknown parameter: foo');
    // Nothing changed: the PaymentIntent was never confirmed.
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_payment_method');
  });

  it('name the PaymentIntent of the request, as Stripe does on /v1/payment_intents/:id', async () => {
    const pi = await stripe.paymentIntents.create({ amount: 1000, currency: 'usd' });
    const err = await rejectionOf(
      stripe.paymentIntents.cancel(pi.id, loose({ amount: 1000, currency: 'usd' })),
    );
    expectUnknown(err, 'amount', 'Received unknown parameters: amount, currency');
    expect(err.payment_intent).toMatchObject({ id: pi.id, status: 'requires_payment_method' });
    expect((await stripe.paymentIntents.retrieve(pi.id)).status).toBe('requires_payment_method');
    // Other request errors on the PaymentIntent carry it too.
    const bad = await rejectionOf(
      stripe.paymentIntents.cancel(pi.id, loose({ cancellation_reason: 'bored' })),
    );
    expect(bad).toMatchObject({
      statusCode: 400,
      param: 'cancellation_reason',
      payment_intent: { id: pi.id },
    });
  });

  it('are a validation error: not stored, so the idempotency key stays usable', async () => {
    const refused = await rejectionOf(
      stripe.paymentIntents.create(loose({ amount: 1000, currency: 'usd', foo: 'bar' }), {
        idempotencyKey: 'k-unknown',
      }),
    );
    expect(refused).toMatchObject({ code: 'parameter_unknown' });
    const pi = await stripe.paymentIntents.create(
      { amount: 1000, currency: 'usd' },
      { idempotencyKey: 'k-unknown' },
    );
    expect(pi.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(emulator.paymentIntents()).toHaveLength(1);
  });

  it('are checked on query strings too (raw HTTP)', async () => {
    const res = await raw(emulator, '/v1/payment_intents?limit=3&foo=bar');
    expect(res.status).toBe(400);
    expect(res.json.error).toMatchObject({ code: 'parameter_unknown', param: 'foo' });
  });
});

describe('parameters the emulator now honours', () => {
  it('capture takes metadata; list takes customer_account; events list takes delivery_success', async () => {
    const held = await stripe.paymentIntents.create({
      amount: 900,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      capture_method: 'manual',
      confirm: true,
      metadata: { kept: '1', dropped: 'x' },
    });
    const captured = await stripe.paymentIntents.capture(held.id, { metadata: { dropped: '', added: '2' } });
    expect(captured.metadata).toEqual({ kept: '1', added: '2' });
    expect((await stripe.paymentIntents.list({ customer_account: 'acct_none' })).data).toEqual([]);
    // No webhook endpoint: nothing is outstanding, so every event counts as delivered.
    expect((await stripe.events.list({ delivery_success: true })).data).toHaveLength(
      emulator.events().length,
    );
    expect((await stripe.events.list({ delivery_success: false })).data).toEqual([]);
  });
});
