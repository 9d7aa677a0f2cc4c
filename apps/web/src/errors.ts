import type { AppRouter } from '@chargeonce/api';
import { TRPCClientError } from '@trpc/client';

type ApiError = TRPCClientError<AppRouter>;

/** The tRPC error with the server's error data, or undefined (network failure, bug). */
function apiError(error: unknown): ApiError | undefined {
  return error instanceof TRPCClientError ? (error as ApiError) : undefined;
}

/**
 * The server no longer takes this page's session: a 401, or the CSRF check's 403 (a plain answer,
 * not tRPC's, sent before any procedure runs).
 */
export function isSessionRefused(error: unknown): boolean {
  const err = apiError(error);
  if (!err) return false;
  if (err.data) return err.data.code === 'UNAUTHORIZED';
  const response = err.meta?.response;
  return response instanceof Response && response.status === 403;
}

export const UNREACHABLE =
  'The server could not be reached. Check your connection; this page shows the latest known state.';

/** Why `POST /session` refused a token, for the sign-in screen. */
export function describeSignInRefusal(status: number): string {
  switch (status) {
    case 401:
      return 'That token was not accepted. Check it and sign in again.';
    case 403:
      return 'That is a service token. Sign in with your own API token.';
    case 429:
      return 'Too many failed sign-ins from this address. Wait a minute and try again.';
    default:
      return status >= 500
        ? 'Something went wrong on our side. Try again in a moment.'
        : 'That is not an API token. Check it and sign in again.';
  }
}

/** Network failures and server-side trouble may pass; a 4xx answer will not change by asking again. */
export function isWorthRetrying(error: unknown): boolean {
  const status = apiError(error)?.data?.httpStatus;
  return status === undefined || status >= 500;
}

/**
 * Whether the server gave the request its definite answer: the same idempotency key again would
 * only get it again, so the next request (a new action) needs a new key. Any domain error is one
 * (PROVIDER_UNAVAILABLE too: no money moved; the server would also take a retry under the key), as
 * is any other answer below 500. Not so for no answer, a 5xx without a domain code (the outcome is not
 * known), or IDEMPOTENCY_KEY_IN_USE (the first request still runs): then sending the same key again
 * is the safe way to ask once more.
 */
export function isFinalAnswer(error: unknown): boolean {
  const data = apiError(error)?.data;
  if (!data) return false;
  if (data.domainCode) return data.domainCode !== 'IDEMPOTENCY_KEY_IN_USE';
  return data.httpStatus < 500;
}

/** The decline code when the error is a card decline, else undefined. */
export function declineCodeOf(error: unknown): string | undefined {
  const data = apiError(error)?.data;
  if (data?.domainCode !== 'PAYMENT_DECLINED') return undefined;
  return data.declineCode ?? 'generic_decline';
}

const DECLINES: Record<string, string> = {
  insufficient_funds: 'the card has insufficient funds',
  generic_decline: 'the bank declined the card',
  card_declined: 'the bank declined the card',
  lost_card: 'the card was reported lost',
  stolen_card: 'the card was reported stolen',
  expired_card: 'the card has expired',
  incorrect_cvc: "the card's security code is incorrect",
  processing_error: 'the card could not be processed',
  fraudulent: 'the bank suspects fraud',
  do_not_honor: 'the bank declined the card',
};

/** Attempts that failed without a card decline: the card was never charged for another reason. */
const NOT_DECLINES: Record<string, string> = {
  abandoned: 'the payment never reached the bank',
  provider_unavailable: 'the payment service was unavailable',
  resource_missing: 'the card was not recognised',
  // 3-D Secure: the cardholder did not pass the bank's check, or never finished it.
  payment_intent_authentication_failure: 'your bank could not confirm the payment (3-D Secure check failed)',
  canceled_abandoned: 'the check with your bank was not completed in time',
};

/**
 * A PaymentIntent canceled for another reason (`canceled_<reason>`): a hold released before it was
 * captured (it lapsed, or was released outside this page).
 */
const RELEASED_PREFIX = 'canceled_';
const RELEASED = 'the hold on the card was released before it was charged';

const notADecline = (code: string) => Object.hasOwn(NOT_DECLINES, code) || code.startsWith(RELEASED_PREFIX);

/** Whether a failure code is the bank declining the card (else the payment failed before it). */
export function isCardDecline(code: string | null | undefined): boolean {
  return !code || !notADecline(code);
}

/** A decline (or other failure) code in words, for people. */
export function declineInWords(code: string | null | undefined): string {
  if (!code) return 'the bank declined the card';
  if (Object.hasOwn(NOT_DECLINES, code)) return NOT_DECLINES[code]!;
  if (code.startsWith(RELEASED_PREFIX)) return RELEASED;
  return (Object.hasOwn(DECLINES, code) ? DECLINES[code] : undefined) ?? 'the bank declined the card';
}

type DomainCode = NonNullable<NonNullable<ApiError['data']>['domainCode']>;

/** Refusals whose words depend on what was refused, more than on their HTTP code. */
const DOMAIN_ERRORS: Partial<Record<DomainCode, string>> = {
  // Only after the client's own retries with the key ran out: the first request still runs.
  IDEMPOTENCY_KEY_IN_USE: 'Your earlier request is still being processed. Wait a moment, then look again.',
  IDEMPOTENCY_KEY_REUSED: 'This was already sent with other details. Reload the page and try again.',
  ORDER_NOT_PAYABLE: 'This order cannot be paid in its current state.',
  PROVIDER_UNAVAILABLE:
    'The payment provider is not answering right now; no money moved. Try again in a moment.',
  ORDER_NOT_REFUNDABLE:
    'This order cannot be refunded: it is not paid, or it is already refunded in full. Nothing was refunded.',
  REFUND_EXCEEDS_REFUNDABLE:
    'That is more than is left to refund on this order (another refund may have come first). Nothing was refunded.',
  REFUND_FAILED:
    'The payment provider could not make this refund; nothing was refunded. Try again later, or contact support.',
  ORDER_NOT_CANCELABLE: 'This order has been paid, so it cannot be canceled. Refund it instead.',
  PAYMENT_IN_PROGRESS:
    'A payment of this order is in progress, so it cannot be canceled now; nothing was changed. Wait for its outcome.',
};

/**
 * Any error as a sentence a person can act on. Never a stack trace or raw server detail: the
 * server already sends a generic message for unexpected errors.
 */
export function describeError(error: unknown): string {
  const err = apiError(error);
  const data = err?.data;
  if (!err || !data) return UNREACHABLE;
  const decline = declineCodeOf(error);
  if (decline) return `Payment declined: ${declineInWords(decline)}.`;
  if (data.issues?.length) return data.issues.map((i) => i.message).join('. ') + '.';
  const domain = data.domainCode ? DOMAIN_ERRORS[data.domainCode] : undefined;
  if (domain) return domain;
  switch (data.code) {
    case 'UNAUTHORIZED':
      return 'That token was not accepted. Check it and sign in again.';
    case 'NOT_FOUND':
      return 'This order does not exist, or it belongs to someone else.';
    case 'CONFLICT':
      return 'This cannot be done with the order in its current state. Reload the page to see it as it is now.';
    case 'UNPROCESSABLE_CONTENT':
      return 'The payment provider rejected this card. Choose another card.';
    case 'SERVICE_UNAVAILABLE':
      return 'The payment provider is not answering right now. Try again in a moment.';
    case 'TOO_MANY_REQUESTS':
      return 'Too many requests. Wait a moment and try again.';
    case 'BAD_REQUEST':
      return 'The request was not valid.';
    default:
      return 'Something went wrong on our side. Try again in a moment.';
  }
}
