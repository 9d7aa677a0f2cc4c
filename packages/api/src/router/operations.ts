import {
  audited,
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

const DAY_MS = 24 * 60 * 60_000;
export const reconcileInput = z
  .strictObject({
    /** How far back to compare (default: the deployment's CHARGEONCE_RECONCILE_WINDOW_MS). */
    windowMs: z
      .number()
      .int()
      .min(60_000)
      .max(31 * DAY_MS)
      .optional(),
    ...idempotencyKeyField,
  })
  .default({});
export const reconcileOutput = z.object({ run: reconciliationRunDto });

/** Where an operator's action is audited, and its audit trouble logged (the request's logger). */
const operatorLog = (ctx: Context) => ({ db: ctx.db, logger: ctx.logger ?? ctx.payments.logger });

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

  /** Reconciles the last `windowMs` now (healing what is safe to heal) and records the run. */
  reconcile: idempotentMutation(
    'operations:write',
    { input: reconcileInput, output: reconcileOutput },
    async ({ ctx, input }) => {
      const windowMs = input.windowMs ?? ctx.operations.reconcileWindowMs;
      const requestedBy = describePrincipal(ctx.principal);
      const { run } = await audited(
        operatorLog(ctx),
        { principal: requestedBy, action: 'reconcile', target: `last ${windowMs} ms` },
        () => reconcileAndRecord(ctx.payments, { windowMs, trigger: { kind: 'operator', requestedBy } }),
        ({ run }) => `${run.outcome}: ${run.findingsCount} findings, ${run.unexplained} unexplained`,
      );
      ctx.audit.outcome = run.unexplained > 0 ? 'unexplained' : 'reconciled';
      return { run: toReconciliationRunDto(run) };
    },
  ),
});
