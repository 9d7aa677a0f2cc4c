import { type Executor, paymentAttempts, status } from '@chargeonce/db';
import { count, min, sql } from 'drizzle-orm';
import type { ChargeRequest } from './gateway';
import type { PaymentAttempt } from './orders';

/**
 * The provider request of an attempt, the same however often and by whom it is sent (the payer,
 * recovery): the attempt's amount, currency, payment method and idempotency key, and metadata that
 * lets a lookup find the PaymentIntent by attempt when the key is gone.
 */
export function chargeRequestFor(
  attempt: Pick<
    PaymentAttempt,
    | 'id'
    | 'orderId'
    | 'claimVersion'
    | 'idempotencyKey'
    | 'amount'
    | 'currency'
    | 'paymentMethodId'
    | 'captureMethod'
    | 'returnUrl'
  >,
): ChargeRequest {
  return {
    amount: attempt.amount,
    currency: attempt.currency,
    paymentMethodId: attempt.paymentMethodId,
    idempotencyKey: attempt.idempotencyKey,
    captureMethod: attempt.captureMethod,
    returnUrl: attempt.returnUrl,
    metadata: {
      order_id: attempt.orderId,
      attempt_id: attempt.id,
      claim_version: String(attempt.claimVersion),
    },
  };
}

/** How many attempts await a provider outcome, and how long the oldest has waited (database clock). */
export async function summarizeProcessingAttempts(
  db: Executor,
): Promise<{ count: number; oldestAgeSeconds: number }> {
  const [row] = await db
    .select({
      count: count(),
      oldest: sql<number>`coalesce(extract(epoch from now() - ${min(paymentAttempts.claimedAt)}), 0)::float8`,
    })
    .from(paymentAttempts)
    .where(sql`${paymentAttempts.status} = ${status('processing')}`);
  return { count: Number(row?.count ?? 0), oldestAgeSeconds: Number(row?.oldest ?? 0) };
}
