import {
  type Executor,
  expectedOrderVersion,
  orders,
  paymentAttempts,
  preparedStatement,
  SETTLE,
  status,
  statusIn,
} from '@chargeonce/db';
import { and, eq, exists, sql } from 'drizzle-orm';
import type { Order } from './orders';

/** How an attempt ended, as recorded on it. */
export type AttemptOutcome =
  /** `amountReceived`: what was taken (the amount, unless a partial capture took less). */
  | { status: 'succeeded'; paymentIntentId: string; amountReceived?: number | undefined }
  | { status: 'failed'; paymentIntentId: string | null; errorCode: string; declineCode: string | null }
  /** `actionUrl`: the challenge the customer must complete, null when the provider gave none. */
  | { status: 'requires_action'; paymentIntentId: string; actionUrl: string | null }
  /** Manual capture: the provider holds the funds. */
  | { status: 'authorized'; paymentIntentId: string };

/** Recorded as `error_code` when the provider refused our credentials (nothing was executed). */
export const PROVIDER_UNAVAILABLE_CODE = 'provider_unavailable';
/** Recorded as `error_code` when, past the key window, the provider had no PaymentIntent for it. */
export const ABANDONED_CODE = 'abandoned';

const p = {
  orderId: sql.placeholder('orderId'),
  attemptId: sql.placeholder('attemptId'),
  claimVersion: sql.placeholder('claimVersion'),
  paymentIntentId: sql.placeholder('paymentIntentId'),
  errorCode: sql.placeholder('errorCode'),
  declineCode: sql.placeholder('declineCode'),
  capturedAmount: sql.placeholder('capturedAmount'),
  actionUrl: sql.placeholder('actionUrl'),
};

/** One prepared statement per outcome: each has its own `SETTLE` move. */
const settleStatement = (outcome: AttemptOutcome['status']) =>
  preparedStatement(`co_settle_${outcome}`, (db) => {
    const move = SETTLE[outcome];
    const paid = outcome === 'succeeded';
    // The order names its PaymentIntent once it is charged or holds funds.
    const named = paid || outcome === 'authorized';
    const a = paymentAttempts;
    const theAttempt = and(
      eq(a.id, p.attemptId),
      eq(a.orderId, p.orderId),
      eq(a.claimVersion, p.claimVersion),
    );
    const order = db.$with('settled').as(
      db
        .update(orders)
        .set({
          status: status(move.order.to),
          version: sql`${orders.version} + 1`,
          paymentIntentId: named ? sql`${p.paymentIntentId}` : null,
          paidAt: paid ? sql`now()` : null,
          capturedAmount: paid ? sql`coalesce(${p.capturedAmount}::int, ${orders.amount})` : null,
          authorizedAt: outcome === 'authorized' ? sql`now()` : sql`${orders.authorizedAt}`,
          updatedAt: sql`now()`,
        })
        .where(
          and(
            eq(orders.id, p.orderId),
            statusIn(orders.status, move.order.from),
            // The attempt is still the order's current one: nothing moved the order since the
            // attempt's last move (its claim, or its move to requires_action).
            exists(
              db
                .select({ one: sql`1` })
                .from(a)
                .where(
                  and(
                    theAttempt,
                    statusIn(a.status, move.attempt.from),
                    eq(orders.version, expectedOrderVersion(a.status, a.claimVersion)),
                  ),
                ),
            ),
          ),
        )
        .returning(),
    );
    const attempt = db.$with('attempt').as(
      db
        .update(a)
        .set({
          status: status(move.attempt.to),
          paymentIntentId: sql`${p.paymentIntentId}`,
          errorCode: sql`${p.errorCode}`,
          declineCode: sql`${p.declineCode}`,
          actionUrl: sql`${p.actionUrl}`,
          completedAt: sql`now()`,
        })
        .where(
          and(
            theAttempt,
            statusIn(a.status, move.attempt.from),
            exists(db.select({ one: sql`1` }).from(order)),
          ),
        )
        .returning({ id: a.id }),
    );
    return db.with(order, attempt).select().from(order);
  });

const statements = {
  succeeded: settleStatement('succeeded'),
  failed: settleStatement('failed'),
  requires_action: settleStatement('requires_action'),
  authorized: settleStatement('authorized'),
};

/**
 * Phase 3, in ONE statement: the order moves (`SETTLE[outcome].order`) only if it is still at the
 * version the attempt's last move left it at (`expectedOrderVersion`: the claim version, or one
 * more once the attempt awaits the customer), and the attempt moves only if the order did. Safe to call twice and from racing
 * settlers (payer, webhook, recovery, reconciliation): exactly one sees the order back; the others
 * get `undefined` and must re-read. Contract: every writer of an attempt's status also bumps its
 * order's version in the same statement, so the two cannot drift apart.
 */
export async function finalizeAttempt(
  db: Executor,
  params: { orderId: string; attemptId: string; claimVersion: number; outcome: AttemptOutcome },
): Promise<Order | undefined> {
  const { outcome } = params;
  const failed = outcome.status === 'failed' ? outcome : undefined;
  const [row] = await statements[outcome.status](db).execute({
    orderId: params.orderId,
    attemptId: params.attemptId,
    claimVersion: params.claimVersion,
    paymentIntentId: outcome.paymentIntentId,
    errorCode: failed?.errorCode ?? null,
    declineCode: failed?.declineCode ?? null,
    capturedAmount: outcome.status === 'succeeded' ? (outcome.amountReceived ?? null) : null,
    actionUrl: outcome.status === 'requires_action' ? outcome.actionUrl : null,
  });
  return row;
}
