import { ApiError, invalidRequest, redactKey } from './errors';

export type AuthResult = { ok: true; key: string } | { ok: false; error: ApiError };

const MISSING_KEY_MESSAGE =
  "You did not provide an API key. You need to provide your API key in the Authorization header, using Bearer auth (e.g. 'Authorization: Bearer YOUR_SECRET_KEY'). See https://stripe.com/docs/api#authentication for details, or we can help at https://support.stripe.com/.";

/**
 * Accepts `Authorization: Bearer sk_test_...` (what stripe-node sends) or Basic auth with the key as the
 * user name (what `curl -u sk_test_...:` sends). Any key starting with `sk_test_` is valid.
 */
export function authenticate(
  header: string | undefined,
  expired: ReadonlySet<string> = new Set(),
): AuthResult {
  const key = extractKey(header);
  if (key === null) return { ok: false, error: unauthorized(MISSING_KEY_MESSAGE) };
  if (!key.startsWith('sk_test_') || key.length === 'sk_test_'.length || /\s/.test(key)) {
    return { ok: false, error: unauthorized(`Invalid API Key provided: ${redactKey(key)}`) };
  }
  // A rolled key once its expiry passed (`expireApiKey`): Stripe's 401 `api_key_expired`.
  if (expired.has(key)) {
    const message = `Expired API Key provided: ${redactKey(key)}`;
    return { ok: false, error: invalidRequest(message, { code: 'api_key_expired', status: 401 }) };
  }
  return { ok: true, key };
}

function extractKey(header: string | undefined): string | null {
  if (header === undefined) return null;
  const match = /^(\w+)\s+(.*)$/s.exec(header.trim());
  if (!match) return header.trim() === '' ? null : header.trim();
  const scheme = (match[1] as string).toLowerCase();
  const credentials = (match[2] as string).trim();
  if (scheme === 'basic') {
    const decoded = Buffer.from(credentials, 'base64').toString('utf8');
    const user = decoded.split(':')[0] ?? '';
    return user === '' ? null : user;
  }
  return credentials === '' ? null : credentials;
}

function unauthorized(message: string): ApiError {
  return new ApiError(401, { type: 'invalid_request_error', message });
}
