/** Stripe-shaped API errors: `{ "error": { "type": ..., "message": ..., "code"?, "param"?, ... } }`. */

export interface StripeErrorBody {
  type: 'invalid_request_error' | 'card_error' | 'idempotency_error' | 'api_error';
  message: string;
  code?: string;
  decline_code?: string;
  param?: string;
  doc_url?: string;
  request_log_url?: string;
  [extra: string]: unknown;
}

/**
 * An error raised before a request executes (validation, missing resources). Such responses are never
 * stored for idempotent replay, matching Stripe. Card declines are *results* of execution and are
 * returned by handlers rather than thrown.
 */
export class ApiError extends Error {
  readonly status: number;
  readonly body: StripeErrorBody;

  constructor(status: number, body: StripeErrorBody) {
    super(body.message);
    this.name = 'ApiError';
    this.status = status;
    this.body = body;
  }
}

export function docUrl(code: string): string {
  return `https://stripe.com/docs/error-codes/${code.replaceAll('_', '-')}`;
}

export function invalidRequest(
  message: string,
  extra: { param?: string; code?: string; status?: number } = {},
): ApiError {
  const body: StripeErrorBody = { type: 'invalid_request_error', message };
  if (extra.code !== undefined) {
    body.code = extra.code;
    body.doc_url = docUrl(extra.code);
  }
  if (extra.param !== undefined) body.param = extra.param;
  return new ApiError(extra.status ?? 400, body);
}

export function resourceMissing(message: string, param: string, status = 404): ApiError {
  return invalidRequest(message, { code: 'resource_missing', param, status });
}

export function parameterMissing(param: string): ApiError {
  return invalidRequest(`Missing required param: ${param}.`, { code: 'parameter_missing', param });
}

/**
 * Stripe's answer to parameters an endpoint does not take: one → "Received unknown parameter: foo",
 * several → "Received unknown parameters: amount, currency" with `param` the first (as Stripe answers).
 */
export function parameterUnknown(names: readonly string[]): ApiError {
  const [first = ''] = names;
  const message =
    names.length === 1
      ? `Received unknown parameter: ${first}`
      : `Received unknown parameters: ${names.join(', ')}`;
  return invalidRequest(message, { code: 'parameter_unknown', param: first });
}

export function unrecognizedUrl(method: string, path: string): ApiError {
  return invalidRequest(
    `Unrecognized request URL (${method}: ${path}). Please see https://stripe.com/docs or we can help at https://support.stripe.com/.`,
    { status: 404 },
  );
}

/** Redacts an API key for error messages, as Stripe does: keeps the prefix and at most the last 4 chars. */
export function redactKey(key: string): string {
  const prefix = /^[a-z]{2,4}_(?:test|live)_/.exec(key)?.[0] ?? '';
  const tail = key.length - prefix.length >= 24 ? key.slice(-4) : '';
  return `${prefix}${'*'.repeat(prefix === '' ? 3 : Math.max(3, key.length - prefix.length - tail.length))}${tail}`;
}

export function idempotencyMismatch(key: string): ApiError {
  return new ApiError(400, {
    type: 'idempotency_error',
    message: `Keys for idempotent requests can only be used with the same parameters they were first used with. Try using a key other than '${key}' if you meant to execute a different request.`,
  });
}

export function idempotencyKeyInUse(key: string): ApiError {
  return new ApiError(409, {
    type: 'idempotency_error',
    code: 'idempotency_key_in_use',
    message: `There is currently another in-progress request using this Idempotent Key (that probably means you submitted twice, and the other request is still going through): ${key}. Please try again later.`,
  });
}

/** The body Stripe answers an internal failure with (an injected 5xx). */
export function serverError(status: number): ApiError {
  return new ApiError(status, {
    type: 'api_error',
    message:
      'An unknown error occurred while processing this request. Please try again later or contact us at https://support.stripe.com/contact.',
  });
}

/**
 * The dashboard link Stripe puts in every error body, for the request's `Request-Id`:
 * `https://dashboard.stripe.com/test/logs/req_...?t=<unix seconds of the request>`. (Accounts that
 * use Stripe's Workbench get `https://dashboard.stripe.com/acct_.../test/workbench/logs?object=req_...`
 * instead; the emulator has no account, so it uses the older, account-less form.)
 */
export function requestLogUrl(requestId: string, atSeconds: number): string {
  return `https://dashboard.stripe.com/test/logs/${requestId}?t=${atSeconds}`;
}

/** The error body with `request_log_url` set and its keys in Stripe's (alphabetical) order. */
export function withRequestLog(body: StripeErrorBody, requestId: string, atSeconds: number): StripeErrorBody {
  const withUrl: StripeErrorBody = { ...body, request_log_url: requestLogUrl(requestId, atSeconds) };
  const sorted = Object.keys(withUrl)
    .sort()
    .map((key) => [key, withUrl[key]] as const);
  return Object.fromEntries(sorted) as StripeErrorBody;
}
