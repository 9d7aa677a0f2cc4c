import Stripe from 'stripe';
import { describe, expect, it } from 'vitest';
import type { StripeEmulator } from '../src/index';
import { raw, rejectionOf, useEmulator } from './helpers';

let emulator: StripeEmulator;
let stripe: Stripe;

useEmulator((e) => ({ emulator, stripe } = e), { reset: true });

const charge = (amount: number, currency: string): Stripe.PaymentIntentCreateParams => ({
  amount,
  currency,
  payment_method: 'pm_card_visa',
  confirm: true,
});

describe("Stripe's minimum charge amounts", () => {
  // [currency, smallest accepted amount in minor units, the minimum as Stripe's table prints it]
  const minimums: [string, number, string][] = [
    ['usd', 50, '$0.50'],
    ['eur', 50, '€0.50'],
    ['gbp', 30, '£0.30'],
    ['jpy', 50, '¥50'], // zero-decimal: 50 is ¥50
    ['huf', 17500, '175.00 Ft'], // charged with two decimals
    ['mxn', 1000, '$10'],
    ['hkd', 400, '$4.00'],
    ['thb', 1000, '฿10'],
  ];

  it.each(minimums)(
    'refuses %s below %i as amount_too_small, charging nothing',
    async (currency, minimum, shown) => {
      const err = await rejectionOf(stripe.paymentIntents.create(charge(minimum - 1, currency)));
      expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
      expect(err).toMatchObject({
        statusCode: 400,
        rawType: 'invalid_request_error',
        code: 'amount_too_small',
        param: 'amount',
        doc_url: 'https://stripe.com/docs/error-codes/amount-too-small',
        message: `Amount must be at least ${shown} ${currency}`,
      });
      expect(emulator.paymentIntents()).toEqual([]);
      expect(emulator.events()).toEqual([]);
    },
  );

  it.each(minimums)('charges %s at exactly %i', async (currency, minimum) => {
    const pi = await stripe.paymentIntents.create(charge(minimum, currency));
    expect(pi).toMatchObject({ status: 'succeeded', amount: minimum, amount_received: minimum, currency });
  });

  it('applies no minimum beyond 1 to a currency the table does not list', async () => {
    const pi = await stripe.paymentIntents.create(charge(1, 'isk'));
    expect(pi).toMatchObject({ status: 'succeeded', amount: 1, currency: 'isk' });
  });

  it('checks the minimum without confirm too, and answers exactly the body Stripe does', async () => {
    const res = await raw(emulator, '/v1/payment_intents', {
      method: 'POST',
      body: 'amount=49&currency=usd',
    });
    expect(res.status).toBe(400);
    const requestId = res.headers.get('request-id');
    expect(requestId).toMatch(/^req_/);
    expect(res.json).toEqual({
      error: {
        code: 'amount_too_small',
        doc_url: 'https://stripe.com/docs/error-codes/amount-too-small',
        message: 'Amount must be at least $0.50 usd',
        param: 'amount',
        request_log_url: expect.stringMatching(
          new RegExp(`^https://dashboard\\.stripe\\.com/test/logs/${requestId}\\?t=\\d+$`),
        ),
        type: 'invalid_request_error',
      },
    });
    expect(emulator.paymentIntents()).toEqual([]);
  });

  it('keeps zero and negative amounts a parameter_invalid_integer, as before', async () => {
    const err = await rejectionOf(stripe.paymentIntents.create(charge(0, 'usd')));
    expect(err).toMatchObject({ code: 'parameter_invalid_integer', param: 'amount' });
  });
});

describe('supported currencies', () => {
  it('refuses an unknown currency with the list Stripe supports, and no code', async () => {
    const err = await rejectionOf(stripe.paymentIntents.create(charge(1000, 'xyz')));
    expect(err).toBeInstanceOf(Stripe.errors.StripeInvalidRequestError);
    expect(err).toMatchObject({ statusCode: 400, rawType: 'invalid_request_error', param: 'currency' });
    expect(err.code).toBeUndefined();
    const prefix = 'Invalid currency: xyz. Stripe currently supports these currencies: ';
    expect(err.message.startsWith(prefix)).toBe(true);
    const listed = err.message.slice(prefix.length).split(', ');
    expect(listed.slice(0, 4)).toEqual(['usd', 'aed', 'afn', 'all']);
    expect(listed).toHaveLength(135);
    expect(listed).toEqual(expect.arrayContaining(['eur', 'gbp', 'jpy', 'huf', 'xcg', 'zmw']));
    expect(listed).not.toContain('bgn'); // withdrawn: Bulgaria uses the euro since 2026
    expect(emulator.paymentIntents()).toEqual([]);
  });

  it('answers an empty currency the same way, and a missing one with parameter_missing', async () => {
    const empty = await raw(emulator, '/v1/payment_intents', {
      method: 'POST',
      body: 'amount=1000&currency=',
    });
    expect(empty.status).toBe(400);
    expect(empty.json.error.message).toMatch(
      /^Invalid currency: \. Stripe currently supports these currencies: usd, /,
    );
    expect(empty.json.error.code).toBeUndefined();
    const missing = await rejectionOf(
      stripe.paymentIntents.create({ amount: 1000 } as Stripe.PaymentIntentCreateParams),
    );
    expect(missing).toMatchObject({ code: 'parameter_missing', param: 'currency' });
  });

  it('charges in every currency it lists (any letter case, returned lowercase)', async () => {
    const err = await rejectionOf(stripe.paymentIntents.create(charge(1000, 'xyz')));
    const listed = err.message.replace(/^.*these currencies: /, '').split(', ');
    expect(listed).toHaveLength(135);
    for (const currency of listed) {
      // 100000 minor units is above every listed minimum (HUF's 17500 is the largest).
      const pi = await stripe.paymentIntents.create(charge(100_000, currency.toUpperCase()));
      expect(pi.currency, currency).toBe(currency);
    }
    expect(emulator.paymentIntents()).toHaveLength(135);
  });

  it.each(['tnd', 'bgn', 'usdc', 'dollars'])(
    'refuses %s, which a US account cannot present',
    async (currency) => {
      const err = await rejectionOf(stripe.paymentIntents.create(charge(1000, currency)));
      expect(err).toMatchObject({ statusCode: 400, param: 'currency' });
      expect(err.message).toMatch(new RegExp(`^Invalid currency: ${currency}\\. `));
    },
  );
});
