import { sql } from 'drizzle-orm';
import { check, index, integer, jsonb, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * What the operator page shows from any server instance, and the audit of what operators did.
 * Kinds are text with CHECK constraints rather than enums: a new kind is a constraint swapped in
 * the migrations' one transaction (`ALTER TYPE ... ADD VALUE` cannot run in one).
 */
const inList = (column: { name: string }, values: readonly string[]) =>
  sql.raw(`"${column.name}" in (${values.map((v) => `'${v}'`).join(', ')})`);

export const RECONCILE_TRIGGERS = ['schedule', 'operator'] as const;
export const RECONCILE_OUTCOMES = ['completed', 'failed'] as const;

/** One row per reconciliation run (the periodic one and an operator's), kept for a bounded time. */
export const reconciliationRuns = pgTable(
  'reconciliation_runs',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    trigger: text('trigger').notNull(),
    /** `user:<id>` or `service:<name>` for an operator's run; null for the schedule's. */
    requestedBy: text('requested_by'),
    instanceId: text('instance_id').notNull(),
    windowFrom: timestamp('window_from', { withTimezone: true }).notNull(),
    windowTo: timestamp('window_to', { withTimezone: true }).notNull(),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull(),
    finishedAt: timestamp('finished_at', { withTimezone: true }).notNull().defaultNow(),
    outcome: text('outcome').notNull(),
    providerPaymentIntents: integer('provider_payment_intents').notNull().default(0),
    paidOrders: integer('paid_orders').notNull().default(0),
    refundedOrders: integer('refunded_orders').notNull().default(0),
    /** The findings (at most the first `MAX_STORED_FINDINGS` of them; `findings_count` is all). */
    findings: jsonb('findings').notNull().default(sql`'[]'::jsonb`),
    findingsCount: integer('findings_count').notNull().default(0),
    unexplained: integer('unexplained').notNull().default(0),
  },
  (t) => [
    check('reconciliation_runs_trigger', inList(t.trigger, RECONCILE_TRIGGERS)),
    check('reconciliation_runs_outcome', inList(t.outcome, RECONCILE_OUTCOMES)),
    index('reconciliation_runs_finished_idx').on(t.finishedAt),
  ],
);

/** Why `POST /webhooks/stripe` did not apply a delivery (see apps/server webhooks.ts). */
export const WEBHOOK_REFUSAL_REASONS = [
  'bad_signature',
  'database_unavailable',
  'error',
  'retry_later',
  'unknown_payment_intent',
] as const;

/** Webhook deliveries refused or not applied, sampled per instance, kept for a bounded time. */
export const webhookRefusals = pgTable(
  'webhook_refusals',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    reason: text('reason').notNull(),
    /** The event's id and type once its signature checked out; null for a bad signature. */
    eventId: text('event_id'),
    eventType: text('event_type'),
    /** The HTTP status the delivery was answered with. */
    httpStatus: integer('http_status').notNull(),
    instanceId: text('instance_id').notNull(),
    receivedAt: timestamp('received_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    check('webhook_refusals_reason', inList(t.reason, WEBHOOK_REFUSAL_REASONS)),
    index('webhook_refusals_received_idx').on(t.receivedAt),
  ],
);

export const OPERATOR_ACTIONS = [
  'recover_attempt',
  'recover_refund',
  'recover_capture',
  'reconcile',
] as const;

/**
 * The audit of operators' actions: written when one starts (`result` = `started`) and completed
 * with its result, so an action whose process died is still on record. Never pruned.
 */
export const operatorActions = pgTable(
  'operator_actions',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    /** `user:<id>` or `service:<name>`. */
    principal: text('principal').notNull(),
    action: text('action').notNull(),
    /** The attempt, refund or capture id; a reconciliation's window. */
    target: text('target').notNull(),
    result: text('result').notNull().default('started'),
    startedAt: timestamp('started_at', { withTimezone: true }).notNull().defaultNow(),
    finishedAt: timestamp('finished_at', { withTimezone: true }),
  },
  (t) => [
    check('operator_actions_action', inList(t.action, OPERATOR_ACTIONS)),
    index('operator_actions_started_idx').on(t.startedAt),
  ],
);
