import {
  AUTHORIZATION_REOPEN,
  AUTHORIZATION_SETTLE,
  CAPTURE_START,
  type CaptureKind,
  captures,
  type Executor,
  orders,
  paymentAttempts,
  status,
  statusIn,
  VOID_START,
} from '@chargeonce/db';
import { and, desc, eq, exists, getTableColumns, sql } from 'drizzle-orm';
import type { Order } from './orders';

export type Capture = typeof captures.$inferSelect;

/**
 * The Stripe idempotency key of a capture or void: a pure function of its row's id, durable before
 * the provider is called, so every process that retries it sends the same key.
 */
export function captureKeyFor(kind: CaptureKind, captureId: string): string {
  return `chargeonce-${kind}-${captureId}`;
}

export interface StartParams {
  /** Drawn by the caller: the row's id, and through it its Stripe key. */
  captureId: string;
  kind: CaptureKind;
  orderId: string;
  /** The order's owner, or null for any owner (a service acting on an order by its id). */
  userId: string | null;
  /** A capture's amount (minor units); null: all of it. */
  amount: number | null;
  requestedBy: { kind: 'user' | 'service'; id: string };
}

const START = { capture: CAPTURE_START, void: VOID_START } as const;

/**
 * A capture or void takes an authorized order, in ONE statement: the order moves `authorized ->
 * capturing | voiding` (version bumped) only while it is authorized, at the version it was read at,
 * and — for a capture — asks no more than the amount; the row is inserted with it. Of a capture and
 * a void racing (any instances), the second's UPDATE waits for the first's row lock, re-checks
 * against the committed row and matches nothing: one wins. Nothing taken: `capture` undefined.
 */
export async function startCapture(
  db: Executor,
  params: StartParams,
): Promise<{ order: Order | undefined; capture: Capture | undefined }> {
  const owned = params.userId === null ? undefined : eq(orders.userId, params.userId);
  const cur = db.$with('cur').as(
    db
      .select()
      .from(orders)
      .where(and(eq(orders.id, params.orderId), owned)),
  );
  const a = paymentAttempts;
  const held = db.$with('held').as(
    db
      .select({ attemptId: a.id, heldIntent: a.paymentIntentId })
      .from(a)
      .innerJoin(cur, eq(a.orderId, cur.id))
      .where(sql`${a.status} = ${status('authorized')}`),
  );
  const move = START[params.kind];
  const taken = db.$with('taken').as(
    db
      .update(orders)
      .set({ status: status(move.to), version: sql`${orders.version} + 1`, updatedAt: sql`now()` })
      .from(cur)
      .where(
        and(
          eq(orders.id, cur.id),
          eq(orders.version, cur.version),
          statusIn(orders.status, move.from),
          sql`(${params.amount}::int is null or ${params.amount}::int <= ${orders.amount})`,
          exists(db.select({ one: sql`1` }).from(held)),
        ),
      )
      .returning(getTableColumns(orders)),
  );
  const c = captures;
  const columns = sql.join(
    [
      c.id,
      c.orderId,
      c.attemptId,
      c.paymentIntentId,
      c.kind,
      c.amount,
      c.idempotencyKey,
      c.requestedByKind,
      c.requestedById,
    ].map((col) => sql.identifier(col.name)),
    sql`, `,
  );
  // drizzle's insert-select wants every column; the rest take their defaults here.
  const inserted = db.$with('inserted', getTableColumns(c)).as(sql`
    insert into ${c} (${columns})
    select ${params.captureId}::uuid, ${taken.id}, ${held.attemptId}, ${held.heldIntent},
           ${params.kind}::capture_kind, ${params.amount}::int,
           ${captureKeyFor(params.kind, params.captureId)},
           ${params.requestedBy.kind}::principal_kind, ${params.requestedBy.id}::uuid
      from ${taken}, ${held}
    returning *`);
  const [row] = await db
    .with(cur, held, taken, inserted)
    .select()
    .from(cur)
    .leftJoin(taken, sql`true`)
    .leftJoin(inserted, sql`true`);
  if (!row) return { order: undefined, capture: undefined };
  return { order: row.taken ?? row.cur, capture: row.inserted ?? undefined };
}

/** What the provider says became of an authorization. */
export type AuthorizationOutcome =
  /** Captured (`amountReceived`: what was taken). */
  | { kind: 'captured'; amountReceived: number | undefined }
  /** Released: voided (the order was voiding) or lapsed / canceled elsewhere (payable again). */
  | { kind: 'released'; reason: string }
  /** The provider refused this capture or void before executing it; the hold is still open. */
  | { kind: 'reopened'; captureId: string; errorCode: string };

const cap = captures;
const att = paymentAttempts;
const { captured, voided, lapsed } = AUTHORIZATION_SETTLE;

/**
 * Settles an authorization with what the provider says, in one transaction: in ONE statement the order moves
 * (`AUTHORIZATION_SETTLE`, `AUTHORIZATION_REOPEN`) only from a state that may lead there and only
 * while its PaymentIntent is this one, and its authorized attempt with it; then the captures and
 * voids pending on this hold are closed by what the provider says. Racing settlers (requester,
 * webhook, recovery, reconciliation): one sees the order back, the others `undefined`.
 */
export async function settleAuthorization(
  db: Executor,
  params: { orderId: string; paymentIntentId: string; outcome: AuthorizationOutcome },
): Promise<Order | undefined> {
  // One transaction: between the order's move and the close of its pending rows another reader
  // would see the order settled with a capture or void still pending (a repeated void answered
  // ORDER_NOT_VOIDABLE though it succeeded). At READ COMMITTED the second statement still takes a
  // snapshot of its own, so what is said below of rows inserted meanwhile holds.
  return db.transaction((tx) => settle(tx, params));
}

async function settle(
  db: Executor,
  params: { orderId: string; paymentIntentId: string; outcome: AuthorizationOutcome },
): Promise<Order | undefined> {
  const { outcome } = params;
  const ours = and(eq(orders.id, params.orderId), eq(orders.paymentIntentId, params.paymentIntentId));
  const heldAttempt = and(
    eq(att.orderId, params.orderId),
    eq(att.paymentIntentId, params.paymentIntentId),
    sql`${att.status} = ${status('authorized')}`,
  );
  // The captures and voids pending on this hold (not on an earlier hold of the same order).
  const pendingRow = and(
    eq(cap.orderId, params.orderId),
    eq(cap.paymentIntentId, params.paymentIntentId),
    sql`${cap.status} = ${status('pending')}`,
  );
  const done = { completedAt: sql`now()`, updatedAt: sql`now()` };
  const isCapture = sql`${cap.kind} = 'capture'::capture_kind`;

  if (outcome.kind === 'reopened') {
    const theRow = and(pendingRow, eq(cap.id, outcome.captureId));
    const order = db.$with('settled').as(
      db
        .update(orders)
        .set({
          status: status(AUTHORIZATION_REOPEN.to),
          version: sql`${orders.version} + 1`,
          updatedAt: sql`now()`,
        })
        .where(
          and(
            ours,
            statusIn(orders.status, AUTHORIZATION_REOPEN.from),
            exists(db.select({ one: sql`1` }).from(cap).where(theRow)),
          ),
        )
        .returning(),
    );
    const row = db.$with('row').as(
      db
        .update(cap)
        .set({ status: status('failed'), errorCode: outcome.errorCode, ...done })
        .where(and(theRow, exists(db.select({ one: sql`1` }).from(order))))
        .returning({ id: cap.id }),
    );
    const [settled] = await db.with(order, row).select().from(order);
    return settled;
  }

  const wasCaptured = outcome.kind === 'captured';
  const from = wasCaptured ? captured.order.from : [...new Set([...voided.order.from, ...lapsed.order.from])];
  // Released while voiding: the void did it (canceled); otherwise the hold lapsed (payable again).
  const to = wasCaptured
    ? status(captured.order.to)
    : sql`(case when ${statusIn(orders.status, voided.order.from)} then ${status(voided.order.to)} else ${status(lapsed.order.to)} end)::order_status`;
  const order = db.$with('settled').as(
    db
      .update(orders)
      .set({
        status: to,
        version: sql`${orders.version} + 1`,
        updatedAt: sql`now()`,
        ...(wasCaptured
          ? {
              paidAt: sql`now()`,
              capturedAmount: sql`coalesce(${outcome.amountReceived ?? null}::int, ${orders.amount})`,
            }
          : {
              canceledAt: sql`case when ${statusIn(orders.status, voided.order.from)} then now() else ${orders.canceledAt} end`,
            }),
      })
      .where(and(ours, statusIn(orders.status, from)))
      .returning(),
  );
  const exists_ = exists(db.select({ one: sql`1` }).from(order));
  const attempt = db.$with('attempt').as(
    db
      .update(att)
      .set({
        status: status(wasCaptured ? captured.attempt.to : lapsed.attempt.to),
        errorCode: wasCaptured ? null : outcome.reason,
        completedAt: sql`now()`,
      })
      .where(and(heldAttempt, exists_))
      .returning({ id: att.id }),
  );
  const [settled] = await db.with(order, attempt).select().from(order);
  // The captures and voids pending on it: done if they are the kind that happened, failed
  // otherwise. A statement of its own, in a snapshot taken after the order's row lock was waited
  // for: a capture or void inserted while this settle waited (its take committed first) is seen
  // and closed too. It rests on what the provider says, which is final for this hold whether or
  // not the order moved here (another settler may have moved it), so it runs either way.
  const happened = wasCaptured ? isCapture : sql`not (${isCapture})`;
  await db
    .update(cap)
    .set({
      status: sql`(case when ${happened} then ${status('succeeded')} else ${status('failed')} end)::capture_status`,
      errorCode: sql`case when ${happened} then null else ${wasCaptured ? 'payment_intent_captured' : 'authorization_released'} end`,
      ...done,
    })
    .where(pendingRow);
  return settled;
}

/** The order's captures and voids, newest first. */
export async function capturesOf(db: Executor, orderId: string): Promise<Capture[]> {
  return db.select().from(captures).where(eq(captures.orderId, orderId)).orderBy(desc(captures.createdAt));
}

export async function findCapture(db: Executor, captureId: string): Promise<Capture | undefined> {
  const [row] = await db.select().from(captures).where(eq(captures.id, captureId));
  return row;
}
