import type Stripe from 'stripe';
import { describe, expect, expectTypeOf, it } from 'vitest';
import { decodeForm } from '../src/form';
import {
  type EVENT_LIST_PARAMS,
  type EVENT_RETRIEVE_PARAMS,
  PAYMENT_INTENT_CANCEL_PARAMS,
  PAYMENT_INTENT_CAPTURE_PARAMS,
  PAYMENT_INTENT_CONFIRM_PARAMS,
  PAYMENT_INTENT_CREATE_PARAMS,
  PAYMENT_INTENT_LIST_PARAMS,
  type PAYMENT_INTENT_RETRIEVE_PARAMS,
  type PAYMENT_INTENT_SEARCH_PARAMS,
  type REFUND_CREATE_PARAMS,
  type REFUND_LIST_PARAMS,
  type REFUND_RETRIEVE_PARAMS,
} from '../src/param-specs';
import { unknownParams } from '../src/params';

/** The object part of a parameter's type (`Emptyable<X>` is `X | ''`, `created` is `RangeQueryParam | number`). */
type Hash<T> = Exclude<NonNullable<T>, string | number | boolean | readonly unknown[]>;

/**
 * Every difference between a parameter spec and stripe-node's params type, as readable strings
 * (`never` when they agree): keys on one side only, at the top level and inside every hash the spec
 * spells out. `true` / `'metadata'` / `'unchecked'` entries are leaves.
 */
type SpecMismatch<S, P, Path extends string = ''> = S extends true | 'metadata' | 'unchecked'
  ? never
  :
      | `${Path}${Exclude<keyof Hash<P>, keyof S> & string}: taken by Stripe, missing from the spec`
      | `${Path}${Exclude<keyof S, keyof Hash<P>> & string}: in the spec, not a Stripe parameter`
      | {
          [K in keyof S & keyof Hash<P> & string]: SpecMismatch<S[K], Hash<P>[K], `${Path}${K}.`>;
        }[keyof S & keyof Hash<P> & string];

// Compile time: `pnpm typecheck` fails when an operation's parameters differ from stripe-node 23.1.0's.
expectTypeOf<
  SpecMismatch<typeof PAYMENT_INTENT_CREATE_PARAMS, Stripe.PaymentIntentCreateParams>
>().toEqualTypeOf<never>();
expectTypeOf<
  SpecMismatch<typeof PAYMENT_INTENT_RETRIEVE_PARAMS, Stripe.PaymentIntentRetrieveParams>
>().toEqualTypeOf<never>();
expectTypeOf<
  SpecMismatch<typeof PAYMENT_INTENT_CONFIRM_PARAMS, Stripe.PaymentIntentConfirmParams>
>().toEqualTypeOf<never>();
expectTypeOf<
  SpecMismatch<typeof PAYMENT_INTENT_CANCEL_PARAMS, Stripe.PaymentIntentCancelParams>
>().toEqualTypeOf<never>();
expectTypeOf<
  SpecMismatch<typeof PAYMENT_INTENT_CAPTURE_PARAMS, Stripe.PaymentIntentCaptureParams>
>().toEqualTypeOf<never>();
expectTypeOf<
  SpecMismatch<typeof PAYMENT_INTENT_LIST_PARAMS, Stripe.PaymentIntentListParams>
>().toEqualTypeOf<never>();
expectTypeOf<
  SpecMismatch<typeof PAYMENT_INTENT_SEARCH_PARAMS, Stripe.PaymentIntentSearchParams>
>().toEqualTypeOf<never>();
expectTypeOf<SpecMismatch<typeof EVENT_RETRIEVE_PARAMS, Stripe.EventRetrieveParams>>().toEqualTypeOf<never>();
expectTypeOf<SpecMismatch<typeof EVENT_LIST_PARAMS, Stripe.EventListParams>>().toEqualTypeOf<never>();
expectTypeOf<SpecMismatch<typeof REFUND_CREATE_PARAMS, Stripe.RefundCreateParams>>().toEqualTypeOf<never>();
expectTypeOf<
  SpecMismatch<typeof REFUND_RETRIEVE_PARAMS, Stripe.RefundRetrieveParams>
>().toEqualTypeOf<never>();
expectTypeOf<SpecMismatch<typeof REFUND_LIST_PARAMS, Stripe.RefundListParams>>().toEqualTypeOf<never>();

// ...and the check can fail, at the top level and inside a hash.
type WithoutCurrency = Omit<typeof PAYMENT_INTENT_CREATE_PARAMS, 'currency'>;
expectTypeOf<
  SpecMismatch<WithoutCurrency, Stripe.PaymentIntentCreateParams>
>().toEqualTypeOf<'currency: taken by Stripe, missing from the spec'>();
type WithExtraHashKey = Omit<typeof PAYMENT_INTENT_CREATE_PARAMS, 'automatic_payment_methods'> & {
  automatic_payment_methods: { allow_redirects: true; enabled: true; foo: true };
};
expectTypeOf<
  SpecMismatch<WithExtraHashKey, Stripe.PaymentIntentCreateParams>
>().toEqualTypeOf<'automatic_payment_methods.foo: in the spec, not a Stripe parameter'>();

describe('unknownParams', () => {
  const unknown = (query: string) => unknownParams(PAYMENT_INTENT_CREATE_PARAMS, decodeForm(query));

  it('names unknown parameters as Stripe does, nested ones with brackets, in request order', () => {
    expect(unknown('amount=100&currency=usd')).toEqual([]);
    expect(unknown('foo=bar&amount=100')).toEqual(['foo']);
    expect(unknown('automatic_payment_methods[enabled]=true&automatic_payment_methods[foo]=1')).toEqual([
      'automatic_payment_methods[foo]',
    ]);
    expect(unknown('shipping[name]=A&shipping[address][zip]=1&bar=2')).toEqual([
      'shipping[address][zip]',
      'bar',
    ]);
  });

  it('leaves metadata keys, lists and the unchecked hashes alone', () => {
    expect(unknown('metadata[anything]=1&metadata[order_id]=2&transfer_data[metadata][x]=3')).toEqual([]);
    expect(unknown('expand[0]=latest_charge&expand[1]=customer&allowed_payment_method_types[]=card')).toEqual(
      [],
    );
    expect(
      unknown('payment_method_options[card][request_three_d_secure]=any&amount_details[tip][amount]=1'),
    ).toEqual([]);
  });

  it('does not descend into a hash parameter sent as a plain value', () => {
    expect(unknown('shipping=&mandate_data=')).toEqual([]);
  });

  it('takes each operation on its own terms', () => {
    // Stripe's confirm and cancel take no metadata; capture does.
    expect(unknownParams(PAYMENT_INTENT_CONFIRM_PARAMS, decodeForm('metadata[a]=1'))).toEqual(['metadata']);
    expect(unknownParams(PAYMENT_INTENT_CANCEL_PARAMS, decodeForm('amount=1&currency=usd'))).toEqual([
      'amount',
      'currency',
    ]);
    expect(unknownParams(PAYMENT_INTENT_CAPTURE_PARAMS, decodeForm('metadata[a]=1'))).toEqual([]);
    expect(unknownParams(PAYMENT_INTENT_LIST_PARAMS, decodeForm('created[gte]=1&created[eq]=2'))).toEqual([
      'created[eq]',
    ]);
  });
});
