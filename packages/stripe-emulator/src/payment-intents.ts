import { attemptPayment } from './charge';
import type { ApiContext, ApiResult } from './context';
import { checkMinimumAmount } from './currencies';
import { invalidRequest, resourceMissing } from './errors';
import { nowSeconds } from './ids';
import { newPaymentIntent, nonEmpty } from './payment-intent-object';
import { isKnownPaymentMethod } from './payment-methods';
import type { EventCause, PaymentIntentRecord } from './store';
import type { Params, PaymentIntentObject } from './types';
import {
  optionalBoolean,
  optionalEnum,
  optionalString,
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

/**
 * `POST /v1/payment_intents`. Every validation happens before anything is stored. As in Stripe, the
 * new PaymentIntent emits `payment_intent.created` first; with `confirm=true` the charge's outcome
 * event (`succeeded`, `payment_failed`, ...) follows. Stripe's docs do not say which state the
 * `created` event's snapshot shows when `confirm=true`; the emulator's shows the state before the
 * charge (`requires_confirmation`).
 */
export function createPaymentIntent(ctx: ApiContext): ApiResult {
  const p = ctx.params;
  const amount = parseAmount(p);
  const currency = parseCurrency(p);
  checkMinimumAmount(amount, currency);
  const paymentMethod = paymentMethodParam(p);
  const confirm = optionalBoolean(p, 'confirm') ?? false;
  // Validated only: no emulated test card asks for authentication (requires_action).
  optionalBoolean(p, 'error_on_requires_action');
  const metadata = parseMetadata(p);
  if (confirm && paymentMethod === null) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. Specify a payment method with the `payment_method` parameter.",
      { param: 'payment_method', code: 'parameter_missing' },
    );
  }
  const pi = newPaymentIntent(p, { amount, currency, paymentMethod, metadata });
  const record = ctx.state.addPaymentIntent(pi, ctx.idempotencyKey);
  ctx.state.emitEvent('payment_intent.created', pi, cause(ctx));
  if (confirm && paymentMethod !== null) return attemptPayment(ctx.state, record, paymentMethod, cause(ctx));
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
  pi.payment_method = paymentMethod;
  return attemptPayment(ctx.state, record, paymentMethod, cause(ctx));
}

/** `POST /v1/payment_intents/:id/cancel` */
export function cancelPaymentIntent(ctx: ApiContext): ApiResult {
  const record = findRecord(ctx);
  const { pi } = record;
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
  delete record.settleAt;
  ctx.state.emitEvent('payment_intent.canceled', pi, cause(ctx));
  return { status: 200, body: pi };
}

/** `POST /v1/payment_intents/:id/capture` (for `capture_method: 'manual'`). */
export function capturePaymentIntent(ctx: ApiContext): ApiResult {
  const { pi } = findRecord(ctx);
  const metadata = parseMetadata(ctx.params, pi.metadata);
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
  pi.metadata = metadata;
  pi.status = 'succeeded';
  pi.amount_received = amount;
  pi.amount_capturable = 0;
  ctx.state.emitEvent('payment_intent.succeeded', pi, cause(ctx));
  return { status: 200, body: pi };
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

function cause(ctx: ApiContext): EventCause {
  return { id: ctx.requestId, idempotency_key: ctx.idempotencyKey };
}
