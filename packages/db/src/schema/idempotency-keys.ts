import { sql } from 'drizzle-orm';
import {
  check,
  index,
  integer,
  jsonb,
  pgEnum,
  pgTable,
  text,
  timestamp,
  unique,
  uuid,
} from 'drizzle-orm/pg-core';
import { principalKind } from './users';

/** `in_flight`: taken by a request (or free to take again once `locked_at` is cleared or stale). */
export const idempotencyKeyState = pgEnum('idempotency_key_state', ['in_flight', 'completed']);

/**
 * Caller idempotency keys: the first request with a key executes and its final answer is kept and
 * replayed to every later request with the same key from the same principal. A key is scoped to
 * its principal (a user or a service), so two callers can never collide or read each other's.
 */
export const idempotencyKeys = pgTable(
  'idempotency_keys',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    principalKind: principalKind('principal_kind').notNull(),
    /** The user's or the service's id. */
    principalId: uuid('principal_id').notNull(),
    key: text('key').notNull(),
    /** The procedure the key was first used with (`orders.create`). */
    procedure: text('procedure').notNull(),
    /** SHA-256 of the canonical (parsed) input, without the key. */
    fingerprint: text('fingerprint').notNull(),
    state: idempotencyKeyState('state').notNull().default('in_flight'),
    /** The stored answer: `{ data }` or `{ error }` (the domain error), and its HTTP status. */
    response: jsonb('response'),
    httpStatus: integer('http_status'),
    /** When the request executing under the key took it; null: nobody holds it. */
    lockedAt: timestamp('locked_at', { withTimezone: true }),
    /** Drawn afresh by every take: only the request holding the key can complete or release it. */
    lockToken: uuid('lock_token'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    completedAt: timestamp('completed_at', { withTimezone: true }),
  },
  (t) => [
    unique('idempotency_keys_principal_key_uq').on(t.principalKind, t.principalId, t.key),
    check('idempotency_keys_key_format', sql`${t.key} ~ '^[\\x20-\\x7E]{1,255}$'`),
    check(
      'idempotency_keys_completed_has_response',
      sql`${t.state} <> 'completed' or (${t.response} is not null and ${t.httpStatus} is not null)`,
    ),
    // The reaper removes keys by age.
    index('idempotency_keys_created_idx').on(t.createdAt),
  ],
);
