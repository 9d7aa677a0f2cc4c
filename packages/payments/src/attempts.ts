import type { AttemptStatus, Executor, OrderStatus } from '@chargeonce/db';
import { sql } from 'drizzle-orm';
import { type Order, type OrderRow, toOrder } from './order-row';
import { PAYABLE_STATUSES } from './order-state';
import { executePrepared } from './prepared';

/**
 * The Stripe idempotency key of a claim: a pure function of order id and claim version, so any
 * process that retries this claim (the payer, the recovery worker) reaches Stripe with the same
 * key, and a later claim of the same order never collides with it. `idempotencyKeySql` builds the
 * same string inside PostgreSQL; a test holds the two equal.
 */
export function idempotencyKeyFor(orderId: string, claimVersion: number): string {
  return `chargeonce-${orderId}-v${claimVersion}`;
}
const idempotencyKeySql = (orderId: ReturnType<typeof sql>, version: ReturnType<typeof sql>) =>
  sql`'chargeonce-' || ${orderId} || '-v' || ${version}`;

export interface ClaimedAttempt {
  id: string;
  claimVersion: number;
  idempotencyKey: string;
  amount: number;
  currency: string;
  paymentMethodId: string;
}

export interface ClaimResult {
  /** The order as this statement saw it before claiming; undefined if not found for this user. */
  order: Order | undefined;
  /** Milliseconds since the order last changed state (by the database clock). */
  statusAgeMs: number;
  /** Set when this call won the claim. */
  attempt: ClaimedAttempt | undefined;
}

const statusList = (statuses: readonly string[]) =>
  sql.join(
    statuses.map((s) => sql`${s}`),
    sql`, `,
  );

/**
 * Phase 1, in ONE statement (one round trip): read the order, claim it with
 * `version = version + 1 WHERE version = <seen> AND status IN (payable)`, and insert the attempt.
 * Two concurrent claims cannot both succeed: the second UPDATE waits for the first's row lock,
 * re-checks `version = <seen>` against the committed row, and matches nothing.
 */
export async function claimOrder(
  db: Executor,
  params: {
    orderId: string;
    userId: string;
    claimedBy: string;
    paymentMethodId?: string | undefined;
    /** Which states may be claimed; default every payable state. */
    from?: readonly OrderStatus[];
  },
): Promise<ClaimResult> {
  const rows = await executePrepared<
    OrderRow & {
      status_age_ms: number;
      attempt_id: string | null;
      claim_version: number | null;
      idempotency_key: string | null;
      attempt_amount: number | null;
      attempt_currency: string | null;
      attempt_payment_method_id: string | null;
    }
  >(
    db,
    sql`
    with cur as (
      select *, (extract(epoch from (now() - updated_at)) * 1000)::float8 as status_age_ms
        from orders
       where id = ${params.orderId} and user_id = ${params.userId}
    ),
    claimed as (
      update orders o
         set status = 'processing',
             version = o.version + 1,
             payment_method_id = coalesce(${params.paymentMethodId ?? null}, o.payment_method_id),
             updated_at = now()
        from cur
       where o.id = cur.id and o.version = cur.version and o.status in (${statusList(params.from ?? PAYABLE_STATUSES)})
      returning o.id, o.version, o.amount, o.currency, o.payment_method_id
    ),
    attempt as (
      insert into payment_attempts
        (order_id, claim_version, idempotency_key, amount, currency, payment_method_id, claimed_by)
      select id, version, ${idempotencyKeySql(sql`id`, sql`version`)}, amount, currency, payment_method_id,
             ${params.claimedBy}
        from claimed
      returning id, claim_version, idempotency_key, amount, currency, payment_method_id
    )
    select cur.*, attempt.id as attempt_id, attempt.claim_version, attempt.idempotency_key,
           attempt.amount as attempt_amount, attempt.currency as attempt_currency,
           attempt.payment_method_id as attempt_payment_method_id
      from cur left join attempt on true
  `,
  );
  const row = rows[0];
  if (!row) return { order: undefined, statusAgeMs: 0, attempt: undefined };
  return {
    order: toOrder(row),
    statusAgeMs: Number(row.status_age_ms),
    attempt:
      row.attempt_id === null
        ? undefined
        : {
            id: row.attempt_id,
            claimVersion: row.claim_version!,
            idempotencyKey: row.idempotency_key!,
            amount: row.attempt_amount!,
            currency: row.attempt_currency!,
            paymentMethodId: row.attempt_payment_method_id!,
          },
  };
}

export type AttemptOutcome =
  | { status: 'succeeded'; paymentIntentId: string }
  | { status: 'failed'; paymentIntentId: string | null; errorCode: string; declineCode: string | null }
  | { status: 'requires_action'; paymentIntentId: string };

const ORDER_STATUS_FOR: Record<Exclude<AttemptStatus, 'processing'>, string> = {
  succeeded: 'paid',
  failed: 'failed',
  requires_action: 'requires_action',
};

/**
 * Phase 3, in ONE statement: the order moves (paid / failed / requires_action) only if it is still
 * at the claimed version, and the attempt moves only if the order did. Safe to call twice and
 * from racing finalizers (payer, webhook, recovery): exactly one sees a row back; the others get
 * `undefined` and must re-read. Contract: every writer of an attempt's status also bumps its
 * order's version in the same statement, so the two cannot drift apart.
 */
export async function finalizeAttempt(
  db: Executor,
  params: { orderId: string; attemptId: string; claimVersion: number; outcome: AttemptOutcome },
): Promise<Order | undefined> {
  const { outcome } = params;
  const orderStatus = ORDER_STATUS_FOR[outcome.status];
  const paid = outcome.status === 'succeeded';
  const errorCode = outcome.status === 'failed' ? outcome.errorCode : null;
  const declineCode = outcome.status === 'failed' ? outcome.declineCode : null;
  const rows = await executePrepared<OrderRow & { attempts_updated: number }>(
    db,
    sql`
    with o as (
      update orders
         set status = ${orderStatus},
             version = version + 1,
             payment_intent_id = ${paid ? outcome.paymentIntentId : null},
             paid_at = ${paid ? sql`now()` : sql`null`},
             updated_at = now()
       where id = ${params.orderId}
         and version = ${params.claimVersion}
         and status = 'processing'
         and exists (select 1 from payment_attempts
                      where id = ${params.attemptId} and order_id = ${params.orderId}
                        and claim_version = ${params.claimVersion} and status = 'processing')
      returning *
    ),
    a as (
      update payment_attempts
         set status = ${outcome.status},
             payment_intent_id = ${outcome.paymentIntentId},
             error_code = ${errorCode},
             decline_code = ${declineCode},
             completed_at = now()
       where id = ${params.attemptId} and order_id = ${params.orderId}
         and claim_version = ${params.claimVersion} and status = 'processing' and exists (select 1 from o)
      returning id
    )
    select o.*, (select count(*) from a)::int as attempts_updated from o
  `,
  );
  const row = rows[0];
  return row ? toOrder(row) : undefined;
}

/** How many attempts await a provider outcome, and how long the oldest has waited (database clock). */
export async function summarizeProcessingAttempts(
  db: Executor,
): Promise<{ count: number; oldestAgeSeconds: number }> {
  const rows = await db.execute<{ count: number; oldest: number }>(sql`
    select count(*)::int as count, coalesce(extract(epoch from now() - min(claimed_at)), 0)::float8 as oldest
      from payment_attempts where status = 'processing'`);
  return { count: Number(rows[0]?.count ?? 0), oldestAgeSeconds: Number(rows[0]?.oldest ?? 0) };
}

/** How the order's most recent attempt ended (for a payer that waited on it). */
export async function latestAttempt(
  db: Executor,
  orderId: string,
): Promise<{ status: AttemptStatus; errorCode: string | null; declineCode: string | null } | undefined> {
  const rows = await db.execute<{
    status: AttemptStatus;
    error_code: string | null;
    decline_code: string | null;
  }>(sql`
    select status, error_code, decline_code from payment_attempts
     where order_id = ${orderId} order by claim_version desc limit 1`);
  const row = rows[0];
  return row && { status: row.status, errorCode: row.error_code, declineCode: row.decline_code };
}
