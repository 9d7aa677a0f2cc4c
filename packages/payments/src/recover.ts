import { type Executor, IN_FLIGHT_ATTEMPT_STATUSES, paymentAttempts, status, statusIn } from '@chargeonce/db';
import { and, eq, getTableColumns, inArray, isNull, lt, or, sql } from 'drizzle-orm';
import { chargeRequestFor } from './attempts';
import { type CaptureRecoveryReport, runCaptureRecovery } from './capture-recover';
import { settleAuthorization } from './capture-store';
import { noopLogger, type PaymentsDeps } from './deps';
import type { ChargeResult, LookupResult } from './gateway';
import type { PaymentAttempt } from './orders';
import { attemptOutcome, canceledCode } from './outcome';
import { type RefundRecoveryReport, runRefundRecovery } from './refund-recover';
import { finalizeAttempt } from './settle';
import { STRIPE_KEY_RETENTION_MS } from './stripe-client';

/** Repeating a create with its key is safe only while the provider still has the key: an hour's margin. */
export const MAX_KEY_WINDOW_MS = STRIPE_KEY_RETENTION_MS - 60 * 60_000;

export interface RecoveryPolicy {
  /** An attempt in flight for longer than this is presumed abandoned by its payer (crash, timeout). */
  graceMs: number;
  /** How long one worker owns an attempt it re-drives before another may try. */
  leaseMs: number;
  /**
   * Within this age the create is repeated with the attempt's idempotency key (the provider replays
   * it). Past it the key may have been pruned, so the attempt's PaymentIntent is only looked up,
   * never created again. At most `MAX_KEY_WINDOW_MS`.
   */
  keyWindowMs: number;
  /** Attempts taken per run. */
  batchSize: number;
  /**
   * A 3-D Secure challenge not completed in this long is abandoned: its PaymentIntent is canceled
   * and the order may be paid again.
   */
  challengeTimeoutMs: number;
  /**
   * An open authorization this old is re-read each run (did its hold lapse?). Stripe's card holds
   * lapse after 7 days; its `payment_intent.canceled` webhook usually says so first.
   */
  authorizationCheckAfterMs: number;
}

export const DEFAULT_RECOVERY_POLICY: RecoveryPolicy = {
  graceMs: 60_000,
  leaseMs: 120_000,
  keyWindowMs: MAX_KEY_WINDOW_MS,
  batchSize: 50,
  challengeTimeoutMs: 15 * 60_000,
  authorizationCheckAfterMs: 7 * 24 * 60 * 60_000,
};

export type LeasedAttempt = PaymentAttempt & { ageMs: number };

/**
 * Takes up to `batchSize` attempts left in flight past the grace period, leasing each to this
 * worker. `FOR UPDATE SKIP LOCKED` plus the conditional `lease_until` check let any number of
 * workers on any number of instances run at once without re-driving one attempt twice at a time.
 */
const a = paymentAttempts;
const leaseFor = (policy: RecoveryPolicy) => sql`now() + make_interval(secs => ${policy.leaseMs / 1000})`;
const leasedColumns = {
  ...getTableColumns(a),
  ageMs: sql<number>`(extract(epoch from (now() - ${a.claimedAt})) * 1000)::float8`,
};

export async function leaseStaleAttempts(db: Executor, policy: RecoveryPolicy): Promise<LeasedAttempt[]> {
  const stale = db
    .select({ id: a.id })
    .from(a)
    .where(
      and(
        statusIn(a.status, IN_FLIGHT_ATTEMPT_STATUSES),
        // An open challenge is the customer's until its timeout (the webhook and their return
        // settle it before): re-reading each one every lease would crowd out unknown outcomes.
        sql`${a.claimedAt} < now() - make_interval(secs => (case when ${a.status} = ${status('requires_action')} then greatest(${policy.challengeTimeoutMs / 1000}::float8, ${policy.graceMs / 1000}::float8) else ${policy.graceMs / 1000}::float8 end))`,
        or(isNull(a.leaseUntil), lt(a.leaseUntil, sql`now()`)),
      ),
    )
    .orderBy(a.claimedAt)
    .limit(policy.batchSize)
    .for('update', { skipLocked: true });
  return db
    .update(a)
    .set({ leaseUntil: leaseFor(policy), recoveryRuns: sql`${a.recoveryRuns} + 1` })
    .where(inArray(a.id, stale))
    .returning(leasedColumns);
}

/**
 * Takes an attempt's lease afresh right before its provider call, with its age as of now. A batch
 * is re-driven one attempt after another, so by the time a worker reaches an attempt its first
 * lease may have run out and another worker may have taken it (`recovery_runs` moved on): then this
 * one leaves it. Otherwise the call starts under a whole lease (at least the longest provider call)
 * and its key-window decision is made on the attempt's age now, not at the start of the batch.
 */
async function renewLease(
  db: Executor,
  attempt: LeasedAttempt,
  policy: RecoveryPolicy,
): Promise<LeasedAttempt | undefined> {
  const [row] = await db
    .update(a)
    .set({ leaseUntil: leaseFor(policy) })
    .where(
      and(
        eq(a.id, attempt.id),
        eq(a.recoveryRuns, attempt.recoveryRuns),
        statusIn(a.status, IN_FLIGHT_ATTEMPT_STATUSES),
      ),
    )
    .returning(leasedColumns);
  return row;
}

export type RecoveryResult =
  | 'succeeded'
  | 'failed'
  | 'requires_action'
  | 'authorized'
  | 'unknown'
  | 'already_final'
  /** Another worker took the attempt over while this one worked through its batch. */
  | 'taken_over';

export interface RecoveryReport {
  leased: number;
  results: Record<RecoveryResult, number>;
  /** The same pass over refunds left pending (see refund-recover.ts). */
  refunds: RefundRecoveryReport;
  /** And over captures and voids left pending, and open authorizations (see capture-recover.ts). */
  captures: CaptureRecoveryReport;
}

/** What the provider can tell about a leased attempt now, without ever charging twice. */
async function askProvider(
  deps: PaymentsDeps,
  attempt: LeasedAttempt,
  policy: RecoveryPolicy,
): Promise<ChargeResult | LookupResult> {
  // The provider answered already (the customer must act): its PaymentIntent's state now.
  if (attempt.paymentIntentId) {
    const now = await deps.gateway.retrieve(attempt.paymentIntentId);
    if (now.kind !== 'requires_action' || attempt.ageMs < policy.challengeTimeoutMs) return now;
    // Abandoned: cancel it, so a late completion cannot charge an order paid again meanwhile. If
    // the customer completed it just now, the cancel of a charge is refused: read where it stands
    // (a hold is canceled, though: recoverAttempt then releases it).
    const canceled = await deps.gateway.cancel({
      paymentIntentId: attempt.paymentIntentId,
      idempotencyKey: `${attempt.idempotencyKey}-abandon`,
      reason: 'abandoned',
    });
    return canceled.kind === 'canceled' ? canceled : deps.gateway.retrieve(attempt.paymentIntentId);
  }
  if (attempt.ageMs >= policy.keyWindowMs) {
    // Past the window the answer may abandon the attempt: only a consistent lookup will do.
    return deps.gateway.findByAttempt(attempt.id, {
      consistentSince: new Date(attempt.claimedAt.getTime() - 10 * 60_000),
    });
  }
  const repeated = await deps.gateway.charge(chargeRequestFor(attempt));
  if (repeated.kind !== 'unknown') return repeated;
  // Stripe stores a 5xx that happened after executing and replays it for the key, so repeating the
  // create can stay unknown for the key's lifetime. A lookup by metadata (read-only, always safe)
  // may know better; `not_found` here proves nothing (search lags), so it is not final.
  const found = await deps.gateway.findByAttempt(attempt.id);
  return found.kind === 'not_found' ? repeated : found;
}

/** Re-drives one leased attempt to its final state, if the provider can tell it now. */
export async function recoverAttempt(
  deps: PaymentsDeps,
  leased: LeasedAttempt,
  policy: RecoveryPolicy,
): Promise<RecoveryResult> {
  const attempt = await renewLease(deps.db, leased, policy);
  if (!attempt) return 'taken_over';
  const logger = deps.logger ?? noopLogger;
  const log = { orderId: attempt.orderId, attemptId: attempt.id, idempotencyKey: attempt.idempotencyKey };
  logger.info({ ...log, withinKeyWindow: attempt.ageMs < policy.keyWindowMs }, 'recovering attempt');
  const provider = await askProvider(deps, attempt, policy);
  const outcome = attemptOutcome(provider, { keyMayHaveExecuted: true });
  if (!outcome) {
    // Still unknown: the lease expires and a later run tries again with the same key.
    logger.warn(
      { ...log, reason: provider.kind === 'unknown' ? provider.reason : provider.kind },
      'attempt still unknown',
    );
    return 'unknown';
  }
  // Still awaiting the customer: nothing to record.
  if (outcome.status === attempt.status) return outcome.status;
  const settled = await finalizeAttempt(deps.db, {
    orderId: attempt.orderId,
    attemptId: attempt.id,
    claimVersion: attempt.claimVersion,
    outcome,
  });
  if (!settled && provider.kind === 'canceled') {
    // The challenge was completed (to a hold) and settled between our read and our cancel, which
    // then released that hold: the order, authorized now, must follow.
    await settleAuthorization(deps.db, {
      orderId: attempt.orderId,
      paymentIntentId: provider.paymentIntentId,
      outcome: { kind: 'released', reason: canceledCode(provider.reason) },
    });
  }
  if (!settled) return 'already_final';
  logger.info({ ...log, status: outcome.status }, 'attempt recovered');
  return outcome.status;
}

/**
 * One recovery pass: lease stale attempts and re-drive each (abandoned challenges canceled), and
 * the same for pending refunds, captures and voids, and old open authorizations, side by side (a failure of one pass does not keep the other from running). Safe to run anywhere,
 * any time.
 */
export async function runRecovery(deps: PaymentsDeps, policy: RecoveryPolicy): Promise<RecoveryReport> {
  // All three passes start together and are all awaited at once: a pass that fails (the database
  // going away mid-pass) never leaves another's rejection unhandled, which would end the process.
  const [attempts, refunds, captures] = await Promise.allSettled([
    runAttemptRecovery(deps, policy),
    runRefundRecovery(deps, policy),
    runCaptureRecovery(deps, policy),
  ]);
  return { ...settled(attempts), refunds: settled(refunds), captures: settled(captures) };
}

function settled<T>(pass: PromiseSettledResult<T>): T {
  if (pass.status === 'rejected') throw pass.reason;
  return pass.value;
}

async function runAttemptRecovery(
  deps: PaymentsDeps,
  policy: RecoveryPolicy,
): Promise<Pick<RecoveryReport, 'leased' | 'results'>> {
  const attempts = await leaseStaleAttempts(deps.db, policy);
  const results: Record<RecoveryResult, number> = {
    succeeded: 0,
    failed: 0,
    requires_action: 0,
    authorized: 0,
    unknown: 0,
    already_final: 0,
    taken_over: 0,
  };
  for (const attempt of attempts) results[await recoverAttempt(deps, attempt, policy)]++;
  return { leased: attempts.length, results };
}
