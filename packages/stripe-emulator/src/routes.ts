import { capturePaymentIntent } from './capture';
import type { ApiHandler } from './context';
import { ApiError, parameterUnknown } from './errors';
import { listEvents, retrieveEvent } from './events';
import { listPaymentIntents, searchPaymentIntents } from './list';
import {
  EVENT_LIST_PARAMS,
  EVENT_RETRIEVE_PARAMS,
  PAYMENT_INTENT_CANCEL_PARAMS,
  PAYMENT_INTENT_CAPTURE_PARAMS,
  PAYMENT_INTENT_CONFIRM_PARAMS,
  PAYMENT_INTENT_CREATE_PARAMS,
  PAYMENT_INTENT_LIST_PARAMS,
  PAYMENT_INTENT_RETRIEVE_PARAMS,
  PAYMENT_INTENT_SEARCH_PARAMS,
  REFUND_CREATE_PARAMS,
  REFUND_LIST_PARAMS,
  REFUND_RETRIEVE_PARAMS,
} from './param-specs';
import { type ParamSpecs, unknownParams } from './params';
import {
  cancelPaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  retrievePaymentIntent,
} from './payment-intents';
import { createRefund, listRefunds, retrieveRefund } from './refunds';

export interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  /** The name fault rules match on, e.g. `payment_intents.create`. */
  operation: string;
  handler: ApiHandler;
}

const PI = '/v1/payment_intents';
const ON_INTENT = true;
// Order matters: `/search` must win over `/:id`.
const ROUTES: Route[] = [
  route('GET', `^${PI}$`, 'payment_intents.list', PAYMENT_INTENT_LIST_PARAMS, listPaymentIntents),
  route('POST', `^${PI}$`, 'payment_intents.create', PAYMENT_INTENT_CREATE_PARAMS, createPaymentIntent),
  route(
    'GET',
    `^${PI}/search$`,
    'payment_intents.search',
    PAYMENT_INTENT_SEARCH_PARAMS,
    searchPaymentIntents,
  ),
  route(
    'GET',
    `^${PI}/(?<id>[^/]+)$`,
    'payment_intents.retrieve',
    PAYMENT_INTENT_RETRIEVE_PARAMS,
    retrievePaymentIntent,
    ON_INTENT,
  ),
  route(
    'POST',
    `^${PI}/(?<id>[^/]+)/confirm$`,
    'payment_intents.confirm',
    PAYMENT_INTENT_CONFIRM_PARAMS,
    confirmPaymentIntent,
    ON_INTENT,
  ),
  route(
    'POST',
    `^${PI}/(?<id>[^/]+)/cancel$`,
    'payment_intents.cancel',
    PAYMENT_INTENT_CANCEL_PARAMS,
    cancelPaymentIntent,
    ON_INTENT,
  ),
  route(
    'POST',
    `^${PI}/(?<id>[^/]+)/capture$`,
    'payment_intents.capture',
    PAYMENT_INTENT_CAPTURE_PARAMS,
    capturePaymentIntent,
    ON_INTENT,
  ),
  route('GET', '^/v1/refunds$', 'refunds.list', REFUND_LIST_PARAMS, listRefunds),
  route('POST', '^/v1/refunds$', 'refunds.create', REFUND_CREATE_PARAMS, createRefund),
  route('GET', '^/v1/refunds/(?<id>[^/]+)$', 'refunds.retrieve', REFUND_RETRIEVE_PARAMS, retrieveRefund),
  route('GET', '^/v1/events$', 'events.list', EVENT_LIST_PARAMS, listEvents),
  route('GET', '^/v1/events/(?<id>[^/]+)$', 'events.retrieve', EVENT_RETRIEVE_PARAMS, retrieveEvent),
];

/**
 * A route whose handler runs only with parameters the operation takes (an unknown one is Stripe's
 * 400 `parameter_unknown`, before anything else is looked at). `onIntent`: the route acts on the
 * PaymentIntent in its path, and, as in Stripe, a request error there carries that PaymentIntent
 * (`error.payment_intent`) when it exists.
 */
function route(
  method: Route['method'],
  pattern: string,
  operation: string,
  params: ParamSpecs,
  handler: ApiHandler,
  onIntent = false,
): Route {
  const checked: ApiHandler = (ctx) => {
    const unknown = unknownParams(params, ctx.params);
    if (unknown.length > 0) throw parameterUnknown(unknown);
    return handler(ctx);
  };
  const wrapped: ApiHandler = onIntent
    ? (ctx) => {
        try {
          return checked(ctx);
        } catch (err) {
          const record = ctx.state.getPaymentIntent(ctx.path.id ?? '');
          if (err instanceof ApiError && err.body.type === 'invalid_request_error' && record) {
            err.body.payment_intent ??= structuredClone(record.pi);
          }
          throw err;
        }
      }
    : checked;
  return { method, pattern: new RegExp(pattern), operation, handler: wrapped };
}

export function matchRoute(
  method: string,
  pathname: string,
): { handler: ApiHandler; operation: string; path: Record<string, string> } | null {
  for (const candidate of ROUTES) {
    if (candidate.method !== method) continue;
    const m = candidate.pattern.exec(pathname);
    if (!m) continue;
    const path: Record<string, string> = {};
    for (const [name, value] of Object.entries(m.groups ?? {})) {
      try {
        path[name] = decodeURIComponent(value);
      } catch {
        path[name] = value;
      }
    }
    return { handler: candidate.handler, operation: candidate.operation, path };
  }
  return null;
}
