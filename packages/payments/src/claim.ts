import {
  CLAIM,
  type Executor,
  orders,
  paymentAttempts,
  preparedStatement,
  status,
  statusIn,
} from '@chargeonce/db';
import {
  type AnyColumn,
  and,
  desc,
  eq,
  getTableColumns,
  gt,
  isNotNull,
  notExists,
  type SQL,
  sql,
} from 'drizzle-orm';
import type { Order, PaymentAttempt } from './orders';

/**
 * The Stripe idempotency key of a claim: a pure function of order id and claim version, so any
 * process that retries this claim (the payer, the recovery worker) reaches Stripe with the same
 * key, and a later claim of the same order never collides with it. The claim statement builds the
 * same string inside PostgreSQL; a test holds the two equal.
 */
export function idempotencyKeyFor(orderId: string, claimVersion: number): string {
  return `chargeonce-${orderId}-v${claimVersion}`;
}
const idempotencyKeySql = (orderId: AnyColumn, version: AnyColumn) =>
  sql`'chargeonce-' || ${orderId} || '-v' || ${version}`;

export interface ClaimParams {
  orderId: string;
  /** The order's owner, or null for any owner (a service acting on an order by its id). */
  userId: string | null;
  claimedBy: string;
  /** Pay with this payment method instead of the order's. */
  paymentMethodId?: string | undefined;
  /**
   * Set once the caller has waited on another call's attempt (its claim version): then it never
   * claims, it reads that attempt's outcome as its own answer.
   */
  waitedOn?: number | undefined;
  /** A decline of the same payment method this recent blocks a new claim (its answer is replayed). */
  declineCooldownMs: number;
  /**
   * Where the customer returns after a 3-D Secure challenge, `{orderId}` replaced by the order's id;
   * fixed on the attempt by the claim. Null or absent: 3-D Secure fails as a decline.
   */
  returnUrl?: string | null | undefined;
}

export interface ClaimResult {
  /** The order as it is now (after the claim when this call made it); undefined: not this user's. */
  order: Order | undefined;
  /** Milliseconds since the order last changed, before this statement (database clock). */
  statusAgeMs: number;
  /** Set when this call won the claim. */
  attempt: PaymentAttempt | undefined;
  /**
   * Without a claim, the attempt whose outcome answers this call: the one it waited on, or a
   * decline of the same payment method within the cool-down, which kept it from claiming.
   */
  answer: PaymentAttempt | undefined;
}

const p = {
  orderId: sql.placeholder('orderId'),
  userId: sql.placeholder('userId'),
  claimedBy: sql.placeholder('claimedBy'),
  paymentMethodId: sql.placeholder('paymentMethodId'),
  waitedOn: sql.placeholder('waitedOn'),
  cooldownSeconds: sql.placeholder('cooldownSeconds'),
  returnUrl: sql.placeholder('returnUrl'),
};

/**
 * Phase 1, in ONE statement (one round trip): read the order, find the attempt that would answer
 * instead (see `ClaimResult.answer`), claim the order with `version = version + 1 WHERE version =
 * <seen> AND status IN (CLAIM.order.from)` unless that attempt exists, and insert the new attempt.
 * Two concurrent claims cannot both succeed: the second UPDATE waits for the first's row lock,
 * re-checks `version = <seen>` against the committed row, and matches nothing. Decided entirely in
 * the database, so it holds across instances.
 */
const claimStatement = preparedStatement('co_claim', (db) => {
  const cur = db.$with('cur').as(
    db
      .select({
        ...getTableColumns(orders),
        statusAgeMs: sql<number>`(extract(epoch from (now() - ${orders.updatedAt})) * 1000)::float8`.as(
          'status_age_ms',
        ),
      })
      .from(orders)
      .where(
        and(eq(orders.id, p.orderId), sql`(${p.userId}::uuid is null or ${orders.userId} = ${p.userId})`),
      ),
  );
  const a = paymentAttempts;
  const recentDeclineOfSameMethod = and(
    eq(a.paymentMethodId, sql`coalesce(${p.paymentMethodId}, ${cur.paymentMethodId})`),
    isNotNull(a.declineCode),
    gt(a.completedAt, sql`now() - make_interval(secs => ${p.cooldownSeconds})`),
  );
  const answer = db.$with('answer').as(
    db
      .select(getTableColumns(a))
      .from(a)
      .innerJoin(cur, eq(a.orderId, cur.id))
      .where(
        sql`case when ${p.waitedOn}::int is null then ${recentDeclineOfSameMethod} else ${eq(a.claimVersion, p.waitedOn)} end`,
      )
      .orderBy(desc(a.claimVersion))
      .limit(1),
  );
  const claimed = db.$with('claimed').as(
    db
      .update(orders)
      .set({
        status: status(CLAIM.order.to),
        version: sql`${orders.version} + 1`,
        paymentMethodId: sql`coalesce(${p.paymentMethodId}, ${orders.paymentMethodId})`,
        updatedAt: sql`now()`,
      })
      .from(cur)
      .where(
        and(
          eq(orders.id, cur.id),
          eq(orders.version, cur.version),
          statusIn(orders.status, CLAIM.order.from),
          sql`${p.waitedOn}::int is null`,
          notExists(db.select({ one: sql`1` }).from(answer)),
        ),
      )
      .returning(getTableColumns(orders)),
  );
  const columns = (...cols: AnyColumn[]): SQL =>
    sql.join(
      cols.map((c) => sql.identifier(c.name)),
      sql`, `,
    );
  // drizzle's insert-select wants every column; the rest take their defaults here.
  const attempt = db.$with('attempt', getTableColumns(a)).as(sql`
    insert into ${a} (${columns(a.orderId, a.claimVersion, a.idempotencyKey, a.status, a.amount, a.currency, a.paymentMethodId, a.captureMethod, a.returnUrl, a.claimedBy)})
    select ${claimed.id}, ${claimed.version}, ${idempotencyKeySql(claimed.id, claimed.version)},
           ${status(CLAIM.attempt.to)}, ${claimed.amount}, ${claimed.currency}, ${claimed.paymentMethodId},
           ${claimed.captureMethod}, replace(${p.returnUrl}::text, '{orderId}', ${claimed.id}::text),
           ${p.claimedBy}
      from ${claimed}
    returning *`);
  return db
    .with(cur, answer, claimed, attempt)
    .select()
    .from(cur)
    .leftJoin(claimed, sql`true`)
    .leftJoin(attempt, sql`true`)
    .leftJoin(answer, sql`true`);
});

export async function claimOrder(db: Executor, params: ClaimParams): Promise<ClaimResult> {
  const [row] = await claimStatement(db).execute({
    orderId: params.orderId,
    userId: params.userId,
    claimedBy: params.claimedBy,
    paymentMethodId: params.paymentMethodId ?? null,
    waitedOn: params.waitedOn ?? null,
    cooldownSeconds: params.declineCooldownMs / 1000,
    returnUrl: params.returnUrl ?? null,
  });
  if (!row) return { order: undefined, statusAgeMs: 0, attempt: undefined, answer: undefined };
  const { statusAgeMs, ...before } = row.cur;
  return {
    order: row.claimed ?? before,
    statusAgeMs,
    attempt: row.attempt ?? undefined,
    answer: row.answer ?? undefined,
  };
}
