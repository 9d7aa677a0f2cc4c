import { fc, test } from '@fast-check/vitest';
import type Stripe from 'stripe';
import { describe, expect } from 'vitest';
import { ApiError } from '../src/errors';
import type { StripeEmulator } from '../src/index';
import { matchesQuery, parseSearchQuery } from '../src/search';
import type { PaymentIntentObject } from '../src/types';
import { CEILING_MS, formText, ODD_STRINGS, queryText, quote, runs } from './fuzz-support';
import { TEST_KEY, useEmulator } from './helpers';

/**
 * Property-based tests of what the emulator reads from a request, with one emulator for both: the
 * search query parser answers at most 10 supported clauses or its own 400 about the query, reads
 * any quoted key and value back exactly, and whatever it parses matches any PaymentIntent (as the
 * emulator serves them) without throwing; and over HTTP, whatever the form body or query string,
 * the emulator never answers 5xx and its errors have Stripe's shape. (The form decoder's own
 * properties: ./fuzz-form.test.ts; the generators and FUZZ_SEED / FUZZ_SCALE: ./fuzz-support.ts.)
 */

let emulator: StripeEmulator;
let stripe: Stripe;
useEmulator((e) => {
  ({ emulator, stripe } = e);
});

// ---------------------------------------------------------------------------------------------
// parseSearchQuery

/** PaymentIntents as the emulator serves them, to run parsed queries against. */
async function somePaymentIntents(): Promise<PaymentIntentObject[]> {
  const made = [
    await stripe.paymentIntents.create({ amount: 1000, currency: 'usd', metadata: { k: 'v', a: '' } }),
    await stripe.paymentIntents.create({
      amount: 50,
      currency: 'eur',
      confirm: true,
      payment_method: 'pm_card_visa',
    }),
  ];
  return made as unknown as PaymentIntentObject[];
}

describe('parseSearchQuery', () => {
  test.prop([queryText], runs(20_000))(
    'parses to at most 10 supported clauses or throws a 400 ApiError about the query',
    (query) => {
      let parsed: ReturnType<typeof parseSearchQuery>;
      try {
        parsed = parseSearchQuery(query);
      } catch (err) {
        expect(err).toBeInstanceOf(ApiError);
        expect((err as ApiError).status).toBe(400);
        expect((err as ApiError).body).toMatchObject({ type: 'invalid_request_error', param: 'query' });
        return;
      }
      expect(['AND', 'OR']).toContain(parsed.combinator);
      expect(parsed.clauses.length).toBeGreaterThan(0);
      expect(parsed.clauses.length).toBeLessThanOrEqual(10);
      for (const clause of parsed.clauses) {
        expect(['amount', 'created', 'currency', 'customer', 'status', 'metadata']).toContain(clause.field);
        expect(clause.metadataKey !== null).toBe(clause.field === 'metadata');
      }
    },
    CEILING_MS,
  );

  test.prop(
    [fc.string({ maxLength: 30 }), fc.string({ maxLength: 30 }), fc.constantFrom("'", '"')],
    runs(5_000),
  )(
    "reads any quoted key and value back exactly (metadata['k']:'v', with \\ escapes)",
    (key, value, q) => {
      const parsed = parseSearchQuery(`metadata[${quote(key, q)}]:${quote(value, q)}`);
      expect(parsed.clauses).toEqual([
        { negated: false, field: 'metadata', metadataKey: key, operator: ':', value },
      ]);
    },
    CEILING_MS,
  );

  test(
    'a parsed query matches any PaymentIntent without throwing',
    async () => {
      const intents = await somePaymentIntents();
      fc.assert(
        fc.property(queryText, (query) => {
          let parsed: ReturnType<typeof parseSearchQuery>;
          try {
            parsed = parseSearchQuery(query);
          } catch {
            return;
          }
          for (const pi of intents) expect(typeof matchesQuery(pi, parsed)).toBe('boolean');
        }),
        runs(5_000),
      );
    },
    CEILING_MS,
  );
});

// ---------------------------------------------------------------------------------------------
// Over HTTP: whatever the body or query string, never a 5xx

const PI_PARAMS = [
  'amount',
  'currency',
  'confirm',
  'payment_method',
  'metadata',
  'expand',
  'capture_method',
  'automatic_payment_methods',
  'shipping',
  'payment_method_types',
  'limit',
  'created',
  'starting_after',
  'query',
  'page',
];
const paramValue = fc.oneof(
  fc.constantFrom(...ODD_STRINGS, 'usd', 'pm_card_visa', 'pm_card_chargeDeclined', 'true', 'manual', '1000'),
  fc.string({ maxLength: 12 }),
  fc.integer().map(String),
);
const formBody = fc.oneof(
  formText,
  // a create that would work, with one more pair that may break it
  fc
    .tuple(fc.integer({ min: -1, max: 100_000_000 }), fc.constantFrom('usd', 'jpy', 'USD', 'xxx'), paramValue)
    .map(
      ([amount, currency, value]) =>
        `amount=${amount}&currency=${currency}&description=${encodeURIComponent(value)}`,
    ),
  fc
    .array(
      fc.tuple(
        fc.constantFrom(...PI_PARAMS),
        fc.constantFrom('', '[]', '[0]', '[k]', '[enabled]', '[gte]', '[address][city]', '[__proto__]'),
        paramValue,
      ),
      { maxLength: 8 },
    )
    .map((pairs) =>
      pairs.map(([name, tail, value]) => `${name}${tail}=${encodeURIComponent(value)}`).join('&'),
    ),
);
const apiCall = fc.oneof(
  formBody.map((body) => ({ method: 'POST', path: '/v1/payment_intents', body })),
  formBody.map((query) => ({ method: 'GET', path: `/v1/payment_intents?${query}`, body: undefined })),
  fc.tuple(queryText, fc.option(formBody, { nil: '' })).map(([q, rest]) => ({
    method: 'GET',
    path: `/v1/payment_intents/search?query=${encodeURIComponent(q)}&${rest}`,
    body: undefined,
  })),
  fc.tuple(fc.string({ maxLength: 12 }), formBody).map(([id, body]) => ({
    method: 'POST',
    path: `/v1/payment_intents/${encodeURIComponent(id) || 'pi_x'}/confirm`,
    body,
  })),
);

describe('over HTTP', () => {
  test.prop([apiCall], runs(2_000))(
    'any form body or query string is answered below 500, errors in Stripe’s shape',
    async ({ method, path, body }) => {
      const res = await fetch(`${emulator.url}${path}`, {
        method,
        headers: {
          authorization: `Bearer ${TEST_KEY}`,
          'content-type': 'application/x-www-form-urlencoded',
        },
        ...(body === undefined ? {} : { body }),
      });
      const text = await res.text();
      expect(res.status, text).toBeLessThan(500);
      if (res.status >= 400) {
        const parsed = JSON.parse(text) as { error: { type: string; message: string } };
        expect(parsed.error.type).toMatch(/_error$/);
        expect(parsed.error.message).not.toMatch(/emulator failed/);
      }
    },
    CEILING_MS,
  );
});
