import {
  captures,
  type Executor,
  IN_FLIGHT_ATTEMPT_STATUSES,
  IN_FLIGHT_REFUND_STATUSES,
  paymentAttempts,
  refunds,
  status,
  statusIn,
} from '@chargeonce/db';
import { and, asc, eq, type SQL, sql } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { summarizeProcessingAttempts } from './attempts';
import { type CaptureRecoveryResult, recoverCapture, summarizeOpenAuthorizations } from './capture-recover';
import { noopLogger, type PaymentsDeps } from './deps';
import { DomainError } from './errors';
import { leaseRows } from './lease';
import { type RecoveryPolicy, type RecoveryResult, recoverAttempt } from './recover';
import { type RefundRecoveryResult, recoverRefund, summarizePendingRefunds } from './refund-recover';

/** What awaits an outcome, for the operator page: the oldest first, with their age (database clock). */
export interface AwaitingItem {
  kind: 'attempt' | 'refund' | 'capture' | 'authorization';
  id: string;
  orderId: string;
  /** The row's status (`processing`, `requires_action`, `pending`, `authorized`), or capture/void. */
  status: string;
  amount: number | null;
  currency: string | null;
  ageSeconds: number;
  recoveryRuns: number;
  /** A recovery worker holds it until then (null: nobody does). */
  leaseUntil: Date | null;
}

export interface Awaiting {
  attempts: AwaitingItem[];
  refunds: AwaitingItem[];
  /** Pending captures and voids (`status` is the kind). */
  captures: AwaitingItem[];
  /** Open holds, oldest first. */
  authorizations: AwaitingItem[];
  /** The gauges' totals (the lists stop at `limit`). */
  totals: {
    processingAttempts: number;
    openChallenges: number;
    pendingRefunds: number;
    openAuthorizations: number;
  };
}

const ageOf = (since: AnyPgColumn) => sql<number>`(extract(epoch from (now() - ${since})))::float8`;

export async function listAwaiting(db: Executor, options: { limit: number }): Promise<Awaiting> {
  const a = paymentAttempts;
  const attemptRows = (where: SQL, since: AnyPgColumn, kind: AwaitingItem['kind']) =>
    db
      .select({
        id: a.id,
        orderId: a.orderId,
        status: a.status,
        amount: a.amount,
        currency: a.currency,
        ageSeconds: ageOf(since),
        recoveryRuns: a.recoveryRuns,
        leaseUntil: a.leaseUntil,
      })
      .from(a)
      .where(where)
      .orderBy(asc(since))
      .limit(options.limit)
      .then((rows) => rows.map((row) => ({ kind, ...row }) as AwaitingItem));
  const [attempts, holds, pendingRefunds, pendingCaptures, processing, open, refundTotals] =
    await Promise.all([
      attemptRows(statusIn(a.status, IN_FLIGHT_ATTEMPT_STATUSES), a.claimedAt, 'attempt'),
      attemptRows(sql`${a.status} = ${status('authorized')}`, a.completedAt, 'authorization'),
      db
        .select({
          id: refunds.id,
          orderId: refunds.orderId,
          status: refunds.status,
          amount: refunds.amount,
          currency: sql<string | null>`null`,
          ageSeconds: ageOf(refunds.createdAt),
          recoveryRuns: refunds.recoveryRuns,
          leaseUntil: refunds.leaseUntil,
        })
        .from(refunds)
        .where(statusIn(refunds.status, IN_FLIGHT_REFUND_STATUSES))
        .orderBy(asc(refunds.createdAt))
        .limit(options.limit),
      db
        .select({
          id: captures.id,
          orderId: captures.orderId,
          status: captures.kind,
          amount: captures.amount,
          currency: sql<string | null>`null`,
          ageSeconds: ageOf(captures.createdAt),
          recoveryRuns: captures.recoveryRuns,
          leaseUntil: captures.leaseUntil,
        })
        .from(captures)
        .where(sql`${captures.status} = ${status('pending')}`)
        .orderBy(asc(captures.createdAt))
        .limit(options.limit),
      summarizeProcessingAttempts(db),
      summarizeOpenAuthorizations(db),
      summarizePendingRefunds(db),
    ]);
  return {
    attempts,
    authorizations: holds,
    refunds: pendingRefunds.map((row) => ({ kind: 'refund' as const, ...row })),
    captures: pendingCaptures.map((row) => ({ kind: 'capture' as const, ...row })),
    totals: {
      processingAttempts: processing.count,
      openChallenges: open.challenges,
      pendingRefunds: refundTotals.count,
      openAuthorizations: open.authorizations,
    },
  };
}

export type RecoverKind = 'attempt' | 'refund' | 'capture';

export type RecoverOneOutcome =
  | RecoveryResult
  | RefundRecoveryResult
  | CaptureRecoveryResult
  /** A recovery worker holds the row's lease right now: ask again once it lets go. */
  | 'busy';

export interface RecoverOneAnswer {
  outcome: RecoverOneOutcome;
  orderId: string;
  /** The row's status now (after the recovery). */
  status: string;
}

/**
 * An operator's "recover this one now": the same re-drive the recovery worker does (same
 * idempotency key, same conditional settle), for one attempt, refund, or capture/void, at once
 * instead of after the grace period. The row is leased first, as by a worker, so the two never
 * re-drive it at the same time; a re-drive that ends without a final answer lets go of that lease
 * at once, so the next press (or the worker) may ask again. Safe to call twice: a row no longer in flight is answered
 * `already_final` with its status and nothing is sent to the provider. An unknown id is
 * RECORD_NOT_FOUND, nothing changed.
 */
export async function recoverOne(
  deps: PaymentsDeps,
  policy: RecoveryPolicy,
  target: { kind: RecoverKind; id: string },
): Promise<RecoverOneAnswer> {
  const spec = SPECS[target.kind];
  const current = await findRecoverTarget(deps.db, target);
  if (!spec.inFlight(current.status)) return { outcome: 'already_final', ...current };
  const [leased] = await leaseRows(deps.db, spec.table, {
    due: and(eq(spec.table.id, target.id), spec.due) as SQL,
    leaseMs: policy.leaseMs,
    batchSize: 1,
    since: spec.since,
  });
  let outcome: RecoverOneOutcome | undefined;
  if (leased) {
    try {
      outcome = await spec.recover(deps, leased as never, policy);
    } finally {
      await releaseLease(deps, spec, leased);
    }
  }
  const after = (await spec.read(deps.db, target.id)) ?? current;
  // Not leased: settled meanwhile, or a worker holds it.
  outcome ??= spec.inFlight(after.status) ? 'busy' : 'already_final';
  return { outcome: outcome === 'taken_over' ? 'busy' : outcome, ...after };
}

/**
 * Lets go of the lease an operator's re-drive took, once it ended without a final answer (unknown,
 * pending, a challenge still open, or it threw): the worker lease exists to keep two re-drives
 * apart, not to keep the operator's next press (or the worker) off the row for `leaseMs` after the
 * press is over. Conditional on the lease still being ours (`recovery_runs` as leased, row still
 * in flight): a lease a worker took since is left alone. A failure to let go only leaves the lease
 * to run out, as before: it is logged, never the press's answer.
 */
async function releaseLease(deps: PaymentsDeps, spec: Spec, leased: { id: string; recoveryRuns: number }) {
  const t = spec.table;
  await deps.db
    .update(t as typeof refunds)
    .set({ leaseUntil: null })
    .where(and(eq(t.id, leased.id), eq(t.recoveryRuns, leased.recoveryRuns), spec.due))
    .catch((err: unknown) =>
      (deps.logger ?? noopLogger).warn({ err, rowId: leased.id }, 'could not release the recovery lease'),
    );
}

/** The row's order and status now; RECORD_NOT_FOUND when there is no such row of that kind. */
export async function findRecoverTarget(
  db: Executor,
  target: { kind: RecoverKind; id: string },
): Promise<{ orderId: string; status: string }> {
  const row = await SPECS[target.kind].read(db, target.id);
  if (!row) throw new DomainError({ code: 'RECORD_NOT_FOUND', kind: target.kind, id: target.id });
  return row;
}

interface Spec {
  table: typeof paymentAttempts | typeof refunds | typeof captures;
  due: SQL;
  since: AnyPgColumn;
  inFlight(status: string): boolean;
  read(db: Executor, id: string): Promise<{ orderId: string; status: string } | undefined>;
  recover(deps: PaymentsDeps, leased: never, policy: RecoveryPolicy): Promise<RecoverOneOutcome>;
}

const readRow =
  (table: Spec['table']) =>
  async (db: Executor, id: string): Promise<{ orderId: string; status: string } | undefined> => {
    const [row] = await db
      .select({ orderId: table.orderId, status: table.status })
      .from(table as typeof refunds)
      .where(eq(table.id, id));
    return row;
  };

const SPECS: Record<RecoverKind, Spec> = {
  attempt: {
    table: paymentAttempts,
    due: statusIn(paymentAttempts.status, IN_FLIGHT_ATTEMPT_STATUSES),
    since: paymentAttempts.claimedAt,
    inFlight: (s) => (IN_FLIGHT_ATTEMPT_STATUSES as readonly string[]).includes(s),
    read: readRow(paymentAttempts),
    recover: recoverAttempt,
  },
  refund: {
    table: refunds,
    due: statusIn(refunds.status, IN_FLIGHT_REFUND_STATUSES),
    since: refunds.createdAt,
    inFlight: (s) => (IN_FLIGHT_REFUND_STATUSES as readonly string[]).includes(s),
    read: readRow(refunds),
    recover: recoverRefund,
  },
  capture: {
    table: captures,
    due: sql`${captures.status} = ${status('pending')}`,
    since: captures.createdAt,
    inFlight: (s) => s === 'pending',
    read: readRow(captures),
    recover: recoverCapture,
  },
};
