import type { IncomingMessage, OutgoingHttpHeaders, ServerResponse } from 'node:http';
import { authenticate } from './auth';
import {
  ApiError,
  idempotencyKeyInUse,
  idempotencyMismatch,
  invalidRequest,
  type StripeErrorBody,
  serverError,
  unrecognizedUrl,
  withRequestLog,
} from './errors';
import type { FaultEngine } from './faults';
import { canonicalJson, decodeForm, FormDecodeError } from './form';
import { errorJson, headerValue, sendJson, serialize, shouldRetryHeader } from './http';
import type { Reservation } from './idempotency';
import { matchRoute } from './routes';
import type { EmulatorState } from './store';
import type { Params } from './types';

const MAX_IDEMPOTENCY_KEY_LENGTH = 255;

export interface ApiDeps {
  state: EmulatorState;
  faults: FaultEngine;
  /** Waits `ms`; resolves false when the emulator is closing and the request must not execute. */
  delay(ms: number): Promise<boolean>;
  /** Waits until the client disconnects; false when the emulator is closing. */
  untilClientGone(res: ServerResponse): Promise<boolean>;
  /** Persists state (state file) before a mutating request's response is sent. */
  persist(): void;
}

/** The request's `Request-Id` and arrival time (unix seconds), for headers and `request_log_url`. */
export interface RequestIdentity {
  id: string;
  atSeconds: number;
}

/**
 * One `/v1/*` request: auth → decode → route → fault decision → idempotency check/reservation (all
 * synchronous, so two concurrent requests with one key cannot both reserve it) → latency / hang →
 * execute → store for replay → persist → respond (or, per the fault, 5xx / lose the response).
 */
export async function handleApiRequest(
  req: IncomingMessage,
  res: ServerResponse,
  url: URL,
  rawBody: string,
  request: RequestIdentity,
  deps: ApiDeps,
): Promise<void> {
  const { state } = deps;
  const method = (req.method ?? 'GET').toUpperCase();
  const requestId = request.id;
  // Every error body names this request's dashboard log, as Stripe's do.
  const errorBody = (body: StripeErrorBody) => errorJson(withRequestLog(body, request.id, request.atSeconds));
  const baseHeaders: OutgoingHttpHeaders = { 'Request-Id': requestId };
  const stripeVersion = headerValue(req, 'stripe-version');
  if (stripeVersion) baseHeaders['Stripe-Version'] = stripeVersion;
  const fail = (error: ApiError, extra: OutgoingHttpHeaders = {}) =>
    sendJson(res, error.status, errorBody(error.body), {
      ...baseHeaders,
      ...shouldRetryHeader(error.status),
      ...extra,
    });

  const auth = authenticate(headerValue(req, 'authorization'), state.expiredKeys);
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
  if (idempotencyKey !== null) {
    baseHeaders['Idempotency-Key'] = idempotencyKey;
    if (idempotencyKey.length > MAX_IDEMPOTENCY_KEY_LENGTH) {
      fail(invalidRequest(`Idempotency-Key must be at most ${MAX_IDEMPOTENCY_KEY_LENGTH} characters long.`));
      return;
    }
  }

  // Faults are decided synchronously on arrival, before the key is looked at, so an injected 5xx or
  // 409 "before executing" never reserves or stores the key (a retry executes).
  const fault = deps.faults.decide({
    operation: match.operation,
    idempotencyKey,
    metadata: stringMetadata(params),
    executes: idempotencyKey === null || state.idempotency.wouldExecute(auth.key, idempotencyKey),
  });
  if (fault?.fault === 'error_before') return fail(serverError(fault.status));
  if (fault?.fault === 'in_use_409' && idempotencyKey !== null)
    return fail(idempotencyKeyInUse(idempotencyKey));
  // latency / hang hold the request after the key is reserved (a concurrent retry gets 409, as with a
  // slow Stripe) and then execute it even if the client has given up: the charge lands late.
  const hold = async (): Promise<boolean> => {
    if (fault?.fault === 'hang') return fault.ms === null ? deps.untilClientGone(res) : deps.delay(fault.ms);
    return fault?.fault === 'latency' ? deps.delay(fault.ms ?? 0) : true;
  };

  // reset_after: whatever the request's fate (executed, replayed, refused), the answer is lost.
  const lost = fault?.fault === 'reset_after';
  let reservation: Reservation | null = null;
  if (idempotencyKey !== null) {
    const fingerprint = `${method} ${url.pathname} ${canonicalJson(params)}`;
    const lookup = state.idempotency.begin(auth.key, idempotencyKey, fingerprint);
    if (lookup.kind !== 'reserved' && lost) return void res.destroy();
    if (lookup.kind === 'mismatch') return fail(idempotencyMismatch(idempotencyKey));
    if (lookup.kind === 'in_flight') return fail(idempotencyKeyInUse(idempotencyKey));
    if (lookup.kind === 'replay') {
      const { response } = lookup;
      if (!(await hold())) return void res.destroy();
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
  const proceed = (await deps.delay(state.latencyMs)) && (await hold());
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
    body = serialize(withErrorLog(result.body, request));
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
    body = errorBody(error.body);
  }
  // error_after: the work is done, but the answer is a 5xx — and, as in Stripe, that 5xx is what the
  // key stores and replays. reset_after stores the real result, then loses the response.
  if (fault?.fault === 'error_after') {
    const error = serverError(fault.status);
    status = error.status;
    body = errorBody(error.body);
  }
  if (executed) reservation?.complete({ status, body, requestId });
  else reservation?.release();
  if (executed && method === 'POST') deps.persist();
  if (lost) {
    res.destroy();
    return;
  }
  sendJson(res, status, body, { ...baseHeaders, ...shouldRetryHeader(status) });
}

/** `metadata[k]=v` request parameters (string values only), for fault rules. */
function stringMetadata(params: Params): Record<string, string> {
  const out: Record<string, string> = {};
  const metadata = params.metadata;
  if (metadata && typeof metadata === 'object' && !Array.isArray(metadata)) {
    for (const [k, v] of Object.entries(metadata)) if (typeof v === 'string') out[k] = v;
  }
  return out;
}

/** A handler's result that is an error (a card decline's 402) gets `request_log_url` too. */
function withErrorLog(body: unknown, request: RequestIdentity): unknown {
  if (body === null || typeof body !== 'object' || !('error' in body)) return body;
  const { error } = body as { error: StripeErrorBody };
  return { ...body, error: withRequestLog(error, request.id, request.atSeconds) };
}
