import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { rejectionOf, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true });

/** A succeeded PaymentIntent (a charge to refund). */
const paid = (overrides: Partial<Stripe.PaymentIntentCreateParams> = {}) =>
  stripe.paymentIntents.create({
    amount: 5000,
    currency: 'usd',
    payment_method: 'pm_card_visa',
    confirm: true,
    ...overrides,
  });

describe('POST /v1/refunds', () => {
  it('refunds the whole charge by default, with Stripe’s Refund shape', async () => {
    const pi = await paid({ customer: 'cus_refund_1' });
    const refund = await stripe.refunds.create(
      { payment_intent: pi.id, reason: 'requested_by_customer', metadata: { order_id: 'ord_r1' } },
      { idempotencyKey: 'refund-full' },
    );
    expect({ ...refund }).toEqual({
      id: expect.stringMatching(/^re_[A-Za-z0-9]{24}$/),
      object: 'refund',
      amount: 5000,
      balance_transaction: expect.stringMatching(/^txn_/),
      charge: pi.latest_charge,
      created: expect.any(Number),
      currency: 'usd',
      customer: 'cus_refund_1',
      customer_account: null,
      destination_details: {
        card: { reference_status: 'pending', reference_type: 'acquirer_reference_number', type: 'refund' },
        type: 'card',
      },
      metadata: { order_id: 'ord_r1' },
      payment_intent: pi.id,
      payment_method: 'pm_card_visa',
      reason: 'requested_by_customer',
      receipt_number: null,
      source_transfer_reversal: null,
      status: 'succeeded',
      transfer_reversal: null,
    });
    expect(emulator.refunds()).toEqual([
      {
        id: refund.id,
        amount: 5000,
        currency: 'usd',
        status: 'succeeded',
        payment_intent: pi.id,
        charge: pi.latest_charge,
        reason: 'requested_by_customer',
        failure_reason: null,
        metadata: { order_id: 'ord_r1' },
        created: refund.created,
        idempotency_key: 'refund-full',
      },
    ]);
    // The charge is fully refunded: Stripe's charge_already_refunded from now on.
    const again = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id }));
    expect(again).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(again).toMatchObject({
      statusCode: 400,
      code: 'charge_already_refunded',
      message: `Charge ${pi.latest_charge} has already been refunded.`,
    });
    expect(again.raw).toMatchObject({
      doc_url: 'https://stripe.com/docs/error-codes/charge-already-refunded',
    });
  });

  it('takes partial refunds up to the charge, then refuses with Stripe’s messages', async () => {
    const pi = await paid({ amount: 8000 });
    const tooMuch = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 8001 }));
    expect(tooMuch).toMatchObject({
      statusCode: 400,
      type: 'StripeInvalidRequestError',
      param: 'amount',
      message: 'Refund amount ($80.01) is greater than charge amount ($80.00)',
    });
    expect(tooMuch.code).toBeUndefined();

    const first = await stripe.refunds.create({ payment_intent: pi.id, amount: 5000 });
    const over = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 4000 }));
    expect(over).toMatchObject({
      statusCode: 400,
      param: 'amount',
      message: 'Refund amount ($40.00) is greater than unrefunded amount on charge ($30.00)',
    });
    const rest = await stripe.refunds.create({ charge: pi.latest_charge as string }); // the remainder
    expect(rest).toMatchObject({ amount: 3000, payment_intent: pi.id, charge: pi.latest_charge });
    const done = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 1 }));
    expect(done).toMatchObject({ code: 'charge_already_refunded' });
    expect(emulator.refunds().map((r) => [r.id, r.amount])).toEqual([
      [first.id, 5000],
      [rest.id, 3000],
    ]);
    // The PaymentIntent itself is unchanged by refunds, as in Stripe.
    expect(await stripe.paymentIntents.retrieve(pi.id)).toMatchObject({
      status: 'succeeded',
      amount_received: 8000,
    });
  });

  it('refunds only what a partial capture took', async () => {
    const pi = await paid({ amount: 1000, capture_method: 'manual' });
    await stripe.paymentIntents.capture(pi.id, { amount_to_capture: 900 });
    const err = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id, amount: 901 }));
    expect(err.message).toBe('Refund amount ($9.01) is greater than unrefunded amount on charge ($9.00)');
    expect(await stripe.refunds.create({ payment_intent: pi.id })).toMatchObject({ amount: 900 });
  });

  it('refuses a PaymentIntent without a successful charge, in any such status', async () => {
    const message = (id: string) => `This PaymentIntent (${id}) does not have a successful charge to refund.`;
    const unconfirmed = await stripe.paymentIntents.create({ amount: 900, currency: 'usd' });
    const declined = (await rejectionOf(paid({ payment_method: 'pm_card_chargeDeclined' })))
      .payment_intent as Stripe.PaymentIntent;
    const processing = await paid({ payment_method: 'pm_card_visa_processing' });
    const canceled = await stripe.paymentIntents.cancel(
      (await stripe.paymentIntents.create({ amount: 900, currency: 'usd' })).id,
    );
    for (const pi of [unconfirmed, declined, processing, canceled]) {
      const err = await rejectionOf(stripe.refunds.create({ payment_intent: pi.id }));
      expect(err).toMatchObject({
        statusCode: 400,
        type: 'StripeInvalidRequestError',
        message: message(pi.id),
      });
    }
    // By charge id too: the declined attempt's charge is a failed one.
    const byCharge = await rejectionOf(stripe.refunds.create({ charge: declined.latest_charge as string }));
    expect(byCharge.message).toBe(message(declined.id));

    const held = await paid({ capture_method: 'manual' });
    expect(held.status).toBe('requires_capture');
    const uncaptured = await rejectionOf(stripe.refunds.create({ payment_intent: held.id }));
    expect(uncaptured).toMatchObject({
      statusCode: 400,
      message: `This uncaptured Charge was created by a PaymentIntent (${held.id}). You must cancel the PaymentIntent to reverse the authorization instead of refunding the Charge directly. For more information, see https://stripe.com/docs/payments/place-a-hold-on-a-payment-method`,
    });
    expect(emulator.refunds()).toEqual([]);
    expect(emulator.events().filter((e) => e.type.startsWith('refund'))).toEqual([]);
  });

  it('answers an unknown PaymentIntent or charge with 404 resource_missing', async () => {
    const pi = await rejectionOf(stripe.refunds.create({ payment_intent: 'pi_nope' }));
    expect(pi).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'payment_intent',
      message: "No such payment_intent: 'pi_nope'",
    });
    const charge = await rejectionOf(stripe.refunds.create({ charge: 'ch_nope' }));
    expect(charge).toMatchObject({ statusCode: 404, code: 'resource_missing', param: 'id' });
    expect(charge.message).toBe("No such charge: 'ch_nope'");
    const neither = await rejectionOf(stripe.refunds.create({ amount: 100 }));
    expect(neither).toMatchObject({
      statusCode: 400,
      message: 'One of the following params should be provided for this request: payment_intent or charge.',
    });
    const other = await paid();
    const mismatch = await rejectionOf(
      stripe.refunds.create({ payment_intent: other.id, charge: (await paid()).latest_charge as string }),
    );
    expect(mismatch).toMatchObject({ statusCode: 400, param: 'charge' });
  });

  it('validates before executing: nothing is refunded and the key is not stored', async () => {
    const pi = await paid();
    const cases: [Record<string, unknown>, Record<string, unknown>][] = [
      [
        { foo: 'bar' },
        { code: 'parameter_unknown', param: 'foo', message: 'Received unknown parameter: foo' },
      ],
      [
        { reason: 'expired_uncaptured_charge' },
        {
          param: 'reason',
          message: 'Invalid reason: must be one of duplicate, fraudulent, or requested_by_customer',
        },
      ],
      [
        { amount: 0 },
        {
          code: 'parameter_invalid_integer',
          param: 'amount',
          message: 'This value must be greater than or equal to 1.',
        },
      ],
      [{ amount: 'ten' }, { code: 'parameter_invalid_integer', param: 'amount' }],
      [{ metadata: { k: 'x'.repeat(501) } }, { param: 'metadata[k]' }],
      [{ reverse_transfer: 'maybe' }, { code: 'parameter_invalid_boolean', param: 'reverse_transfer' }],
    ];
    for (const [extra, error] of cases) {
      const params = { payment_intent: pi.id, ...extra } as Stripe.RefundCreateParams;
      const err = await rejectionOf(stripe.refunds.create(params, { idempotencyKey: 'refund-validate' }));
      expect(err).toMatchObject({ statusCode: 400, type: 'StripeInvalidRequestError', ...error });
    }
    expect(emulator.refunds()).toEqual([]);
    const fixed = await stripe.refunds.create(
      { payment_intent: pi.id },
      { idempotencyKey: 'refund-validate' },
    );
    expect(fixed.lastResponse.headers['idempotent-replayed']).toBeUndefined();
    expect(emulator.refunds().map((r) => r.id)).toEqual([fixed.id]);
  });

  it('accepts the parameters it does not act on', async () => {
    const pi = await paid();
    const refund = await stripe.refunds.create({
      payment_intent: pi.id,
      amount: 100,
      refund_application_fee: false,
      reverse_transfer: false,
      instructions_email: 'a@example.test',
      expand: ['charge'],
    });
    expect(refund).toMatchObject({ amount: 100, charge: pi.latest_charge });
  });
});

describe('GET /v1/refunds/:id', () => {
  it('retrieves a refund, and answers an unknown id with 404', async () => {
    const pi = await paid();
    const refund = await stripe.refunds.create({ payment_intent: pi.id, amount: 700 });
    expect({ ...(await stripe.refunds.retrieve(refund.id)) }).toEqual({ ...refund });
    const missing = await rejectionOf(stripe.refunds.retrieve('re_missing'));
    expect(missing).toMatchObject({
      statusCode: 404,
      code: 'resource_missing',
      param: 'refund',
      message: "No such refund: 're_missing'",
    });
  });
});
