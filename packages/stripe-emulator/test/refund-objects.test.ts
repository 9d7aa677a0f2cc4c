import type Stripe from 'stripe';
import { describe, expect, expectTypeOf, it } from 'vitest';
import type { ChargeObject, RefundObject, StripeEmulator } from '../src/index';
import { useEmulator } from './helpers';

/** The keys of `T` that are not optional. */
type RequiredKeys<T> = { [K in keyof T]-?: undefined extends T[K] ? never : K }[keyof T];

// Compile time: `pnpm typecheck` fails when stripe-node's Refund or Charge has a required field the
// emulator's type lacks, or the emulator's type has a field stripe-node's does not.
expectTypeOf<Exclude<RequiredKeys<Stripe.Refund>, keyof RefundObject>>().toEqualTypeOf<never>();
expectTypeOf<Exclude<keyof RefundObject, keyof Stripe.Refund>>().toEqualTypeOf<never>();
expectTypeOf<Exclude<RequiredKeys<Stripe.Charge>, keyof ChargeObject>>().toEqualTypeOf<never>();
expectTypeOf<Exclude<keyof ChargeObject, keyof Stripe.Charge>>().toEqualTypeOf<never>();
// ...and the check can fail: without `reason`, that is what remains.
expectTypeOf<
  Exclude<RequiredKeys<Stripe.Refund>, keyof Omit<RefundObject, 'reason'>>
>().toEqualTypeOf<'reason'>();
// The values have stripe-node's types too (the charge's nested card details are trimmed).
expectTypeOf<RefundObject>().toExtend<Stripe.Refund>();
expectTypeOf<Omit<ChargeObject, 'outcome' | 'payment_method_details'>>().toExtend<
  Omit<Stripe.Charge, 'outcome' | 'payment_method_details'>
>();

/** Every required field of `Stripe.Refund` / `Stripe.Charge`, at run time (checked by `satisfies`). */
const REFUND_FIELDS = {
  id: true,
  object: true,
  amount: true,
  balance_transaction: true,
  charge: true,
  created: true,
  currency: true,
  customer: true,
  customer_account: true,
  metadata: true,
  payment_intent: true,
  payment_method: true,
  reason: true,
  receipt_number: true,
  source_transfer_reversal: true,
  status: true,
  transfer_reversal: true,
} satisfies Record<RequiredKeys<Stripe.Refund>, true>;

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true });

describe('Refund and Charge objects', () => {
  it('carry every required field of Stripe.Refund / Stripe.Charge wherever they are served', async () => {
    const pi = await stripe.paymentIntents.create({
      amount: 2500,
      currency: 'usd',
      payment_method: 'pm_card_visa',
      confirm: true,
    });
    const created = await stripe.refunds.create({ payment_intent: pi.id, amount: 500 });
    const served = [
      created,
      await stripe.refunds.retrieve(created.id),
      (await stripe.refunds.list()).data[0],
    ];
    // Stripe's key order: the required fields and destination_details, alphabetical after id, object.
    const order = Object.keys(REFUND_FIELDS).slice(2).concat('destination_details').sort();
    for (const refund of served) expect(Object.keys(refund ?? {})).toEqual(['id', 'object', ...order]);
    const charge = emulator.events().find((e) => e.type === 'charge.refunded')?.data.object as ChargeObject;
    expect(charge).toMatchObject({ object: 'charge', amount_refunded: 500, refunded: false });
    expect(charge).not.toHaveProperty('refunds'); // expand-only in this API version
  });
});
