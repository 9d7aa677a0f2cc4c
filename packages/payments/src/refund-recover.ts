import { type Executor, IN_FLIGHT_REFUND_STATUSES, refunds, statusIn } from '@chargeonce/db';
import { and, eq, getTableColumns, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { noopLogger, type PaymentsDeps } from './deps';
import type { RefundResult } from './gateway';
import type { RecoveryPolicy } from './recover';
import { refundOutcome, refundRequestFor } from './refund';
import { asRefundResult } from './refund-events';
import { type Refund, settleRefund } from './refund-store';
import { ABANDONED_CODE } from './settle';

export type LeasedRefund = Refund & { ageMs: number };

const r = refunds;
const leaseFor = (policy: RecoveryPolicy) => sql`now() + make_interval(secs => ${policy.leaseMs / 1000})`;
const leasedColumns = {
  ...getTableColumns(r),
  ageMs: sql<number>`(extract(epoch from (now() - ${r.createdAt})) * 1000)::float8`,
};

/**
 * Takes up to `batchSize` refunds still pending past the grace period, leasing each to this worker
 * (`FOR UPDATE SKIP LOCKED` + the conditional `lease_until`), as recovery does payment attempts.
 */
export async function leasePendingRefunds(db: Executor, policy: RecoveryPolicy): Promise<LeasedRefund[]> {
  const stale = db
    .select({ id: r.id })
    .from(r)
    .where(
      and(
        statusIn(r.status, IN_FLIGHT_REFUND_STATUSES),
        lt(r.updatedAt, sql`now() - make_interval(secs => ${policy.graceMs / 1000})`),
        or(isNull(r.leaseUntil), lt(r.leaseUntil, sql`now()`)),
      ),
    )
    .orderBy(r.createdAt)
    .limit(policy.batchSize)
    .for('update', { skipLocked: true });
  return db
    .update(r)
    .set({ leaseUntil: leaseFor(policy), recoveryRuns: sql`${r.recoveryRuns} + 1` })
    .where(inArray(r.id, stale))
    .returning(leasedColumns);
}

/** The lease taken afresh right before the provider call (see recover.ts `renewLease`). */
async function renewLease(db: Executor, refund: LeasedRefund, policy: RecoveryPolicy) {
  const [row] = await db
    .update(r)
    .set({ leaseUntil: leaseFor(policy) })
    .where(
      and(
        eq(r.id, refund.id),
        eq(r.recoveryRuns, refund.recoveryRuns),
        statusIn(r.status, IN_FLIGHT_REFUND_STATUSES),
      ),
    )
    .returning(leasedColumns);
  return row;
}

/**
 * What the provider can tell about a pending refund now, without ever refunding twice: its state
 * when its id is known; within the key window, the create repeated with its key (the provider
 * replays it, or executes it once if it never ran); past the window (or when the repeat stays
 * unknown) the PaymentIntent's refunds listed — an immediately consistent list — and ours found by
 * metadata; none there past the window: it never ran.
 */
async function askProvider(
  deps: PaymentsDeps,
  refund: LeasedRefund,
  policy: RecoveryPolicy,
): Promise<RefundResult | 'never_ran'> {
  if (refund.stripeRefundId) return deps.gateway.retrieveRefund(refund.stripeRefundId);
  const withinWindow = refund.ageMs < policy.keyWindowMs;
  if (withinWindow) {
    const repeated = await deps.gateway.refund(refundRequestFor(refund));
    if (repeated.kind !== 'unknown') return repeated;
  }
  const listed = await deps.gateway.listRefunds(refund.paymentIntentId);
  if (!Array.isArray(listed)) return listed;
  const found = listed.find((p) => p.metadata.refund_id === refund.id);
  if (found) return asRefundResult(found);
  return withinWindow ? { kind: 'unknown', reason: 'repeat_unknown' } : 'never_ran';
}

export type RefundRecoveryResult =
  | 'succeeded'
  | 'failed'
  | 'pending'
  | 'unknown'
  | 'already_final'
  | 'taken_over';

/** Re-drives one leased refund to its final state, if the provider can tell it now. */
export async function recoverRefund(
  deps: PaymentsDeps,
  leased: LeasedRefund,
  policy: RecoveryPolicy,
): Promise<RefundRecoveryResult> {
  const refund = await renewLease(deps.db, leased, policy);
  if (!refund) return 'taken_over';
  const logger = deps.logger ?? noopLogger;
  const log = { orderId: refund.orderId, refundId: refund.id, idempotencyKey: refund.idempotencyKey };
  logger.info({ ...log, withinKeyWindow: refund.ageMs < policy.keyWindowMs }, 'recovering refund');
  const provider = await askProvider(deps, refund, policy);
  const outcome =
    provider === 'never_ran'
      ? { status: 'failed' as const, stripeRefundId: null, errorCode: ABANDONED_CODE }
      : refundOutcome(provider, { keyMayHaveExecuted: true });
  if (!outcome) {
    // Left open by an unknown answer or by one refused for our credentials: either says why.
    logger.warn(
      { ...log, reason: provider !== 'never_ran' && 'reason' in provider ? provider.reason : 'unknown' },
      'refund still unknown',
    );
    return 'unknown';
  }
  const settled = await settleRefund(deps.db, refund.id, outcome);
  if (outcome.status === 'pending') return 'pending';
  if (!settled) return 'already_final';
  logger.info({ ...log, status: outcome.status }, 'refund recovered');
  return outcome.status;
}

export interface RefundRecoveryReport {
  leased: number;
  results: Record<RefundRecoveryResult, number>;
}

/** One pass over pending refunds. Safe to run anywhere, any time, on any number of workers. */
export async function runRefundRecovery(
  deps: PaymentsDeps,
  policy: RecoveryPolicy,
): Promise<RefundRecoveryReport> {
  const leased = await leasePendingRefunds(deps.db, policy);
  const results: Record<RefundRecoveryResult, number> = {
    succeeded: 0,
    failed: 0,
    pending: 0,
    unknown: 0,
    already_final: 0,
    taken_over: 0,
  };
  for (const refund of leased) results[await recoverRefund(deps, refund, policy)]++;
  return { leased: leased.length, results };
}

/** How many refunds are pending, and how long the oldest has waited (database clock). */
export async function summarizePendingRefunds(
  db: Executor,
): Promise<{ count: number; oldestAgeSeconds: number }> {
  const [row] = await db
    .select({
      count: sql<number>`count(*)::int`,
      oldest: sql<number>`coalesce(extract(epoch from now() - min(${r.createdAt})), 0)::float8`,
    })
    .from(r)
    .where(statusIn(r.status, IN_FLIGHT_REFUND_STATUSES));
  return { count: Number(row?.count ?? 0), oldestAgeSeconds: Number(row?.oldest ?? 0) };
}
