import type { ApiContext, ApiResult } from './context';
import { checkMinimumAmount } from './currencies';
import { invalidRequest, resourceMissing } from './errors';
import { nowSeconds } from './ids';
import { requestCause as cause, findRecord, unexpectedState } from './intent-helpers';
import { newPaymentIntent, nonEmpty } from './payment-intent-object';
import { isKnownPaymentMethod } from './payment-methods';
import {
  type AuthenticationOptions,
  confirmPayment,
  requestedThreeDSecure,
  supersedePending,
} from './three-d-secure';
import type { Params } from './types';
import {
  optionalBoolean,
  optionalEnum,
  optionalString,
  parseAmount,
  parseCurrency,
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
  // Read even without confirm=true (Stripe refuses them then; the emulator ignores them).
  const authentication = authenticationOptions(p);
  const metadata = parseMetadata(p);
  if (confirm && paymentMethod === null) {
    throw invalidRequest(
      "You cannot confirm this PaymentIntent because it's missing a payment method. Specify a payment method with the `payment_method` parameter.",
      { param: 'payment_method', code: 'parameter_missing' },
    );
  }
  const pi = newPaymentIntent(p, { amount, currency, paymentMethod, metadata });
  pi.payment_method_options.card.request_three_d_secure = requestedThreeDSecure(p) ?? 'automatic';
  const record = ctx.state.addPaymentIntent(pi, ctx.idempotencyKey);
  ctx.state.emitEvent('payment_intent.created', pi, cause(ctx));
  if (confirm && paymentMethod !== null) {
    return confirmPayment(ctx.state, record, paymentMethod, authentication, cause(ctx));
  }
  return { status: 200, body: pi };
}

/** `GET /v1/payment_intents/:id` */
export function retrievePaymentIntent(ctx: ApiContext): ApiResult {
  return { status: 200, body: findRecord(ctx).pi };
}

/**
 * `POST /v1/payment_intents/:id/confirm`: charges the payment method, or asks for 3D Secure
 * (`requires_action`) when its test card does (see three-d-secure.ts).
 */
export function confirmPaymentIntent(ctx: ApiContext): ApiResult {
  const record = findRecord(ctx);
  const { pi } = record;
  const paymentMethod = paymentMethodParam(ctx.params) ?? pi.payment_method;
  const authentication = authenticationOptions(ctx.params);
  const requested = requestedThreeDSecure(ctx.params);
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
  if (pi.payment_method !== paymentMethod) delete record.authenticated;
  pi.payment_method = paymentMethod;
  if (requested !== undefined) pi.payment_method_options.card.request_three_d_secure = requested;
  return confirmPayment(ctx.state, record, paymentMethod, authentication, cause(ctx));
}

/**
 * `POST /v1/payment_intents/:id/cancel`: from `requires_capture` it releases the authorization
 * (`amount_capturable` back to 0); a pending 3D Secure challenge no longer counts.
 */
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
  delete record.captureBefore;
  supersedePending(record);
  ctx.state.emitEvent('payment_intent.canceled', pi, cause(ctx));
  return { status: 200, body: pi };
}

function paymentMethodParam(params: Params): string | null {
  const id = nonEmpty(optionalString(params, 'payment_method'));
  if (id !== null && !isKnownPaymentMethod(id)) {
    throw resourceMissing(`No such PaymentMethod: '${id}'`, 'payment_method', 400);
  }
  return id;
}

/**
 * `return_url` (checked to be a URL: Stripe's code for a bad one, its wording not recorded here),
 * and whether a card asking for authentication must fail instead: `error_on_requires_action=true`,
 * or an off-session payment (`off_session` true / `one_off` / `recurring`), which has nobody to ask.
 */
function authenticationOptions(params: Params): AuthenticationOptions {
  const returnUrl = nonEmpty(optionalString(params, 'return_url'));
  if (returnUrl !== null && !URL.canParse(returnUrl)) {
    throw invalidRequest('Not a valid URL', { param: 'return_url', code: 'url_invalid' });
  }
  const errorOnRequiresAction = optionalBoolean(params, 'error_on_requires_action') ?? false;
  const offSession = params.off_session;
  const failInsteadOfAction =
    errorOnRequiresAction || offSession === 'true' || offSession === 'one_off' || offSession === 'recurring';
  return { returnUrl, failInsteadOfAction };
}
