import { type DomainErrorCode, isDomainError } from '@chargeonce/payments';
import { TRPCError } from '@trpc/server';
import type { TRPC_ERROR_CODE_KEY } from '@trpc/server/rpc';

/**
 * The one place domain errors become tRPC errors. Exhaustive: adding a domain error code without
 * deciding its transport code does not compile.
 */
export const DOMAIN_ERROR_TO_TRPC: Record<DomainErrorCode, TRPC_ERROR_CODE_KEY> = {
  ORDER_NOT_FOUND: 'NOT_FOUND',
  USER_NOT_FOUND: 'NOT_FOUND',
  ORDER_NOT_PAYABLE: 'CONFLICT',
  PAYMENT_DECLINED: 'PAYMENT_REQUIRED',
  PAYMENT_REJECTED: 'UNPROCESSABLE_CONTENT',
  PROVIDER_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  ORDER_NOT_REFUNDABLE: 'CONFLICT',
  REFUND_EXCEEDS_REFUNDABLE: 'CONFLICT',
  REFUND_FAILED: 'UNPROCESSABLE_CONTENT',
  ORDER_NOT_CANCELABLE: 'CONFLICT',
  PAYMENT_IN_PROGRESS: 'CONFLICT',
  ORDER_NOT_CAPTURABLE: 'CONFLICT',
  ORDER_NOT_VOIDABLE: 'CONFLICT',
  CAPTURE_EXCEEDS_AUTHORIZED: 'CONFLICT',
  CAPTURE_FAILED: 'UNPROCESSABLE_CONTENT',
  VOID_FAILED: 'UNPROCESSABLE_CONTENT',
  AUTHORIZATION_EXPIRED: 'CONFLICT',
  IDEMPOTENCY_KEY_REUSED: 'UNPROCESSABLE_CONTENT',
  IDEMPOTENCY_KEY_IN_USE: 'CONFLICT',
  DATABASE_UNAVAILABLE: 'SERVICE_UNAVAILABLE',
  RECORD_NOT_FOUND: 'NOT_FOUND',
  RECONCILIATION_RUNNING: 'CONFLICT',
};

/** Returns the mapped TRPCError for a domain error, or undefined for anything else. */
export function domainToTRPCError(err: unknown): TRPCError | undefined {
  if (!isDomainError(err)) return undefined;
  return new TRPCError({ code: DOMAIN_ERROR_TO_TRPC[err.code], message: err.message, cause: err });
}

/**
 * The cause of a refusal a procedure makes before it changes anything (the caller's rights over
 * the customer it names): like a validation failure, it stores nothing under the caller's
 * idempotency key, so the corrected request with the key executes.
 */
export class RefusedBeforeExecution extends Error {
  override name = 'RefusedBeforeExecution';
}
