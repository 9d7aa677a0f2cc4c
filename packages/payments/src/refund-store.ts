import {
  type Executor,
  IN_FLIGHT_REFUND_STATUSES,
  orders,
  REFUND_REVERSAL,
  REFUND_SETTLE,
  REFUNDABLE_STATUSES,
  refundedStatusFor,
  refunds,
  status,
  statusIn,
} from '@chargeonce/db';
import { and, asc, eq, getTableColumns, or, type SQL, sql } from 'drizzle-orm';
import type { Order } from './orders';

export type Refund = typeof refunds.$inferSelect;

/**
 * The Stripe idempotency key of a refund: a pure function of the refund row's id, which is durable
 * before the provider is called, so every process that retries this refund sends the same key.
 */
export function refundKeyFor(refundId: string): string {
  return `chargeonce-refund-${refundId}`;
}

/**
 * The one way an order's refunded amount changes (a reservation, a release): the amount, the status
 * that follows it, the version bumped (every change of an order is), and when.
 */
/** What a refund may give back: what was taken (all of the amount, or less after a partial capture). */
const taken = sql`coalesce(${orders.capturedAmount}, ${orders.amount})`;

const refundedAmountBecomes = (after: SQL) => ({
  refundedAmount: after,
  status: refundedStatusFor(after, taken),
  version: sql`${orders.version} + 1`,
  refundedAt: sql`now()`,
  updatedAt: sql`now()`,
});

export interface ReserveParams {
  /** Drawn by the caller: the refund row's id, and through it its Stripe key. */
  refundId: string;
  orderId: string;
  /** The order's owner, or null for any owner (a service acting on an order by its id). */
  userId: string | null;
  /** Minor units; the whole unrefunded amount as the statement read it when absent. */
  amount: number | undefined;
  reason: string | null;
  requestedBy: { kind: 'user' | 'service'; id: string };
  idempotencyKeyId: string | null;
}

/**
 * The reservation, in ONE statement: the order's `refunded_amount` grows by the refund's amount
 * only while the order is paid (or partly refunded) and the sum stays within what was charged —
 * a guard PostgreSQL re-checks against the newest committed row once it holds the row's lock, so
 * no number of concurrent refunds, on any number of instances, can reserve more than the amount —
 * and the refund row is inserted with it. The order's version is bumped (every change of an order
 * is), its status follows the refunded amount. Nothing is reserved: `refund` undefined.
 */
export async function reserveRefund(
  db: Executor,
  params: ReserveParams,
): Promise<{ order: Order | undefined; refund: Refund | undefined }> {
  const owned = params.userId === null ? undefined : eq(orders.userId, params.userId);
  const cur = db.$with('cur').as(
    db
      .select({
        ...getTableColumns(orders),
        ask: sql<number>`coalesce(${params.amount ?? null}::int, ${taken} - ${orders.refundedAmount})`.as(
          'ask',
        ),
      })
      .from(orders)
      .where(and(eq(orders.id, params.orderId), owned)),
  );
  const after = sql`${orders.refundedAmount} + ${cur.ask}`;
  const reserved = db.$with('reserved').as(
    db
      .update(orders)
      .set(refundedAmountBecomes(after))
      .from(cur)
      .where(
        and(
          eq(orders.id, cur.id),
          statusIn(orders.status, REFUNDABLE_STATUSES),
          sql`${cur.ask} > 0`,
          sql`${after} <= ${taken}`,
        ),
      )
      .returning({
        ...getTableColumns(orders),
        reservedAmount: sql<number>`${cur.ask}`.as('reserved_amount'),
      }),
  );
  const r = refunds;
  const columns = sql.join(
    [
      r.id,
      r.orderId,
      r.paymentIntentId,
      r.amount,
      r.currency,
      r.reason,
      r.idempotencyKey,
      r.requestedByKind,
      r.requestedById,
      r.idempotencyKeyId,
    ].map((c) => sql.identifier(c.name)),
    sql`, `,
  );
  // drizzle's insert-select wants every column; the rest take their defaults here.
  const inserted = db.$with('inserted', getTableColumns(r)).as(sql`
    insert into ${r} (${columns})
    select ${params.refundId}::uuid, ${reserved.id}, ${reserved.paymentIntentId}, ${reserved.reservedAmount},
           ${reserved.currency}, ${params.reason}, ${refundKeyFor(params.refundId)},
           ${params.requestedBy.kind}::principal_kind, ${params.requestedBy.id}::uuid,
           ${params.idempotencyKeyId}::uuid
      from ${reserved}
    returning *`);
  const [row] = await db
    .with(cur, reserved, inserted)
    .select()
    .from(cur)
    .leftJoin(reserved, sql`true`)
    .leftJoin(inserted, sql`true`);
  if (!row) return { order: undefined, refund: undefined };
  const { ask: _, ...before } = row.cur;
  const reservedOrder = row.reserved ? (({ reservedAmount: __, ...o }) => o)(row.reserved) : undefined;
  return { order: reservedOrder ?? before, refund: row.inserted ?? undefined };
}

/** How a refund stands, as recorded on it. */
export type RefundOutcome =
  | { status: 'succeeded'; stripeRefundId: string }
  | { status: 'failed'; stripeRefundId: string | null; errorCode: string }
  /** Accepted by the provider, not final: only its id is recorded. */
  | { status: 'pending'; stripeRefundId: string };

/**
 * Settles a refund, in ONE statement, only from a state that may still lead there
 * (`REFUND_SETTLE`; `REFUND_REVERSAL` for a failure Stripe reports on this refund's own id), so racing settlers (requester, webhook, recovery, reconciliation) settle it
 * once: the others get `undefined` and re-read. A failure gives the reserved amount back to the
 * order in the same statement (its status follows). `pending` records the provider's refund id.
 */
export async function settleRefund(
  db: Executor,
  refundId: string,
  outcome: RefundOutcome,
): Promise<{ refund: Refund; order: Order | undefined } | undefined> {
  const r = refunds;
  if (outcome.status === 'pending') {
    const [refund] = await db
      .update(r)
      .set({ stripeRefundId: outcome.stripeRefundId, updatedAt: sql`now()` })
      .where(
        and(
          eq(r.id, refundId),
          statusIn(r.status, IN_FLIGHT_REFUND_STATUSES),
          sql`${r.stripeRefundId} is null`,
        ),
      )
      .returning();
    return refund && { refund, order: undefined };
  }
  const move = REFUND_SETTLE[outcome.status];
  // A failure read from Stripe for this refund's own id may also reverse a success.
  const reversal =
    outcome.status === 'failed' && outcome.stripeRefundId !== null
      ? and(statusIn(r.status, REFUND_REVERSAL.from), eq(r.stripeRefundId, outcome.stripeRefundId))
      : undefined;
  const settled = db.$with('settled').as(
    db
      .update(r)
      .set({
        status: status(move.to),
        stripeRefundId: sql`coalesce(${outcome.stripeRefundId}, ${r.stripeRefundId})`,
        errorCode: outcome.status === 'failed' ? outcome.errorCode : null,
        completedAt: sql`now()`,
        updatedAt: sql`now()`,
      })
      .where(and(eq(r.id, refundId), or(statusIn(r.status, move.from), reversal)))
      .returning(),
  );
  if (outcome.status === 'succeeded') {
    const [refund] = await db.with(settled).select().from(settled);
    return refund && { refund, order: undefined };
  }
  const after = sql`${orders.refundedAmount} - (select ${settled.amount} from ${settled})`;
  const released = db
    .$with('released')
    .as(
      db
        .update(orders)
        .set(refundedAmountBecomes(after))
        .where(sql`${orders.id} = (select ${settled.orderId} from ${settled})`)
        .returning(),
    );
  const [row] = await db.with(settled, released).select().from(settled).leftJoin(released, sql`true`);
  return row && { refund: row.settled, order: row.released ?? undefined };
}

/** A refund by id, or by the caller idempotency key it was requested under. */
export async function findRefund(
  db: Executor,
  by: { id: string } | { idempotencyKeyId: string },
): Promise<Refund | undefined> {
  const where = 'id' in by ? eq(refunds.id, by.id) : eq(refunds.idempotencyKeyId, by.idempotencyKeyId);
  const [refund] = await db.select().from(refunds).where(where);
  return refund;
}

/** A refund by the provider's refund id, or by our id in its metadata. */
export async function findRefundByProvider(
  db: Executor,
  provider: { stripeRefundId: string; refundId: string | undefined },
): Promise<Refund | undefined> {
  const [byStripe] = await db
    .select()
    .from(refunds)
    .where(eq(refunds.stripeRefundId, provider.stripeRefundId));
  if (byStripe || !provider.refundId || !/^[0-9a-f-]{36}$/.test(provider.refundId)) return byStripe;
  return findRefund(db, { id: provider.refundId });
}

/** An order's refunds, oldest first. */
export async function refundsOf(db: Executor, orderId: string): Promise<Refund[]> {
  return db.select().from(refunds).where(eq(refunds.orderId, orderId)).orderBy(asc(refunds.createdAt));
}

/**
 * Lets a refund that never reached the provider (refused before executing) go of the caller key it
 * was made under, so a retry with the key makes a new refund instead of finding that failure.
 */
export async function detachRefundKey(db: Executor, refundId: string): Promise<void> {
  await db.update(refunds).set({ idempotencyKeyId: null }).where(eq(refunds.id, refundId));
}
