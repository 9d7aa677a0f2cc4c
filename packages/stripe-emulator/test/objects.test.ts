import type Stripe from 'stripe';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { PaymentIntentObject, StripeEmulator, StripeEvent } from '../src/index';
import { rejectionOf, useEmulator } from './helpers';

// Compile time: `pnpm typecheck` fails when stripe-node's PaymentIntent has a field the emulator's
// type lacks (or the other way round).
expectTypeOf<Exclude<keyof Stripe.PaymentIntent, keyof PaymentIntentObject>>().toEqualTypeOf<never>();
expectTypeOf<Exclude<keyof PaymentIntentObject, keyof Stripe.PaymentIntent>>().toEqualTypeOf<never>();
// ...and the check can fail: for a type missing one field, that field is what remains.
type MissingFromHookless = Exclude<keyof Stripe.PaymentIntent, keyof Omit<PaymentIntentObject, 'hooks'>>;
expectTypeOf<MissingFromHookless>().toEqualTypeOf<'hooks'>();
// The values have stripe-node's types too (the decline's payment_method is a trimmed PaymentMethod).
expectTypeOf<Omit<PaymentIntentObject, 'last_payment_error'>>().toExtend<
  Omit<Stripe.PaymentIntent, 'last_payment_error'>
>();
// An event carries every field of stripe-node's Event except the two Connect-only ones, which
// Stripe sends only for events of connected accounts / contexts.
expectTypeOf<Exclude<keyof Stripe.Event, keyof StripeEvent>>().toEqualTypeOf<'account' | 'context'>();
expectTypeOf<Exclude<keyof StripeEvent, keyof Stripe.Event>>().toEqualTypeOf<never>();

/**
 * Every field name of `Stripe.PaymentIntent`, at run time: `satisfies` makes the compiler reject
 * this list when it misses a field of the SDK's type or names one the type does not have.
 */
const PAYMENT_INTENT_FIELDS = {
  id: true,
  object: true,
  allowed_payment_method_types: true,
  amount: true,
  amount_capturable: true,
  amount_details: true,
  amount_received: true,
  application: true,
  application_fee_amount: true,
  automatic_payment_methods: true,
  canceled_at: true,
  cancellation_reason: true,
  capture_method: true,
  client_secret: true,
  confirmation_method: true,
  created: true,
  currency: true,
  customer: true,
  customer_account: true,
  description: true,
  excluded_payment_method_types: true,
  hooks: true,
  last_payment_error: true,
  latest_charge: true,
  livemode: true,
  managed_payments: true,
  metadata: true,
  next_action: true,
  on_behalf_of: true,
  payment_details: true,
  payment_method: true,
  payment_method_configuration_details: true,
  payment_method_options: true,
  payment_method_types: true,
  payment_record: true,
  presentment_details: true,
  processing: true,
  receipt_email: true,
  review: true,
  setup_future_usage: true,
  shipping: true,
  source: true,
  statement_descriptor: true,
  statement_descriptor_suffix: true,
  status: true,
  transfer_data: true,
  transfer_group: true,
} satisfies Record<keyof Stripe.PaymentIntent, true>;

const EVENT_FIELDS = {
  id: true,
  object: true,
  api_version: true,
  created: true,
  data: true,
  livemode: true,
  pending_webhooks: true,
  request: true,
  type: true,
} satisfies Record<Exclude<keyof Stripe.Event, 'account' | 'context'>, true>;

const fieldsOf = (value: object) => Object.keys(value).sort();
const PI_FIELDS = Object.keys(PAYMENT_INTENT_FIELDS).sort();

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true });

describe('PaymentIntent objects', () => {
  it('carry every field of Stripe.PaymentIntent, wherever they are served', async () => {
    const created = await stripe.paymentIntents.create({
      amount: 1999,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
    });
    // (stripe-node's `lastResponse` is not enumerable: Object.keys sees the JSON's fields only.)
    expect(fieldsOf(created)).toEqual(PI_FIELDS);
    const retrieved = await stripe.paymentIntents.retrieve(created.id);
    const listed = (await stripe.paymentIntents.list()).data[0];
    const found = (await stripe.paymentIntents.search({ query: "status:'succeeded'" })).data[0];
    for (const pi of [retrieved, listed, found]) expect(fieldsOf(pi ?? {})).toEqual(PI_FIELDS);
    const [event] = emulator.events();
    expect(event && fieldsOf(event.data.object)).toEqual(PI_FIELDS);

    const declined = await rejectionOf(
      stripe.paymentIntents.create({
        amount: 500,
        currency: 'usd',
        payment_method: 'pm_card_chargeDeclined',
        confirm: true,
      }),
    );
    expect(fieldsOf(declined.payment_intent ?? {})).toEqual(PI_FIELDS);
  });

  it("has Stripe's values for a card PaymentIntent", async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 1999,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
      automatic_payment_methods: { enabled: true, allow_redirects: 'never' },
      shipping: { name: 'Ada', address: { line1: '1 Main St', country: 'US' } },
    });
    expect(pi).toMatchObject({
      allowed_payment_method_types: null,
      amount_details: { tip: {} },
      automatic_payment_methods: { allow_redirects: 'never', enabled: true },
      customer_account: null,
      excluded_payment_method_types: null,
      hooks: {},
      managed_payments: { enabled: false },
      payment_details: { customer_reference: null, order_reference: null },
      payment_method_configuration_details: { id: expect.stringMatching(/^pmc_/), parent: null },
      payment_method_options: {
        card: {
          installments: null,
          mandate_options: null,
          network: null,
          request_three_d_secure: 'automatic',
        },
      },
      payment_method_types: ['card'],
      payment_record: null,
      presentment_details: { presentment_amount: 1999, presentment_currency: 'usd' },
      processing: null,
      shipping: {
        address: {
          city: null,
          country: 'US',
          line1: '1 Main St',
          line2: null,
          postal_code: null,
          state: null,
        },
        carrier: null,
        name: 'Ada',
        phone: null,
        tracking_number: null,
      },
      transfer_data: null,
    });
    // Stripe's default: automatic payment methods, redirects allowed.
    const plain = await stripe.paymentIntents.create({ amount: 500, currency: 'usd' });
    expect(plain.automatic_payment_methods).toEqual({ allow_redirects: 'always', enabled: true });
    const manual = await stripe.paymentIntents.create({
      amount: 500,
      currency: 'usd',
      automatic_payment_methods: { enabled: false },
    });
    expect(manual).toMatchObject({
      automatic_payment_methods: null,
      payment_method_configuration_details: null,
    });
  });
});

describe('Event objects', () => {
  it('carry every field of Stripe.Event but the Connect-only ones', async () => {
    await stripe.paymentIntents.create({
      amount: 500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const expected = Object.keys(EVENT_FIELDS).sort();
    for (const event of emulator.events()) expect(fieldsOf(event)).toEqual(expected);
    const listed = await stripe.events.list();
    for (const event of listed.data) expect(fieldsOf(event)).toEqual(expected);
    expect(listed.data).toHaveLength(2);
  });
});
