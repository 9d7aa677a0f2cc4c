import { and, eq, isNull, lt, or, type Placeholder, sql } from 'drizzle-orm';
import type { Executor } from './client';
import { preparedStatement } from './prepared';
import { idempotencyKeys } from './schema/idempotency-keys';
import { refunds } from './schema/refunds';
import type { PrincipalKind } from './schema/users';
import { IN_FLIGHT_REFUND_STATUSES, statusIn } from './states';

/**
 * Caller idempotency keys (Stripe's semantics): the first request with a key takes it and
 * executes; its final answer is stored and every later request with the key gets that answer
 * back. The database decides every step with one conditional statement, so any number of server
 * instances share the keys with no lock of their own.
 */

/** Who a key belongs to: keys of two principals never meet. */
export interface KeyOwner {
  kind: PrincipalKind;
  id: string;
}

/** 1–255 printable ASCII characters (the table's check says the same). */
export const IDEMPOTENCY_KEY_PATTERN = /^[\x20-\x7E]{1,255}$/;

export interface TakeKeyParams {
  owner: KeyOwner;
  key: string;
  /** The procedure (`orders.create`) and the fingerprint of its input: both must match to replay. */
  procedure: string;
  fingerprint: string;
  /**
   * How long a request holds a key. A key held longer than this belongs to a request that died:
   * another may take it (and the operation's own exactly-once guarantees make the re-run safe).
   */
  leaseMs: number;
}

export type TakeKeyResult =
  /** This request holds the key: execute, then `completeKey` or `releaseKey` with the token. */
  | { kind: 'execute'; keyId: string; lockToken: string }
  /** The key's first request finished: its stored answer. */
  | { kind: 'replay'; response: unknown; httpStatus: number }
  /** Another request holds the key now; `retryAfterMs` until its lease would run out. */
  | { kind: 'in_use'; leaseLeftMs: number }
  /** The key was used with another procedure or another input. */
  | { kind: 'mismatch'; procedure: string };

/**
 * The statement of every fresh key (a pay, a refund, ... through the typed client, which sends a key
 * with each mutation): built once per database handle, since building it with drizzle cost more CPU
 * than the pay's own statements (the README's profile of the HTTP path).
 */
const takeStatement = preparedStatement('co_take_key', (db) => {
  const k = idempotencyKeys;
  const lease = sql`now() - ${sql.placeholder('leaseMs')} * interval '1 millisecond'`;
  return db
    .insert(k)
    .values({
      principalKind: sql.placeholder('kind'),
      principalId: sql.placeholder('id'),
      key: sql.placeholder('key'),
      procedure: sql.placeholder('procedure'),
      fingerprint: sql.placeholder('fingerprint'),
      lockedAt: sql`now()`,
      lockToken: sql`gen_random_uuid()`,
    })
    .onConflictDoUpdate({
      target: [k.principalKind, k.principalId, k.key],
      set: { lockedAt: sql`now()`, lockToken: sql`gen_random_uuid()` },
      setWhere: and(
        eq(k.state, 'in_flight'),
        eq(k.procedure, sql.placeholder('procedure')),
        eq(k.fingerprint, sql.placeholder('fingerprint')),
        or(isNull(k.lockedAt), lt(k.lockedAt, lease)),
      ),
    })
    .returning({ id: k.id, lockToken: k.lockToken });
});

/**
 * Takes `key` for this request when it is new, or when nobody holds it (its last holder released
 * it or died) and it was used for the same procedure and input. Otherwise says why not. A fresh key
 * costs one statement; a replay two.
 */
export async function takeKey(db: Executor, params: TakeKeyParams): Promise<TakeKeyResult> {
  const k = idempotencyKeys;
  const lease = sql`now() - ${params.leaseMs} * interval '1 millisecond'`;
  // A row that vanishes (reaped) or frees up between the two statements is taken on the next turn.
  for (let turn = 0; turn < 3; turn++) {
    const [taken] = await takeStatement(db).execute({
      kind: params.owner.kind,
      id: params.owner.id,
      key: params.key,
      procedure: params.procedure,
      fingerprint: params.fingerprint,
      leaseMs: params.leaseMs,
    });
    if (taken?.lockToken) return { kind: 'execute', keyId: taken.id, lockToken: taken.lockToken };

    const [row] = await db
      .select({
        procedure: k.procedure,
        fingerprint: k.fingerprint,
        state: k.state,
        response: k.response,
        httpStatus: k.httpStatus,
        // `lease` in parentheses: `locked_at - now() - lease` would subtract the lease instead.
        leaseLeftMs: sql<number | null>`(extract(epoch from (${k.lockedAt} - (${lease}))) * 1000)::int`,
      })
      .from(k)
      .where(
        and(
          eq(k.principalKind, params.owner.kind),
          eq(k.principalId, params.owner.id),
          eq(k.key, params.key),
        ),
      );
    if (!row) continue;
    if (row.procedure !== params.procedure || row.fingerprint !== params.fingerprint) {
      return { kind: 'mismatch', procedure: row.procedure };
    }
    if (row.state === 'completed' && row.httpStatus !== null) {
      return { kind: 'replay', response: row.response, httpStatus: row.httpStatus };
    }
    if (row.leaseLeftMs !== null && row.leaseLeftMs > 0)
      return { kind: 'in_use', leaseLeftMs: row.leaseLeftMs };
  }
  return { kind: 'in_use', leaseLeftMs: 0 };
}

/** The key's row, while `held` still holds it (its lock token is the one this request drew). */
const heldBy = (held: { keyId: string | Placeholder; lockToken: string | Placeholder }) =>
  and(
    eq(idempotencyKeys.id, held.keyId),
    eq(idempotencyKeys.lockToken, held.lockToken),
    eq(idempotencyKeys.state, 'in_flight'),
  );

/** Built once per database handle, as `takeStatement` is: the other statement of every fresh key. */
const completeStatement = preparedStatement('co_complete_key', (db) =>
  db
    .update(idempotencyKeys)
    .set({
      state: 'completed',
      response: sql.placeholder('response'),
      httpStatus: sql`${sql.placeholder('httpStatus')}::int`,
      completedAt: sql`now()`,
      lockedAt: null,
      lockToken: null,
    })
    .where(heldBy({ keyId: sql.placeholder('keyId'), lockToken: sql.placeholder('lockToken') }))
    .returning({ id: idempotencyKeys.id }),
);

/**
 * Stores the final answer of the request holding the key. False when it no longer held it (its
 * lease ran out and another request took the key): that request's answer is the one kept.
 */
export async function completeKey(
  db: Executor,
  held: { keyId: string; lockToken: string },
  answer: { response: unknown; httpStatus: number },
): Promise<boolean> {
  const rows = await completeStatement(db).execute({
    response: answer.response,
    httpStatus: answer.httpStatus,
    keyId: held.keyId,
    lockToken: held.lockToken,
  });
  return rows.length === 1;
}

/**
 * Lets go of a key without storing an answer (the answer was not final, such as pay's
 * `processing`, or the request failed before it could know): the next request with it executes.
 */
export async function releaseKey(db: Executor, held: { keyId: string; lockToken: string }): Promise<boolean> {
  const k = idempotencyKeys;
  const rows = await db
    .update(k)
    .set({ lockedAt: null, lockToken: null })
    .where(heldBy(held))
    .returning({ id: k.id });
  return rows.length === 1;
}

/**
 * Deletes a key whose request was refused before it changed anything (the caller's rights or input,
 * checked inside the procedure): as with a validation failure, nothing is stored, and a corrected
 * request with the same key executes.
 */
export async function forgetKey(db: Executor, held: { keyId: string; lockToken: string }): Promise<boolean> {
  const k = idempotencyKeys;
  const rows = await db.delete(k).where(heldBy(held)).returning({ id: k.id });
  return rows.length === 1;
}

/** Keys must be kept at least this long (Stripe keeps them 24 hours). */
export const MIN_IDEMPOTENCY_RETENTION_MS = 24 * 60 * 60 * 1000;

/**
 * Deletes up to `limit` keys created more than `retentionMs` ago that nobody holds (or whose
 * holder's lease ran out), except the keys of refunds still pending: their answer was `pending`,
 * so a retry with the key must find that refund, not make another. Returns how many it deleted;
 * call again while it returns `limit`.
 */
export async function reapKeys(
  db: Executor,
  params: { retentionMs: number; leaseMs: number; limit: number },
): Promise<number> {
  const rows = await db.execute<{ id: string }>(sql`
    delete from idempotency_keys where id in (
      select id from idempotency_keys
      where created_at < now() - ${params.retentionMs} * interval '1 millisecond'
        and (locked_at is null or locked_at < now() - ${params.leaseMs} * interval '1 millisecond')
        and not exists (select 1 from ${refunds} r
                         where r.idempotency_key_id = idempotency_keys.id
                           and ${statusIn(sql.raw('r.status'), IN_FLIGHT_REFUND_STATUSES)})
      limit ${params.limit}
      for update skip locked)
    returning id`);
  return rows.length;
}
