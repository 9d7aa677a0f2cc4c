import type { ApiContext, ApiResult } from './context';
import { docUrl, invalidRequest, resourceMissing } from './errors';
import { nowSeconds, randomId } from './ids';
import { cardOutcome, isKnownPaymentMethod, paymentMethodObject } from './payment-methods';
import type { PaymentIntentRecord } from './store';
import type { LastPaymentError, Params, PaymentIntentObject } from './types';
import {
  optionalBoolean,
  optionalEnum,
  optionalString,
  optionalStringArray,
  parseAmount,
  parseCurrency,
  parseInteger,
  parseMetadata,
} from './validate';

const CONFIRMABLE = ['requires_payment_method', 'requires_confirmation', 'requires_action'];
const CANCELABLE = [
  'requires_payment_method',
  'requires_capture',
  'requires_confirmation',
  'requires_action',
  'processing',
];

/** `POST /v1/payment_intents`. Every validation happens before anything is stored. */
export function createPaymentIntent(ctx: ApiContext): ApiResult {
  const p = ctx.params;
  const amount = parseAmount(p);
  const currency = parseCurrency(p);
  const paymentMethod = paymentMethodParam(p);
  const confirm = optionalBoolean(p, 'confirm') ?? false;
  const metadata = parseMetadata(p);
  const captureMethod = optionalEnum(p, 'capture_method', ['automatic', 'automatic_async', 'manual']);
  const confirmationMethod = optionalEnum(p, 'confirmation_method', ['automatic', 'manual']);
  const setupFutureUsage = optionalEnum(p, 'setup_future_usage', ['off_session', 'on_session']);
  const paymentMethodTypes = optionalStringArray(p, 'payment_method_types');
  const applicationFee = p.application_fee_amount;
  if (confirm && paymentMethod === null) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. Specify a payment method with the `payment_method` parameter.",
      { param: 'payment_method', code: 'parameter_missing' },
    );
  }

  const id = randomId('pi');
  const pi: PaymentIntentObject = {
    id,
    object: 'payment_intent',
    amount,
    amount_capturable: 0,
    amount_details: { tip: {} },
    amount_received: 0,
    application: null,
    application_fee_amount:
      applicationFee === undefined || applicationFee === ''
        ? null
        : parseInteger(applicationFee, 'application_fee_amount'),
    automatic_payment_methods: paymentMethodTypes ? null : { enabled: true },
    canceled_at: null,
    cancellation_reason: null,
    capture_method: captureMethod ?? 'automatic_async',
    client_secret: `${id}_secret_${randomId('x', 25).slice(2)}`,
    confirmation_method: confirmationMethod ?? 'automatic',
    created: nowSeconds(),
    currency,
    customer: nonEmpty(optionalString(p, 'customer')),
    description: nonEmpty(optionalString(p, 'description')),
    last_payment_error: null,
    latest_charge: null,
    livemode: false,
    metadata,
    next_action: null,
    on_behalf_of: null,
    payment_method: paymentMethod,
    payment_method_configuration_details: null,
    payment_method_options: {},
    payment_method_types: paymentMethodTypes ?? ['card'],
    processing: null,
    receipt_email: nonEmpty(optionalString(p, 'receipt_email')),
    review: null,
    setup_future_usage: setupFutureUsage ?? null,
    shipping: null,
    source: null,
    statement_descriptor: nonEmpty(optionalString(p, 'statement_descriptor')),
    statement_descriptor_suffix: nonEmpty(optionalString(p, 'statement_descriptor_suffix')),
    status: paymentMethod === null ? 'requires_payment_method' : 'requires_confirmation',
    transfer_data: null,
    transfer_group: nonEmpty(optionalString(p, 'transfer_group')),
  };
  const record = ctx.state.addPaymentIntent(pi, ctx.idempotencyKey);
  if (confirm && paymentMethod !== null) return attemptPayment(record, paymentMethod);
  return { status: 200, body: pi };
}

/** `GET /v1/payment_intents/:id` */
export function retrievePaymentIntent(ctx: ApiContext): ApiResult {
  return { status: 200, body: findRecord(ctx).pi };
}

/** `POST /v1/payment_intents/:id/confirm` */
export function confirmPaymentIntent(ctx: ApiContext): ApiResult {
  const record = findRecord(ctx);
  const { pi } = record;
  const paymentMethod = paymentMethodParam(ctx.params) ?? pi.payment_method;
  const metadata = parseMetadata(ctx.params, pi.metadata);
  if (!CONFIRMABLE.includes(pi.status)) {
    throw unexpectedState(
      pi,
      `You cannot confirm this PaymentIntent because it has a status of ${pi.status}.`,
    );
  }
  if (paymentMethod === null) {
    throw unexpectedState(
      pi,
      "You cannot confirm this PaymentIntent because it's missing a payment method. Update the PaymentIntent with a payment method and then confirm it again.",
    );
  }
  pi.metadata = metadata;
  pi.payment_method = paymentMethod;
  return attemptPayment(record, paymentMethod);
}

/** `POST /v1/payment_intents/:id/cancel` */
export function cancelPaymentIntent(ctx: ApiContext): ApiResult {
  const { pi } = findRecord(ctx);
  const reason = optionalEnum(ctx.params, 'cancellation_reason', [
    'duplicate',
    'fraudulent',
    'requested_by_customer',
    'abandoned',
  ]);
  if (!CANCELABLE.includes(pi.status)) {
    throw unexpectedState(
      pi,
      `You cannot cancel this PaymentIntent because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be canceled: ${CANCELABLE.join(', ')}.`,
    );
  }
  pi.status = 'canceled';
  pi.canceled_at = nowSeconds();
  pi.cancellation_reason = reason ?? null;
  pi.amount_capturable = 0;
  return { status: 200, body: pi };
}

/** `POST /v1/payment_intents/:id/capture` (for `capture_method: 'manual'`). */
export function capturePaymentIntent(ctx: ApiContext): ApiResult {
  const { pi } = findRecord(ctx);
  const raw = ctx.params.amount_to_capture;
  const amount =
    raw === undefined || raw === '' ? pi.amount_capturable : parseInteger(raw, 'amount_to_capture');
  if (pi.status !== 'requires_capture') {
    throw unexpectedState(
      pi,
      `This PaymentIntent could not be captured because it has a status of ${pi.status}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.`,
    );
  }
  if (amount < 1 || amount > pi.amount_capturable) {
    throw invalidRequest(`The amount to capture must be between 1 and ${pi.amount_capturable}.`, {
      param: 'amount_to_capture',
      code: 'amount_too_large',
    });
  }
  pi.status = 'succeeded';
  pi.amount_received = amount;
  pi.amount_capturable = 0;
  return { status: 200, body: pi };
}

/** Charges the test card: success moves the PI on; a decline is a 402 carrying the updated PI. */
function attemptPayment(record: PaymentIntentRecord, paymentMethod: string): ApiResult {
  const { pi } = record;
  const chargeId = randomId('ch');
  pi.latest_charge = chargeId;
  const outcome = cardOutcome(paymentMethod);
  if (outcome.kind === 'success') {
    pi.last_payment_error = null;
    if (pi.capture_method === 'manual') {
      pi.status = 'requires_capture';
      pi.amount_capturable = pi.amount;
    } else {
      pi.status = 'succeeded';
      pi.amount_received = pi.amount;
    }
    return { status: 200, body: pi };
  }
  const error: LastPaymentError = {
    type: 'card_error',
    code: outcome.code,
    decline_code: outcome.declineCode,
    message: outcome.message,
    doc_url: docUrl(outcome.code),
    charge: chargeId,
    payment_method: paymentMethodObject(paymentMethod),
  };
  // As in Stripe, a failed attempt detaches the payment method and asks for a new one.
  pi.last_payment_error = error;
  pi.payment_method = null;
  pi.status = 'requires_payment_method';
  return {
    status: 402,
    body: {
      error: {
        charge: chargeId,
        code: error.code,
        decline_code: error.decline_code,
        doc_url: error.doc_url,
        message: error.message,
        payment_intent: structuredClone(pi),
        payment_method: error.payment_method,
        type: 'card_error',
      },
    },
  };
}

function paymentMethodParam(params: Params): string | null {
  const id = nonEmpty(optionalString(params, 'payment_method'));
  if (id !== null && !isKnownPaymentMethod(id)) {
    throw resourceMissing(`No such PaymentMethod: '${id}'`, 'payment_method', 400);
  }
  return id;
}

function findRecord(ctx: ApiContext): PaymentIntentRecord {
  const id = ctx.path.id ?? '';
  const record = ctx.state.getPaymentIntent(id);
  if (!record) throw resourceMissing(`No such payment_intent: '${id}'`, 'intent');
  return record;
}

function unexpectedState(pi: PaymentIntentObject, message: string) {
  const error = invalidRequest(message, { code: 'payment_intent_unexpected_state' });
  error.body.payment_intent = structuredClone(pi);
  return error;
}

function nonEmpty(value: string | undefined): string | null {
  return value === undefined || value === '' ? null : value;
}
