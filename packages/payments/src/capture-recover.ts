import { captures, type Executor, paymentAttempts, status } from '@chargeonce/db';
import { count, min, sql } from 'drizzle-orm';
import { authorizationOutcome, callProvider, drive } from './capture';
import { settleAuthorization } from './capture-store';
import { noopLogger, type PaymentsDeps } from './deps';
import { isDomainError } from './errors';
import { leaseRows, renewRowLease } from './lease';
import type { RecoveryPolicy } from './recover';

export type CaptureRecoveryResult =
  /** The capture or void settled (either way). */
  | 'settled'
  /** Still not known: a later run tries again with the same key. */
  | 'unknown'
  /** An open authorization found captured or released at the provider, and settled. */
  | 'authorization_settled'
  /** An open authorization still open at the provider. */
  | 'authorization_open'
  | 'taken_over';

export interface CaptureRecoveryReport {
  leased: number;
  results: Record<CaptureRecoveryResult, number>;
}

const c = captures;
const a = paymentAttempts;
const ago = (ms: number) => sql`now() - make_interval(secs => ${ms / 1000})`;
const pending = sql`${c.status} = ${status('pending')}`;
const held = sql`${a.status} = ${status('authorized')}`;

/**
 * Re-drives a capture or void left pending (its requester died, or the provider's answer was
 * lost): the PaymentIntent's state settles it when final; a hold still open means the call did
 * not execute (or is still executing), so it is repeated with its key — a hold is captured or
 * released at most once at the provider, so this is safe at any age.
 */
export async function recoverCapture(
  deps: PaymentsDeps,
  leased: { id: string; recoveryRuns: number },
  policy: RecoveryPolicy,
): Promise<CaptureRecoveryResult> {
  const row = await renewRowLease(deps.db, c, leased, {
    still: pending,
    leaseMs: policy.leaseMs,
    since: c.createdAt,
  });
  if (!row) return 'taken_over';
  const now = await deps.gateway.retrieve(row.paymentIntentId);
  const result = now.kind === 'authorized' ? await callProvider(deps, row) : now;
  const answer = await drive(deps, row, result, { keyMayHaveExecuted: true }).catch((err: unknown) => {
    // A definite refusal is the requester's answer to hear; for recovery the row is settled.
    if (isDomainError(err)) return undefined;
    throw err;
  });
  return answer?.outcome === 'pending' ? 'unknown' : 'settled';
}

/**
 * Re-reads an open authorization old enough that its hold may have lapsed (or been captured or
 * canceled outside chargeonce), and settles what the provider says.
 */
async function watchAuthorization(
  deps: PaymentsDeps,
  leased: { id: string; recoveryRuns: number },
  policy: RecoveryPolicy,
): Promise<CaptureRecoveryResult> {
  const attempt = await renewRowLease(deps.db, a, leased, {
    still: held,
    leaseMs: policy.leaseMs,
    since: a.completedAt,
  });
  if (!attempt?.paymentIntentId) return 'taken_over';
  const outcome = authorizationOutcome(await deps.gateway.retrieve(attempt.paymentIntentId));
  if (!outcome) return 'authorization_open';
  const settled = await settleAuthorization(deps.db, {
    orderId: attempt.orderId,
    paymentIntentId: attempt.paymentIntentId,
    outcome,
  });
  if (settled) {
    (deps.logger ?? noopLogger).info(
      { orderId: attempt.orderId, attemptId: attempt.id, outcome: outcome.kind, status: settled.status },
      'authorization settled by recovery',
    );
  }
  return 'authorization_settled';
}

/** One pass over pending captures and voids, and over open authorizations past `authorizationCheckAfterMs`. */
export async function runCaptureRecovery(
  deps: PaymentsDeps,
  policy: RecoveryPolicy,
): Promise<CaptureRecoveryReport> {
  const results: Record<CaptureRecoveryResult, number> = {
    settled: 0,
    unknown: 0,
    authorization_settled: 0,
    authorization_open: 0,
    taken_over: 0,
  };
  const rows = await leaseRows(deps.db, c, {
    // One condition, never undefined (as `and()` may be typed): no branch that cannot run.
    due: sql`(${pending} and ${c.updatedAt} < ${ago(policy.graceMs)})`,
    leaseMs: policy.leaseMs,
    batchSize: policy.batchSize,
    since: c.createdAt,
  });
  for (const row of rows) results[await recoverCapture(deps, row, policy)]++;
  const holds = await leaseRows(deps.db, a, {
    due: sql`(${held} and ${a.completedAt} < ${ago(policy.authorizationCheckAfterMs)})`,
    leaseMs: policy.leaseMs,
    batchSize: policy.batchSize,
    since: a.completedAt,
  });
  for (const attempt of holds) results[await watchAuthorization(deps, attempt, policy)]++;
  return { leased: rows.length + holds.length, results };
}

/** Open authorizations (count, oldest age) and challenges awaiting the customer (count), database clock. */
export async function summarizeOpenAuthorizations(
  db: Executor,
): Promise<{ authorizations: number; oldestAgeSeconds: number; challenges: number }> {
  const [auth] = await db
    .select({
      n: count(),
      oldest: sql<number>`coalesce(extract(epoch from now() - ${min(a.completedAt)}), 0)::float8`,
    })
    .from(a)
    .where(held);
  const [challenges] = await db
    .select({ n: count() })
    .from(a)
    .where(sql`${a.status} = ${status('requires_action')}`);
  return {
    authorizations: Number(auth?.n ?? 0),
    oldestAgeSeconds: Number(auth?.oldest ?? 0),
    challenges: Number(challenges?.n ?? 0),
  };
}
