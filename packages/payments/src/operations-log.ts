import {
  type Executor,
  type OPERATOR_ACTIONS,
  operatorActions,
  reconciliationRuns,
  type WEBHOOK_REFUSAL_REASONS,
  webhookRefusals,
} from '@chargeonce/db';
import { desc, eq, lt, sql } from 'drizzle-orm';
import { noopLogger, type PaymentsDeps } from './deps';
import { type ReconcileReport, reconcile } from './reconcile';

/**
 * What the operator page reads from any instance: reconciliation runs, refused webhook deliveries
 * and the audit of operators' actions, persisted here (they were only logged and on gauges).
 */

/** Findings kept per run (the count is always whole): a run that finds thousands stays one small row. */
export const MAX_STORED_FINDINGS = 200;
/** How long runs and refusals are kept. */
export const RECONCILE_RUN_RETENTION_MS = 30 * 24 * 60 * 60_000;
export const WEBHOOK_REFUSAL_RETENTION_MS = 7 * 24 * 60 * 60_000;

const olderThan = (ms: number) => sql`now() - make_interval(secs => ${ms / 1000})`;

export type ReconcileTrigger = { kind: 'schedule' } | { kind: 'operator'; requestedBy: string };
export type ReconciliationRun = typeof reconciliationRuns.$inferSelect;

/**
 * Reconciles the last `windowMs` and records the run (completed or failed), pruning runs past
 * their retention. A failed run is recorded without its error (the log has it; a provider's message
 * may name a key) and the error is rethrown.
 */
export async function reconcileAndRecord(
  deps: PaymentsDeps,
  options: { windowMs: number; trigger: ReconcileTrigger },
): Promise<{ report: ReconcileReport; run: ReconciliationRun }> {
  const startedAt = new Date();
  const window = { from: new Date(startedAt.getTime() - options.windowMs), to: startedAt };
  const base = {
    trigger: options.trigger.kind,
    requestedBy: options.trigger.kind === 'operator' ? options.trigger.requestedBy : null,
    instanceId: deps.instanceId,
    windowFrom: window.from,
    windowTo: window.to,
    startedAt,
  };
  let report: ReconcileReport;
  try {
    report = await reconcile(deps, window);
  } catch (err) {
    await record(deps.db, { ...base, outcome: 'failed' }).catch((recordErr: unknown) =>
      (deps.logger ?? noopLogger).warn({ err: recordErr }, 'could not record the failed reconciliation'),
    );
    throw err;
  }
  const run = await record(deps.db, {
    ...base,
    outcome: 'completed',
    providerPaymentIntents: report.providerPaymentIntents,
    paidOrders: report.paidOrders,
    refundedOrders: report.refundedOrders,
    findings: report.findings.slice(0, MAX_STORED_FINDINGS),
    findingsCount: report.findings.length,
    unexplained: report.unexplained,
  });
  return { report, run };
}

async function record(db: Executor, row: typeof reconciliationRuns.$inferInsert): Promise<ReconciliationRun> {
  const [run] = await db.insert(reconciliationRuns).values(row).returning();
  await db
    .delete(reconciliationRuns)
    .where(lt(reconciliationRuns.finishedAt, olderThan(RECONCILE_RUN_RETENTION_MS)));
  if (!run) throw new Error('reconciliation run insert returned no row');
  return run;
}

export async function latestReconciliationRuns(db: Executor, limit: number): Promise<ReconciliationRun[]> {
  return db.select().from(reconciliationRuns).orderBy(desc(reconciliationRuns.finishedAt)).limit(limit);
}

export type WebhookRefusalReason = (typeof WEBHOOK_REFUSAL_REASONS)[number];
export interface WebhookRefusal {
  reason: WebhookRefusalReason;
  eventId?: string | undefined;
  eventType?: string | undefined;
  httpStatus: number;
}

export interface RefusalRecorder {
  /** Never throws and never waits: the delivery's answer does not depend on it. */
  record(refusal: WebhookRefusal): void;
}

/** Refusals recorded per instance per minute; past it they are only counted (metrics, logs). */
export const MAX_REFUSALS_PER_MINUTE = 120;

/**
 * Records refused webhook deliveries, sampled: at most `maxPerMinute` rows per instance a minute,
 * so a flood of badly signed requests costs a bounded number of inserts; rows past their retention
 * are pruned at most once a minute. A refusal met by an unavailable database is usually lost with
 * it (the metric and the log line still count it).
 */
export function createRefusalRecorder(
  deps: Pick<PaymentsDeps, 'db' | 'instanceId' | 'logger'>,
  options: { maxPerMinute?: number; now?: () => number } = {},
): RefusalRecorder {
  const maxPerMinute = options.maxPerMinute ?? MAX_REFUSALS_PER_MINUTE;
  const now = options.now ?? Date.now;
  let minute = -1;
  let recorded = 0;
  let prunedMinute = -1;
  return {
    record(refusal) {
      const current = Math.floor(now() / 60_000);
      if (current !== minute) [minute, recorded] = [current, 0];
      if (recorded >= maxPerMinute) return;
      recorded++;
      const prune = prunedMinute !== current;
      prunedMinute = current;
      void (async () => {
        await deps.db.insert(webhookRefusals).values({ ...refusal, instanceId: deps.instanceId });
        if (prune) {
          await deps.db
            .delete(webhookRefusals)
            .where(lt(webhookRefusals.receivedAt, olderThan(WEBHOOK_REFUSAL_RETENTION_MS)));
        }
      })().catch((err: unknown) =>
        (deps.logger ?? noopLogger).warn(
          { err, reason: refusal.reason },
          'could not record a webhook refusal',
        ),
      );
    },
  };
}

export async function latestWebhookRefusals(db: Executor, limit: number) {
  return db.select().from(webhookRefusals).orderBy(desc(webhookRefusals.receivedAt)).limit(limit);
}

export type OperatorAction = (typeof OPERATOR_ACTIONS)[number];

/**
 * Runs an operator's action under its audit row: inserted (`started`) before anything happens, so
 * an action whose process dies is still on record, and completed with `resultOf` its answer, or
 * `error` when it threw (rethrown). Callers check their input first: a refused input is no action.
 * Once the action ran, its answer is the caller's whatever becomes of the audit row: a failure to
 * complete the row (the database blipping just then) is logged and the row stays `started`.
 */
export async function audited<T>(
  deps: Pick<PaymentsDeps, 'db' | 'logger'>,
  entry: { principal: string; action: OperatorAction; target: string },
  run: () => Promise<T>,
  resultOf: (answer: T) => string,
): Promise<T> {
  const { db } = deps;
  const [row] = await db.insert(operatorActions).values(entry).returning({ id: operatorActions.id });
  if (!row) throw new Error('operator action insert returned no row');
  const finish = async (result: string) =>
    await db
      .update(operatorActions)
      .set({ result, finishedAt: sql`now()` })
      .where(eq(operatorActions.id, row.id));
  let answer: T;
  try {
    answer = await run();
  } catch (err) {
    await finish('error').catch(() => {});
    throw err;
  }
  await finish(resultOf(answer)).catch((err: unknown) =>
    (deps.logger ?? noopLogger).warn(
      { err, operatorActionId: row.id, action: entry.action },
      'could not record the result of an operator action; its row stays started',
    ),
  );
  return answer;
}

export async function latestOperatorActions(db: Executor, limit: number) {
  return db.select().from(operatorActions).orderBy(desc(operatorActions.startedAt)).limit(limit);
}
