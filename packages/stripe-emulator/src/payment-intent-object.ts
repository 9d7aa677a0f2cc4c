import { invalidRequest, parameterMissing } from './errors';
import { nowSeconds, randomId } from './ids';
import type { Params, ParamValue, PaymentIntentObject, ShippingDetails } from './types';
import { optionalEnum, optionalString, optionalStringArray, parseInteger } from './validate';

/**
 * The payment method configuration a PaymentIntent with automatic payment methods reports (Stripe
 * names the account's default one there, `{ id: 'pmc_...', parent: null }`); the emulator has one.
 */
export const DEFAULT_PAYMENT_METHOD_CONFIGURATION = 'pmc_1EmulatorDefaultConfig00';

export interface NewPaymentIntent {
  amount: number;
  currency: string;
  paymentMethod: string | null;
  metadata: Record<string, string>;
}

/**
 * A new PaymentIntent from validated create parameters (`amount`, `currency`, `payment_method` and
 * `metadata` come pre-parsed; the rest are read here). Every field is set, in Stripe's key order.
 */
export function newPaymentIntent(p: Params, known: NewPaymentIntent): PaymentIntentObject {
  const id = randomId('pi');
  const automatic = automaticPaymentMethods(p);
  const configuration = nonEmpty(optionalString(p, 'payment_method_configuration'));
  const fee = p.application_fee_amount;
  return {
    id,
    object: 'payment_intent',
    allowed_payment_method_types: optionalStringArray(p, 'allowed_payment_method_types') ?? null,
    amount: known.amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount:
      fee === undefined || fee === '' ? null : parseInteger(fee, 'application_fee_amount'),
    automatic_payment_methods: automatic,
    canceled_at: null,
    cancellation_reason: null,
    capture_method:
      optionalEnum(p, 'capture_method', ['automatic', 'automatic_async', 'manual']) ?? 'automatic_async',
    client_secret: `${id}_secret_${randomId('x', 25).slice(2)}`,
    confirmation_method: optionalEnum(p, 'confirmation_method', ['automatic', 'manual']) ?? 'automatic',
    created: nowSeconds(),
    currency: known.currency,
    customer: nonEmpty(optionalString(p, 'customer')),
    customer_account: nonEmpty(optionalString(p, 'customer_account')),
    description: nonEmpty(optionalString(p, 'description')),
    excluded_payment_method_types: optionalStringArray(p, 'excluded_payment_method_types') ?? null,
    hooks: {},
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    managed_payments: { enabled: false },
    metadata: known.metadata,
    next_action: null,
    on_behalf_of: null,
    payment_details: { customer_reference: null, order_reference: null },
    payment_method: known.paymentMethod,
    payment_method_configuration_details:
      automatic?.enabled === true
        ? { id: configuration ?? DEFAULT_PAYMENT_METHOD_CONFIGURATION, parent: null }
        : null,
    payment_method_options: { card: cardOptions() },
    // Cards are the only payment method type the emulator has (`allowed_payment_method_types` and
    // `excluded_payment_method_types` are echoed, not applied).
    payment_method_types: ['card'],
    payment_record: null,
    presentment_details: { presentment_amount: known.amount, presentment_currency: known.currency },
    processing: null,
    receipt_email: nonEmpty(optionalString(p, 'receipt_email')),
    review: null,
    setup_future_usage: optionalEnum(p, 'setup_future_usage', ['off_session', 'on_session']) ?? null,
    shipping: shipping(p.shipping),
    source: null,
    statement_descriptor: nonEmpty(optionalString(p, 'statement_descriptor')),
    statement_descriptor_suffix: nonEmpty(optionalString(p, 'statement_descriptor_suffix')),
    status: known.paymentMethod === null ? 'requires_payment_method' : 'requires_confirmation',
    transfer_data: null,
    transfer_group: nonEmpty(optionalString(p, 'transfer_group')),
  };
}

/**
 * Fills fields a state file written by an older emulator lacks (loading it must not serve
 * PaymentIntents with missing keys). Fields already present are kept.
 */
export function withCurrentFields(pi: PaymentIntentObject): PaymentIntentObject {
  const defaults: Partial<PaymentIntentObject> = {
    allowed_payment_method_types: null,
    customer_account: null,
    excluded_payment_method_types: null,
    hooks: {},
    managed_payments: { enabled: false },
    payment_details: { customer_reference: null, order_reference: null },
    payment_method_options: { card: cardOptions() },
    payment_record: null,
    presentment_details: { presentment_amount: pi.amount, presentment_currency: pi.currency },
  };
  return { ...defaults, ...pi };
}

function cardOptions() {
  return {
    installments: null,
    mandate_options: null,
    network: null,
    request_three_d_secure: 'automatic',
  } as const;
}

/**
 * `automatic_payment_methods[enabled|allow_redirects]`. Stripe's default is `{ allow_redirects:
 * 'always', enabled: true }`, as its responses show (API version 2026-10-28 has no
 * `payment_method_types` parameter to opt out with). Stripe's docs do not say what `enabled=false`
 * returns; the emulator answers `null`.
 */
function automaticPaymentMethods(p: Params): PaymentIntentObject['automatic_payment_methods'] {
  const raw = p.automatic_payment_methods;
  if (raw === undefined || raw === '') return { allow_redirects: 'always', enabled: true };
  if (typeof raw !== 'object' || Array.isArray(raw)) {
    throw invalidRequest('Invalid object', { param: 'automatic_payment_methods' });
  }
  const enabled = nestedBoolean(raw.enabled, 'automatic_payment_methods[enabled]');
  if (enabled === undefined) throw parameterMissing('automatic_payment_methods[enabled]');
  const redirects = raw.allow_redirects;
  if (redirects !== undefined && redirects !== 'always' && redirects !== 'never') {
    throw invalidRequest(
      'Invalid automatic_payment_methods[allow_redirects]: must be one of always or never',
      {
        param: 'automatic_payment_methods[allow_redirects]',
      },
    );
  }
  if (!enabled) return null;
  return { allow_redirects: redirects ?? 'always', enabled: true };
}

function nestedBoolean(value: ParamValue | undefined, param: string): boolean | undefined {
  if (value === undefined) return undefined;
  if (value === 'true' || value === 'false') return value === 'true';
  throw invalidRequest(`Invalid boolean: ${typeof value === 'string' ? value : JSON.stringify(value)}`, {
    param,
    code: 'parameter_invalid_boolean',
  });
}

/** `shipping[name]`, `shipping[address][...]` (both required by Stripe), carrier, phone, tracking number. */
function shipping(raw: ParamValue | undefined): ShippingDetails | null {
  if (raw === undefined || raw === '') return null;
  if (typeof raw !== 'object' || Array.isArray(raw))
    throw invalidRequest('Invalid object', { param: 'shipping' });
  const text = (value: ParamValue | undefined, param: string): string | null => {
    if (value === undefined || value === '') return null;
    if (typeof value !== 'string')
      throw invalidRequest('Invalid string', { param, code: 'parameter_invalid_string' });
    return value;
  };
  const name = text(raw.name, 'shipping[name]');
  if (name === null) throw parameterMissing('shipping[name]');
  const address = raw.address;
  if (address === undefined || typeof address !== 'object' || Array.isArray(address)) {
    throw parameterMissing('shipping[address]');
  }
  const line = (key: string) => text(address[key], `shipping[address][${key}]`);
  return {
    address: {
      city: line('city'),
      country: line('country'),
      line1: line('line1'),
      line2: line('line2'),
      postal_code: line('postal_code'),
      state: line('state'),
    },
    carrier: text(raw.carrier, 'shipping[carrier]'),
    name,
    phone: text(raw.phone, 'shipping[phone]'),
    tracking_number: text(raw.tracking_number, 'shipping[tracking_number]'),
  };
}

export function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}
