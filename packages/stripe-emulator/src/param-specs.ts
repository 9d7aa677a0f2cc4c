import type { ParamSpecs } from './params';

/**
 * The parameters each served operation takes: exactly those of Stripe's OpenAPI spec, as stripe-node
 * 23.1.0 (generated from spec v2596, API version 2026-10-28.endive) declares them in its
 * `*Params` types. `test/param-specs.test.ts` fails to typecheck when a key here differs from the
 * SDK's, at the top level and in every hash spelled out below. The `'unchecked'` hashes are listed
 * in params.ts; `expand` (which stripe-node also sends) is a parameter of every operation.
 */

const SHIPPING = {
  address: { city: true, country: true, line1: true, line2: true, postal_code: true, state: true },
  carrier: true,
  name: true,
  phone: true,
  tracking_number: true,
} as const;
const HOOKS = { inputs: { tax: { calculation: true } } } as const;
const PAYMENT_DETAILS = { customer_reference: true, order_reference: true } as const;
const RADAR_OPTIONS = { referrer: true, session: true } as const;
const MANDATE_DATA = {
  customer_acceptance: {
    accepted_at: true,
    offline: {},
    online: { ip_address: true, user_agent: true },
    type: true,
  },
} as const;
const CREATED = { gt: true, gte: true, lt: true, lte: true } as const;
const PAGINATION = { ending_before: true, limit: true, starting_after: true } as const;

export const PAYMENT_INTENT_CREATE_PARAMS = {
  amount: true,
  currency: true,
  allowed_payment_method_types: true,
  amount_details: 'unchecked',
  application_fee_amount: true,
  automatic_payment_methods: { allow_redirects: true, enabled: true },
  capture_method: true,
  confirm: true,
  confirmation_method: true,
  confirmation_token: true,
  customer: true,
  customer_account: true,
  description: true,
  error_on_requires_action: true,
  excluded_payment_method_types: true,
  expand: true,
  hooks: HOOKS,
  mandate: true,
  mandate_data: MANDATE_DATA,
  metadata: 'metadata',
  off_session: true,
  on_behalf_of: true,
  payment_details: PAYMENT_DETAILS,
  payment_method: true,
  payment_method_configuration: true,
  payment_method_data: 'unchecked',
  payment_method_options: 'unchecked',
  radar_options: RADAR_OPTIONS,
  receipt_email: true,
  return_url: true,
  setup_future_usage: true,
  shipping: SHIPPING,
  statement_descriptor: true,
  statement_descriptor_suffix: true,
  transfer_data: {
    amount: true,
    description: true,
    destination: true,
    metadata: 'metadata',
    payment_data: { description: true, metadata: 'metadata' },
  },
  transfer_group: true,
  use_stripe_sdk: true,
} as const satisfies ParamSpecs;

export const PAYMENT_INTENT_RETRIEVE_PARAMS = {
  client_secret: true,
  expand: true,
} as const satisfies ParamSpecs;

export const PAYMENT_INTENT_CONFIRM_PARAMS = {
  allowed_payment_method_types: true,
  amount_details: 'unchecked',
  amount_to_confirm: true,
  capture_method: true,
  confirmation_token: true,
  error_on_requires_action: true,
  excluded_payment_method_types: true,
  expand: true,
  hooks: HOOKS,
  mandate: true,
  mandate_data: MANDATE_DATA,
  off_session: true,
  payment_details: PAYMENT_DETAILS,
  payment_method: true,
  payment_method_data: 'unchecked',
  payment_method_options: 'unchecked',
  radar_options: RADAR_OPTIONS,
  receipt_email: true,
  return_url: true,
  setup_future_usage: true,
  shipping: SHIPPING,
  use_stripe_sdk: true,
} as const satisfies ParamSpecs;

export const PAYMENT_INTENT_CANCEL_PARAMS = {
  cancellation_reason: true,
  expand: true,
} as const satisfies ParamSpecs;

export const PAYMENT_INTENT_CAPTURE_PARAMS = {
  amount_details: 'unchecked',
  amount_to_capture: true,
  application_fee_amount: true,
  expand: true,
  final_capture: true,
  hooks: HOOKS,
  metadata: 'metadata',
  payment_details: PAYMENT_DETAILS,
  statement_descriptor: true,
  statement_descriptor_suffix: true,
  transfer_data: { amount: true },
} as const satisfies ParamSpecs;

export const PAYMENT_INTENT_LIST_PARAMS = {
  created: CREATED,
  customer: true,
  customer_account: true,
  expand: true,
  ...PAGINATION,
} as const satisfies ParamSpecs;

export const PAYMENT_INTENT_SEARCH_PARAMS = {
  query: true,
  expand: true,
  limit: true,
  page: true,
} as const satisfies ParamSpecs;

export const EVENT_RETRIEVE_PARAMS = { expand: true } as const satisfies ParamSpecs;

export const EVENT_LIST_PARAMS = {
  created: CREATED,
  delivery_success: true,
  expand: true,
  type: true,
  types: true,
  ...PAGINATION,
} as const satisfies ParamSpecs;

export const REFUND_CREATE_PARAMS = {
  amount: true,
  charge: true,
  currency: true,
  customer: true,
  expand: true,
  instructions_email: true,
  metadata: 'metadata',
  origin: true,
  payment_intent: true,
  reason: true,
  refund_application_fee: true,
  reverse_transfer: true,
} as const satisfies ParamSpecs;

export const REFUND_RETRIEVE_PARAMS = { expand: true } as const satisfies ParamSpecs;

export const REFUND_LIST_PARAMS = {
  charge: true,
  created: CREATED,
  expand: true,
  payment_intent: true,
  ...PAGINATION,
} as const satisfies ParamSpecs;
