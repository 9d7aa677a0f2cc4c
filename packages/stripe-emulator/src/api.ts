import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { authenticate } from './auth';
import type { ApiHandler } from './context';
import { ApiError, invalidRequest, unrecognizedUrl } from './errors';
import { canonicalJson, decodeForm, FormDecodeError } from './form';
import { errorJson, headerValue, sendJson, serialize, shouldRetryHeader } from './http';
import type { Reservation } from './idempotency';
import { randomId } from './ids';
import { listPaymentIntents, searchPaymentIntents } from './list';
import {
  cancelPaymentIntent,
  capturePaymentIntent,
  confirmPaymentIntent,
  createPaymentIntent,
  retrievePaymentIntent,
} from './payment-intents';
import type { EmulatorState } from './store';
import type { Params } from './types';

interface Route {
  method: 'GET' | 'POST';
  pattern: RegExp;
  handler: ApiHandler;
}

// Order matters: `/search` must win over `/:id`.
const ROUTES: Route[] = [
  { method: 'GET', pattern: /^\/v1\/payment_intents$/, handler: listPaymentIntents },
  { method: 'POST', pattern: /^\/v1\/payment_intents$/, handler: createPaymentIntent },
  { method: 'GET', pattern: /^\/v1\/payment_intents\/search$/, handler: searchPaymentIntents },
  { method: 'GET', pattern: /^\/v1\/payment_intents\/(?<id>[^/]+)$/, handler: retrievePaymentIntent },
  {
    method: 'POST',
    pattern: /^\/v1\/payment_intents\/(?<id>[^/]+)\/confirm$/,
    handler: confirmPaymentIntent,
  },
  { method: 'POST', pattern: /^\/v1\/payment_intents\/(?<id>[^/]+)\/cancel$/, handler: cancelPaymentIntent },
  {
    method: 'POST',
    pattern: /^\/v1\/payment_intents\/(?<id>[^/]+)\/capture$/,
    handler: capturePaymentIntent,
  },
];

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface ApiDeps {
  state: EmulatorState;
  /** Waits `ms`; resolves false when the emulator is closing and the request must not execute. */
  delay(ms: number): Promise<boolean>;
}

/**
 * One `/v1/*` request: auth → decode → route → idempotency check/reservation (synchronous, so two
 * concurrent requests with one key cannot both reserve it) → latency → execute → store for replay.
 */
export async function handleApiRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  rawBody: string,
  deps: ApiDeps,
): Promise<void> {
  const { state } = deps;
  const method = (req.method ?? 'GET').toUpperCase();
  const requestId = randomId('req', 14);
  const baseHeaders: OutgoingHttpHeaders = { 'Request-Id': requestId };
  const stripeVersion = headerValue(req, 'stripe-version');
  if (stripeVersion) baseHeaders['Stripe-Version'] = stripeVersion;
  const fail = (error: ApiError, extra: OutgoingHttpHeaders = {}) =>
    sendJson(res, error.status, errorJson(error.body), {
      ...baseHeaders,
      ...shouldRetryHeader(error.status),
      ...extra,
    });

  const auth = authenticate(headerValue(req, 'authorization'));
  if (!auth.ok) {
    fail(auth.error, { 'WWW-Authenticate': 'Basic realm="Stripe"' });
    return;
  }

  let params: Params;
  try {
    params = decodeForm(method === 'POST' ? rawBody : url.search.slice(1));
  } catch (err) {
    if (!(err instanceof FormDecodeError)) throw err;
    fail(invalidRequest(err.message));
    return;
  }

  const match = matchRoute(method, url.pathname);
  if (!match) {
    fail(unrecognizedUrl(method, url.pathname));
    return;
  }

  const rawKey = method === 'POST' ? headerValue(req, 'idempotency-key') : undefined;
  const idempotencyKey = rawKey === undefined || rawKey === '' ? null : rawKey;
  let reservation: Reservation | null = null;
  if (idempotencyKey !== null) {
    baseHeaders['Idempotency-Key'] = idempotencyKey;
    if (idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      fail(invalidRequest(`Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long.`));
      return;
    }
    const fingerprint = `${method} ${url.pathname} ${canonicalJson(params)}`;
    const lookup = state.idempotency.begin(auth.key, idempotencyKey, fingerprint);
    if (lookup.kind === 'mismatch') {
      fail(
        new ApiError(400, {
          type: 'idempotency_error',
          message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${idempotencyKey}' if you meant to execute a different request.`,
        }),
      );
      return;
    }
    if (lookup.kind === 'in_flight') {
      fail(
        new ApiError(409, {
          type: 'idempotency_error',
          code: 'idempotency_key_in_use',
          message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${idempotencyKey}. Please try again later.`,
        }),
      );
      return;
    }
    if (lookup.kind === 'replay') {
      const { response } = lookup;
      sendJson(res, response.status, response.body, {
        ...baseHeaders,
        ...shouldRetryHeader(response.status),
        'Idempotent-Replayed': 'true',
        'Original-Request': response.requestId,
      });
      return;
    }
    reservation = lookup.reservation;
    baseHeaders['Original-Request'] = requestId;
  }

  // Everything above ran synchronously; from here on other requests may interleave.
  const proceed = await deps.delay(state.latencyMs);
  if (!proceed) {
    reservation?.release();
    res.destroy();
    return;
  }
  let status: number;
  let body: string;
  let executed = false;
  try {
    const result = match.handler({ state, params, path: match.path, requestId, idempotencyKey });
    status = result.status;
    body = serialize(result.body);
    executed = true;
  } catch (err) {
    const error =
      err instanceof ApiError
        ? err
        : new ApiError(500, {
            type: 'api_error',
            message: `The emulator failed to handle this request: ${err instanceof Error ? err.message : String(err)}`,
          });
    status = error.status;
    body = errorJson(error.body);
  }
  if (executed) reservation?.complete({ status, body, requestId });
  else reservation?.release();
  sendJson(res, status, body, { ...baseHeaders, ...shouldRetryHeader(status) });
}

function matchRoute(
  method: string,
  pathname: string,
): { handler: ApiHandler; path: Record<string, string> } | null {
  for (const route of ROUTES) {
    if (route.method !== method) continue;
    const m = route.pattern.exec(pathname);
    if (!m) continue;
    const path: Record<string, string> = {};
    for (const [name, value] of Object.entries(m.groups ?? {})) {
      try {
        path[name] = decodeURIComponent(value);
      } catch {
        path[name] = value;
      }
    }
    return { handler: route.handler, path };
  }
  return null;
}
