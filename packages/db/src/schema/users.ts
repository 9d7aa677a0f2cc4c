import { sql } from 'drizzle-orm';
import { type AnyPgColumn, check, index, pgEnum, pgTable, text, timestamp, uuid } from 'drizzle-orm/pg-core';

/**
 * What an operator may do beyond a customer: see what is stuck, recover, reconcile. Granted to a
 * user only by the admin CLI (`users grant-operator`), or carried by a service token.
 */
export const OPERATOR_SCOPES = ['operations:read', 'operations:write'] as const;

/** Customers: the owners of orders. */
export const users = pgTable(
  'users',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull(),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    /**
     * Operator scopes granted to this user (every token and web session of theirs carries them);
     * empty for a customer. The check keeps any other scope out: a user's order scopes are implied.
     */
    operatorScopes: text('operator_scopes').array().notNull().default(sql`'{}'::text[]`),
  },
  (t) => [
    check(
      'users_operator_scopes',
      sql`${t.operatorScopes} <@ ${sql.raw(`array[${OPERATOR_SCOPES.map((s) => `'${s}'`).join(', ')}]::text[]`)}`,
    ),
  ],
);

/** Internal services that call chargeonce on customers' behalf, within the scopes of their tokens. */
export const services = pgTable(
  'services',
  {
    id: uuid('id').primaryKey().defaultRandom(),
    name: text('name').notNull().unique('services_name_uq'),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [check('services_name_format', sql`${t.name} ~ '^[a-z0-9][a-z0-9_.-]{0,62}$'`)],
);

/** Who a token speaks for. */
export const principalKind = pgEnum('principal_kind', ['user', 'service']);
export type PrincipalKind = (typeof principalKind.enumValues)[number];

/**
 * Bearer tokens. Only a SHA-256 of the token is stored: a database dump does not hand out working
 * credentials. A user token acts for its user; a service token for its service, within `scopes`.
 * `id` names a token in listings and revocations (the token itself is shown once, at creation).
 */
export const apiTokens = pgTable(
  'api_tokens',
  {
    tokenHash: text('token_hash').primaryKey(),
    id: uuid('id').notNull().defaultRandom().unique('api_tokens_id_uq'),
    principalKind: principalKind('principal_kind').notNull().default('user'),
    userId: uuid('user_id').references(() => users.id, { onDelete: 'cascade' }),
    serviceId: uuid('service_id').references(() => services.id, { onDelete: 'cascade' }),
    scopes: text('scopes').array().notNull().default(sql`'{}'::text[]`),
    label: text('label').notNull().default(''),
    createdAt: timestamp('created_at', { withTimezone: true }).notNull().defaultNow(),
    expiresAt: timestamp('expires_at', { withTimezone: true }),
    revokedAt: timestamp('revoked_at', { withTimezone: true }),
    /**
     * A web session's token points at the token it was opened with: it lives only while that one
     * does (revoking or expiring the parent ends its sessions), and it cannot open sessions itself.
     */
    parentTokenId: uuid('parent_token_id').references((): AnyPgColumn => apiTokens.id, {
      onDelete: 'cascade',
    }),
  },
  (t) => [
    index('api_tokens_user_id_idx').on(t.userId),
    index('api_tokens_service_id_idx').on(t.serviceId),
    index('api_tokens_parent_token_id_idx').on(t.parentTokenId),
    // A token speaks for exactly one principal of its kind; only service tokens carry scopes.
    check(
      'api_tokens_principal',
      sql`(${t.principalKind} = 'user' and ${t.userId} is not null and ${t.serviceId} is null and cardinality(${t.scopes}) = 0)
       or (${t.principalKind} = 'service' and ${t.serviceId} is not null and ${t.userId} is null)`,
    ),
  ],
);
