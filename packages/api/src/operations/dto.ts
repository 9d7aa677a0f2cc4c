import type {
  AwaitingItem,
  latestOperatorActions,
  latestWebhookRefusals,
  ReconciliationRun,
} from '@chargeonce/payments';
import { z } from 'zod';

/** What the operator page shows; timestamps are ISO strings, ages in seconds (database clock). */
export const awaitingItemDto = z.object({
  kind: z.enum(['attempt', 'refund', 'capture', 'authorization']),
  id: z.string(),
  orderId: z.string(),
  status: z.string(),
  amount: z.number().int().nullable(),
  currency: z.string().nullable(),
  ageSeconds: z.number(),
  recoveryRuns: z.number().int(),
  leaseUntil: z.string().nullable(),
});

export const toAwaitingItemDto = (item: AwaitingItem): z.infer<typeof awaitingItemDto> => ({
  ...item,
  leaseUntil: item.leaseUntil?.toISOString() ?? null,
});

export const findingDto = z.object({
  kind: z.string(),
  orderId: z.string().nullable(),
  paymentIntentId: z.string().nullable(),
  detail: z.string(),
});

export const reconciliationRunDto = z.object({
  id: z.string(),
  trigger: z.string(),
  requestedBy: z.string().nullable(),
  instanceId: z.string(),
  windowFrom: z.string(),
  windowTo: z.string(),
  startedAt: z.string(),
  finishedAt: z.string(),
  outcome: z.string(),
  providerPaymentIntents: z.number().int(),
  paidOrders: z.number().int(),
  refundedOrders: z.number().int(),
  findings: z.array(findingDto),
  /** All the run's findings (`findings` holds at most the first MAX_STORED_FINDINGS). */
  findingsCount: z.number().int(),
  unexplained: z.number().int(),
});

type StoredFinding = { kind: string; orderId?: string; paymentIntentId?: string; detail: string };

export function toReconciliationRunDto(run: ReconciliationRun): z.infer<typeof reconciliationRunDto> {
  return {
    ...run,
    windowFrom: run.windowFrom.toISOString(),
    windowTo: run.windowTo.toISOString(),
    startedAt: run.startedAt.toISOString(),
    finishedAt: run.finishedAt.toISOString(),
    findings: (run.findings as StoredFinding[]).map((f) => ({
      kind: f.kind,
      orderId: f.orderId ?? null,
      paymentIntentId: f.paymentIntentId ?? null,
      detail: f.detail,
    })),
  };
}

export const webhookRefusalDto = z.object({
  id: z.string(),
  reason: z.string(),
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  httpStatus: z.number().int(),
  instanceId: z.string(),
  receivedAt: z.string(),
});

type RefusalRow = Awaited<ReturnType<typeof latestWebhookRefusals>>[number];
export const toWebhookRefusalDto = (row: RefusalRow): z.infer<typeof webhookRefusalDto> => ({
  ...row,
  receivedAt: row.receivedAt.toISOString(),
});

export const operatorActionDto = z.object({
  id: z.string(),
  principal: z.string(),
  action: z.string(),
  target: z.string(),
  result: z.string(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
});

type ActionRow = Awaited<ReturnType<typeof latestOperatorActions>>[number];
export const toOperatorActionDto = (row: ActionRow): z.infer<typeof operatorActionDto> => ({
  ...row,
  startedAt: row.startedAt.toISOString(),
  finishedAt: row.finishedAt?.toISOString() ?? null,
});
