import {
  audited,
  DomainError,
  findRecoverTarget,
  latestOperatorActions,
  latestReconciliationRuns,
  latestWebhookRefusals,
  listAwaiting,
  type RecoverOneOutcome,
  reconcileAndRecord,
  recoverOne,
} from '@chargeonce/payments';
import { z } from 'zod';
import type { Context } from '../context';
import { idempotencyKeyField, idempotentMutation } from '../idempotency';
import {
  awaitingItemDto,
  operatorActionDto,
  reconciliationRunDto,
  toAwaitingItemDto,
  toOperatorActionDto,
  toReconciliationRunDto,
  toWebhookRefusalDto,
  webhookRefusalDto,
} from '../operations/dto';
import { describePrincipal, router, scopedProcedure } from '../trpc';

/** Reconciliation runs, refused deliveries and operators' actions the overview shows. */
const LATEST = { runs: 5, refusals: 50, actions: 20 } as const;

export const RECOVER_KINDS = ['attempt', 'refund', 'capture'] as const;
const OUTCOMES = [
  'succeeded',
  'failed',
  'requires_action',
  'authorized',
  'pending',
  'settled',
  'authorization_settled',
  'authorization_open',
  'unknown',
  'already_final',
  'busy',
  'taken_over',
] as const satisfies readonly RecoverOneOutcome[];
/** Outcomes that are no final answer: the same key asks the provider again (the key is released). */
const NOT_FINAL: ReadonlySet<string> = new Set([
  'unknown',
  'busy',
  'pending',
  'requires_action',
  'authorization_open',
  'taken_over',
]);

export const recoverInput = z.strictObject({
  kind: z.enum(RECOVER_KINDS, { message: `kind must be one of ${RECOVER_KINDS.join(', ')}` }),
  id: z.uuid({ message: 'id must be a UUID' }),
  ...idempotencyKeyField,
});
export const recoverOutput = z.object({
  kind: z.enum(RECOVER_KINDS),
  id: z.string(),
  /** What the re-drive found; `already_final`: nothing was in flight (nothing was sent). */
  outcome: z.enum(OUTCOMES),
  orderId: z.string(),
  /** The row's status now. */
  status: z.string(),
});

/**
 * The longest window an operator may reconcile: the run is inside their request (it lists every
 * PaymentIntent of the window), so a month of them would hold the request, a connection and the
 * provider's rate limit for minutes. The scheduled run covers the deployment's own window.
 */
export const MAX_OPERATOR_RECONCILE_WINDOW_MS = 7 * 24 * 60 * 60_000;
/** What a RECONCILIATION_RUNNING answer suggests waiting before asking again. */
export const RECONCILIATION_RUNNING_RETRY_AFTER_MS = 5_000;
export const reconcileInput = z
  .strictObject({
    /**
     * How far back to compare, at most 7 days (default: the deployment's
     * CHARGEONCE_RECONCILE_WINDOW_MS, capped at the same 7 days).
     */
    windowMs: z
      .number()
      .int()
      .min(60_000, { message: 'windowMs must be at least 60000 (one minute)' })
      .max(MAX_OPERATOR_RECONCILE_WINDOW_MS, {
        message: `windowMs must be at most ${MAX_OPERATOR_RECONCILE_WINDOW_MS} (7 days)`,
      })
      .optional(),
    ...idempotencyKeyField,
  })
  .default({});
export const reconcileOutput = z.object({ run: reconciliationRunDto });

/** Where an operator's action is audited, and its audit trouble logged (the request's logger). */
const operatorLog = (ctx: Context) => ({ db: ctx.db, logger: ctx.logger ?? ctx.payments.logger });

/** Whether an operator's reconciliation runs in this process now (the per-process single flight). */
let reconciling = false;

const ACTION = { attempt: 'recover_attempt', refund: 'recover_refund', capture: 'recover_capture' } as const;

/**
 * Operators: what awaits an outcome and for how long, the latest reconciliations, refused webhook
 * deliveries, and the two actions (recover one row now, reconcile now), each audited in
 * `operator_actions` and idempotent under the caller's key.
 */
export const operationsRouter = router({
  overview: scopedProcedure('operations:read')
    .input(z.strictObject({ limit: z.number().int().min(1).max(200).default(50) }).default({ limit: 50 }))
    .output(
      z.object({
        asOf: z.string(),
        attempts: z.array(awaitingItemDto),
        refunds: z.array(awaitingItemDto),
        captures: z.array(awaitingItemDto),
        authorizations: z.array(awaitingItemDto),
        totals: z.object({
          processingAttempts: z.number().int(),
          openChallenges: z.number().int(),
          pendingRefunds: z.number().int(),
          openAuthorizations: z.number().int(),
        }),
        reconciliations: z.array(reconciliationRunDto),
        webhookRefusals: z.array(webhookRefusalDto),
        actions: z.array(operatorActionDto),
      }),
    )
    .query(async ({ ctx, input }) => {
      const [awaiting, runs, refusals, actions] = await Promise.all([
        listAwaiting(ctx.db, { limit: input.limit }),
        latestReconciliationRuns(ctx.db, LATEST.runs),
        latestWebhookRefusals(ctx.db, LATEST.refusals),
        latestOperatorActions(ctx.db, LATEST.actions),
      ]);
      return {
        asOf: new Date().toISOString(),
        attempts: awaiting.attempts.map(toAwaitingItemDto),
        refunds: awaiting.refunds.map(toAwaitingItemDto),
        captures: awaiting.captures.map(toAwaitingItemDto),
        authorizations: awaiting.authorizations.map(toAwaitingItemDto),
        totals: awaiting.totals,
        reconciliations: runs.map(toReconciliationRunDto),
        webhookRefusals: refusals.map(toWebhookRefusalDto),
        actions: actions.map(toOperatorActionDto),
      };
    }),

  /**
   * Re-drives one attempt, refund, or capture/void now, as the recovery worker would (same keys,
   * same conditional settle, under its lease). Recovering something already settled is a no-op
   * success (`already_final`, its status); an unknown id is NOT_FOUND and nothing is recorded.
   */
  recover: idempotentMutation(
    'operations:write',
    { input: recoverInput, output: recoverOutput, isFinal: (out) => !NOT_FINAL.has(out.outcome) },
    async ({ ctx, input }) => {
      const target = { kind: input.kind, id: input.id };
      // An unknown id is refused before anything is recorded: only a real row is an action.
      await findRecoverTarget(ctx.db, target);
      const answer = await audited(
        operatorLog(ctx),
        { principal: describePrincipal(ctx.principal), action: ACTION[input.kind], target: input.id },
        () => recoverOne(ctx.payments, ctx.operations.recovery, target),
        (a) => a.outcome,
      );
      ctx.audit.orderId = answer.orderId;
      ctx.audit.outcome = answer.outcome;
      return { ...target, ...answer };
    },
  ),

  /**
   * Reconciles the last `windowMs` (at most 7 days) now, healing what is safe to heal, and records
   * the run. One at a time per process: a second request while one runs here is refused
   * RECONCILIATION_RUNNING (CONFLICT, retryable: nothing started, nothing recorded, its key let
   * go). Across instances two runs may overlap, and that is harmless to money: a run only reads at
   * the provider, and every heal is the conditional update the payer, webhook and recovery use
   * (finalizeAttempt on the claim version, settleAuthorization, settleRefund on the row's status),
   * so the later of two heals of one row changes nothing. (The slower run may then list as an
   * `orphan` what the other healed while it looked: a finding to re-check, not a second change.)
   */
  reconcile: idempotentMutation(
    'operations:write',
    { input: reconcileInput, output: reconcileOutput },
    async ({ ctx, input }) => {
      const windowMs =
        input.windowMs ?? Math.min(ctx.operations.reconcileWindowMs, MAX_OPERATOR_RECONCILE_WINDOW_MS);
      const requestedBy = describePrincipal(ctx.principal);
      if (reconciling) {
        ctx.audit.retryAfterMs = RECONCILIATION_RUNNING_RETRY_AFTER_MS;
        throw new DomainError({
          code: 'RECONCILIATION_RUNNING',
          retryAfterMs: RECONCILIATION_RUNNING_RETRY_AFTER_MS,
        });
      }
      // Taken and tested in one synchronous step (no await between): two calls cannot both pass.
      reconciling = true;
      try {
        const { run } = await audited(
          operatorLog(ctx),
          { principal: requestedBy, action: 'reconcile', target: `last ${windowMs} ms` },
          () => reconcileAndRecord(ctx.payments, { windowMs, trigger: { kind: 'operator', requestedBy } }),
          ({ run }) => `${run.outcome}: ${run.findingsCount} findings, ${run.unexplained} unexplained`,
        );
        ctx.audit.outcome = run.unexplained > 0 ? 'unexplained' : 'reconciled';
        return { run: toReconciliationRunDto(run) };
      } finally {
        reconciling = false;
      }
    },
  ),
});
