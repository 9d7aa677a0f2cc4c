import type { Database } from '@chargeonce/db';
import type { BackoffPolicy } from './backoff';
import type { PaymentGateway } from './gateway';

/** Minimal structured logger (pino-compatible). */
export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface PayPolicy {
  /** How long one `pay` call may wait for another in-flight claim before answering `processing`. */
  deadlineMs: number;
  /** Backoff between looks at an order another request is paying. */
  backoff: BackoffPolicy;
  /**
   * An in-flight attempt older than this is not going to be finished by a live request: answer
   * `processing` at once instead of waiting out the deadline (the recovery path settles it).
   */
  inflightStaleMs: number;
  /**
   * A decline of a payment method this recent answers every new pay of the order with the same
   * method (no new PaymentIntent): a burst of clicks on a declining card reaches the provider once.
   * Another payment method, or the same one later, makes a new attempt.
   */
  declineCooldownMs: number;
}

export const DEFAULT_PAY_POLICY: PayPolicy = {
  deadlineMs: 10_000,
  backoff: { baseMs: 10, maxMs: 250 },
  inflightStaleMs: 30_000,
  declineCooldownMs: 10_000,
};

/** Observation points for metrics; all optional. */
export interface PayHooks {
  /** A claim matched no row: another claim moved first. */
  claimConflict?(): void;
  /** The payer backs off before looking again. */
  retry?(delayMs: number): void;
  /** How the pay ended: charged, already_paid, processing, declined, rejected, unavailable. */
  outcome?(outcome: string): void;
  /** How a refund request ended: refunded, pending, failed, unavailable, refused. */
  refundOutcome?(outcome: string): void;
}

export interface PaymentsDeps {
  db: Database;
  gateway: PaymentGateway;
  /** Recorded as `claimed_by` on every attempt this process claims. */
  instanceId: string;
  /**
   * Where a customer's browser returns after a 3-D Secure challenge (`{orderId}` is replaced by the
   * order's id). Absent: a card that asks for 3-D Secure is declined (`authentication_required`).
   */
  returnUrl?: string | undefined;
  policy?: PayPolicy;
  logger?: Logger;
  hooks?: PayHooks;
  now?: () => number;
  sleep?: (ms: number) => Promise<void>;
  random?: () => number;
}

export const noopLogger: Logger = { info() {}, warn() {}, error() {} };
