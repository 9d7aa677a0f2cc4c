import type { Executor } from '@chargeonce/db';
import { sql } from 'drizzle-orm';
import { type AttemptOutcome, finalizeAttempt } from './attempts';
import { noopLogger, type PaymentsDeps } from './deps';
import type { ChargeResult, LookupResult } from './gateway';

export interface RecoveryPolicy {
  /** An attempt in flight for longer than this is presumed abandoned by its payer (crash, timeout). */
  graceMs: number;
  /** How long one worker owns an attempt it re-drives before another may try. */
  leaseMs: number;
  /**
   * Within this age the create is repeated with the attempt's idempotency key (the provider replays
   * it). Past it the key may have been pruned (Stripe keeps keys at least 24 h), so the attempt's
   * PaymentIntent is only looked up, never created again.
   */
  keyWindowMs: number;
  /** Attempts taken per run. */
  batchSize: number;
}

export const DEFAULT_RECOVERY_POLICY: RecoveryPolicy = {
  graceMs: 60_000,
  leaseMs: 120_000,
  keyWindowMs: 23 * 60 * 60_000,
  batchSize: 50,
};

export interface LeasedAttempt {
  id: string;
  orderId: string;
  claimVersion: number;
  idempotencyKey: string;
  amount: number;
  currency: string;
  paymentMethodId: string;
  claimedAt: Date;
  ageMs: number;
}

/**
 * Takes up to `batchSize` attempts left `processing` past the grace period, leasing each to this
 * worker. `FOR UPDATE SKIP LOCKED` plus the conditional `lease_until` check let any number of
 * workers on any number of instances run at once without re-driving one attempt twice at a time.
 */
export async function leaseStaleAttempts(db: Executor, policy: RecoveryPolicy): Promise<LeasedAttempt[]> {
  const rows = await db.execute<{
    id: string;
    order_id: string;
    claim_version: number;
    idempotency_key: string;
    amount: number;
    currency: string;
    payment_method_id: string;
    claimed_at: string | Date;
    age_ms: number;
  }>(sql`
    update payment_attempts a
       set lease_until = now() + make_interval(secs => ${policy.leaseMs / 1000}),
           recovery_runs = a.recovery_runs + 1
     where a.id in (
       select id from payment_attempts
        where status = 'processing'
          and claimed_at < now() - make_interval(secs => ${policy.graceMs / 1000})
          and (lease_until is null or lease_until < now())
        order by claimed_at
        limit ${policy.batchSize}
        for update skip locked)
    returning a.id, a.order_id, a.claim_version, a.idempotency_key, a.amount, a.currency,
              a.payment_method_id, a.claimed_at, (extract(epoch from (now() - a.claimed_at)) * 1000)::float8 as age_ms`);
  return rows.map((r) => ({
    id: r.id,
    orderId: r.order_id,
    claimVersion: r.claim_version,
    idempotencyKey: r.idempotency_key,
    amount: r.amount,
    currency: r.currency,
    paymentMethodId: r.payment_method_id,
    claimedAt: new Date(r.claimed_at),
    ageMs: Number(r.age_ms),
  }));
}

export type RecoveryResult = 'succeeded' | 'failed' | 'requires_action' | 'unknown' | 'already_final';

export interface RecoveryReport {
  leased: number;
  results: Record<RecoveryResult, number>;
}

/** The attempt's final state as the provider reports it; `undefined` while still unknown. */
export function outcomeFromProvider(result: ChargeResult | LookupResult): AttemptOutcome | undefined {
  switch (result.kind) {
    case 'succeeded':
      return { status: 'succeeded', paymentIntentId: result.paymentIntentId };
    case 'declined':
      return {
        status: 'failed',
        paymentIntentId: result.paymentIntentId,
        errorCode: result.code,
        declineCode: result.declineCode,
      };
    case 'rejected':
      return { status: 'failed', paymentIntentId: null, errorCode: result.code, declineCode: null };
    case 'requires_action':
      return { status: 'requires_action', paymentIntentId: result.paymentIntentId };
    case 'not_found':
      // Looked up past the key window and the provider never created a PaymentIntent for it:
      // nothing was charged, so the order may be paid again.
      return { status: 'failed', paymentIntentId: null, errorCode: 'abandoned', declineCode: null };
    case 'unknown':
    case 'unavailable':
      return undefined;
  }
}

/** Re-drives one leased attempt to its final state, if the provider can tell it now. */
export async function recoverAttempt(
  deps: PaymentsDeps,
  attempt: LeasedAttempt,
  policy: RecoveryPolicy,
): Promise<RecoveryResult> {
  const logger = deps.logger ?? noopLogger;
  const log = { orderId: attempt.orderId, attemptId: attempt.id, idempotencyKey: attempt.idempotencyKey };
  const withinKeyWindow = attempt.ageMs < policy.keyWindowMs;
  logger.info({ ...log, withinKeyWindow }, 'recovering attempt');
  let provider: ChargeResult | LookupResult = withinKeyWindow
    ? await deps.gateway.charge({
        amount: attempt.amount,
        currency: attempt.currency,
        paymentMethodId: attempt.paymentMethodId,
        idempotencyKey: attempt.idempotencyKey,
        metadata: {
          order_id: attempt.orderId,
          attempt_id: attempt.id,
          claim_version: String(attempt.claimVersion),
        },
      })
    : // Past the window the answer may abandon the attempt: only a consistent lookup will do.
      await deps.gateway.findByAttempt(attempt.id, {
        consistentSince: new Date(attempt.claimedAt.getTime() - 10 * 60_000),
      });
  if (withinKeyWindow && provider.kind === 'unknown') {
    // Stripe stores a 5xx that happened after executing and replays it for the key, so repeating
    // the create can stay unknown for the key's lifetime. A lookup by metadata (read-only, always
    // safe) may know better; `not_found` here proves nothing (search lags), so it is not final.
    const found = await deps.gateway.findByAttempt(attempt.id);
    if (found.kind !== 'not_found') provider = found;
  }
  const outcome = outcomeFromProvider(provider);
  if (!outcome) {
    // Still unknown: the lease expires and a later run tries again with the same key.
    logger.warn(
      { ...log, reason: provider.kind === 'unknown' ? provider.reason : '' },
      'attempt still unknown',
    );
    return 'unknown';
  }
  const finalized = await finalizeAttempt(deps.db, {
    orderId: attempt.orderId,
    attemptId: attempt.id,
    claimVersion: attempt.claimVersion,
    outcome,
  });
  if (!finalized) return 'already_final';
  logger.info({ ...log, status: outcome.status }, 'attempt recovered');
  return outcome.status;
}

/** One recovery pass: lease stale attempts and re-drive each. Safe to run anywhere, any time. */
export async function runRecovery(deps: PaymentsDeps, policy: RecoveryPolicy): Promise<RecoveryReport> {
  const attempts = await leaseStaleAttempts(deps.db, policy);
  const results: Record<RecoveryResult, number> = {
    succeeded: 0,
    failed: 0,
    requires_action: 0,
    unknown: 0,
    already_final: 0,
  };
  for (const attempt of attempts) {
    results[await recoverAttempt(deps, attempt, policy)]++;
  }
  return { leased: attempts.length, results };
}
