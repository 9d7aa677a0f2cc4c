/**
 * Every failure the domain reports on purpose. `code` is a literal so callers (the API's one
 * error mapping) can switch on it exhaustively.
 */
export type DomainErrorDetails =
  | { code: 'ORDER_NOT_FOUND'; orderId: string }
  | { code: 'USER_NOT_FOUND'; userId: string }
  | { code: 'ORDER_NOT_PAYABLE'; orderId: string; status: string }
  | { code: 'PAYMENT_DECLINED'; orderId: string; declineCode: string; providerMessage: string }
  | { code: 'PAYMENT_REJECTED'; orderId: string; providerCode: string; providerMessage: string }
  | { code: 'PROVIDER_UNAVAILABLE'; orderId: string }
  | { code: 'ORDER_NOT_REFUNDABLE'; orderId: string; status: string }
  | { code: 'REFUND_EXCEEDS_REFUNDABLE'; orderId: string; requested: number; refundable: number }
  | { code: 'REFUND_FAILED'; orderId: string; refundId: string; reason: string; providerMessage: string }
  | { code: 'ORDER_NOT_CANCELABLE'; orderId: string; status: string }
  | { code: 'PAYMENT_IN_PROGRESS'; orderId: string }
  | { code: 'ORDER_NOT_CAPTURABLE'; orderId: string; status: string }
  | { code: 'ORDER_NOT_VOIDABLE'; orderId: string; status: string }
  | { code: 'CAPTURE_EXCEEDS_AUTHORIZED'; orderId: string; requested: number; authorized: number }
  | { code: 'CAPTURE_FAILED'; orderId: string; reason: string; status: string }
  | { code: 'VOID_FAILED'; orderId: string; reason: string; status: string }
  | { code: 'AUTHORIZATION_EXPIRED'; orderId: string }
  | { code: 'IDEMPOTENCY_KEY_REUSED'; procedure: string; firstProcedure: string }
  | { code: 'IDEMPOTENCY_KEY_IN_USE'; retryAfterMs: number }
  | { code: 'DATABASE_UNAVAILABLE'; retryAfterMs: number }
  /** An operator named an attempt, refund or capture that is not there. */
  | { code: 'RECORD_NOT_FOUND'; kind: 'attempt' | 'refund' | 'capture'; id: string }
  /** An operator asked to reconcile while this instance's previous request to is still running. */
  | { code: 'RECONCILIATION_RUNNING'; retryAfterMs: number };

export type DomainErrorCode = DomainErrorDetails['code'];

const MESSAGES: { [C in DomainErrorCode]: (d: Extract<DomainErrorDetails, { code: C }>) => string } = {
  ORDER_NOT_FOUND: () => 'Order not found.',
  USER_NOT_FOUND: () => 'No such user.',
  ORDER_NOT_PAYABLE: (d) => `Order cannot be paid in status "${d.status}".`,
  PAYMENT_DECLINED: (d) => `The card was declined (${d.declineCode}). ${d.providerMessage}`.trim(),
  PAYMENT_REJECTED: (d) =>
    `The payment provider rejected the payment (${d.providerCode}); nothing was charged. ${d.providerMessage}`.trim(),
  PROVIDER_UNAVAILABLE: () => 'The payment provider is unavailable; no money moved. Try again.',
  ORDER_NOT_REFUNDABLE: (d) =>
    d.status === 'refunded'
      ? 'The order is already fully refunded (or refunds still pending cover all of it).'
      : `Order cannot be refunded in status "${d.status}": only a paid order can.`,
  REFUND_EXCEEDS_REFUNDABLE: (d) =>
    `Cannot refund ${d.requested}: only ${d.refundable} of the order is left to refund; nothing was refunded.`,
  REFUND_FAILED: (d) =>
    `The payment provider could not refund (${d.reason}); nothing was refunded. ${d.providerMessage}`.trim(),
  ORDER_NOT_CANCELABLE: (d) =>
    `Order cannot be canceled in status "${d.status}"${CANCEL_HINT[d.status] ?? ': refund it instead'}.`,
  PAYMENT_IN_PROGRESS: () =>
    'A payment of this order is in progress; nothing was changed. Wait for its outcome.',
  ORDER_NOT_CAPTURABLE: (d) =>
    d.status === 'voiding' || d.status === 'canceled'
      ? `Order cannot be captured: its authorization is ${d.status === 'voiding' ? 'being voided' : 'voided'}.`
      : `Order cannot be captured in status "${d.status}": only an order authorized to capture later can.`,
  ORDER_NOT_VOIDABLE: (d) =>
    d.status === 'capturing' || d.status === 'paid'
      ? `Order cannot be voided: its authorization is ${d.status === 'capturing' ? 'being captured' : 'captured'}; refund it instead.`
      : `Order cannot be voided in status "${d.status}": only an authorized order can${d.status === 'pending' || d.status === 'failed' ? ' (cancel it instead)' : ''}.`,
  CAPTURE_EXCEEDS_AUTHORIZED: (d) =>
    `Cannot capture ${d.requested}: only ${d.authorized} was authorized; nothing was captured.`,
  CAPTURE_FAILED: (d) =>
    `The payment provider refused the capture (${d.reason}); nothing was captured and the authorization is still open.`,
  VOID_FAILED: (d) =>
    d.status === 'paid'
      ? `The authorization was captured before the void (${d.reason}); refund it instead.`
      : `The payment provider refused the void (${d.reason}); the authorization is still open.`,
  AUTHORIZATION_EXPIRED: () =>
    'The authorization expired before it was captured; nothing was charged. The order can be paid again.',
  IDEMPOTENCY_KEY_REUSED: (d) =>
    `This idempotency key was first used ${d.firstProcedure === d.procedure ? 'with different input' : `for ${d.firstProcedure}`}; nothing was executed. A new request needs a new key.`,
  DATABASE_UNAVAILABLE: () =>
    'The database is unavailable (restarting, failing over, or unreachable); whether this request took effect is not known. Retry it (with the same idempotency key): it will not be applied twice.',
  IDEMPOTENCY_KEY_IN_USE: () =>
    'A request with this idempotency key is still executing; nothing was executed. Retry with the same key shortly.',
  RECORD_NOT_FOUND: (d) => `No such ${d.kind}; nothing was changed.`,
  RECONCILIATION_RUNNING: () =>
    'A reconciliation requested earlier is still running on this instance; nothing was started. Try again once it has finished.',
};

/** What to do instead of canceling an order in these states. */
const CANCEL_HINT: Record<string, string> = {
  canceled: '',
  authorized: ': its authorization is held; void it instead (orders.void)',
  capturing: ': its authorization is being captured; refund it once captured',
  voiding: ': its authorization is being voided',
};

export class DomainError extends Error {
  readonly details: DomainErrorDetails;

  constructor(details: DomainErrorDetails) {
    // The cast is sound: MESSAGES is keyed by the same discriminant.
    super((MESSAGES[details.code] as (d: DomainErrorDetails) => string)(details));
    this.name = 'DomainError';
    this.details = details;
  }

  get code(): DomainErrorCode {
    return this.details.code;
  }
}

export function isDomainError(err: unknown): err is DomainError {
  return err instanceof DomainError;
}
