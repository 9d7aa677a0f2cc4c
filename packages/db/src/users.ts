import { createHash, randomBytes } from 'node:crypto';
import { and, asc, eq, isNull, sql } from 'drizzle-orm';
import { alias } from 'drizzle-orm/pg-core';
import type { Executor } from './client';
import { apiTokens, OPERATOR_SCOPES, type PrincipalKind, services, users } from './schema';

/**
 * What a token may do. A service token carries the scopes it was issued with; a user token acts
 * on its own user's orders with `USER_SCOPES` (refunding its own orders included, unless the
 * deployment turns that off; captures are back-office actions: no user token has them), plus the
 * operator scopes the admin CLI granted its user (none for a customer).
 */
export const SCOPES = [
  'orders:read',
  'orders:write',
  'orders:pay',
  'orders:refund',
  'orders:capture',
  ...OPERATOR_SCOPES,
] as const;
export type Scope = (typeof SCOPES)[number];
export const USER_SCOPES: readonly Scope[] = ['orders:read', 'orders:write', 'orders:pay', 'orders:refund'];
/**
 * What a user token may do on its own orders. Customers refund their own paid orders by default;
 * a deployment where only back-office services refund turns that off (`customerRefunds: false`).
 */
export function userScopes(options: { customerRefunds: boolean }): readonly Scope[] {
  return options.customerRefunds ? USER_SCOPES : USER_SCOPES.filter((s) => s !== 'orders:refund');
}
export const isScope = (s: string): s is Scope => (SCOPES as readonly string[]).includes(s);
export type OperatorScope = (typeof OPERATOR_SCOPES)[number];
export const isOperatorScope = (s: string): s is OperatorScope =>
  (OPERATOR_SCOPES as readonly string[]).includes(s);

/** Tokens are opaque random strings; only their SHA-256 is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return `co_${randomBytes(24).toString('base64url')}`;
}

export type TokenOwner = { kind: 'user'; userId: string } | { kind: 'service'; serviceId: string };

export interface IssuedToken {
  id: string;
  /** The bearer token itself: shown once, never stored. */
  token: string;
  kind: PrincipalKind;
  scopes: Scope[];
  expiresAt: Date | null;
}

/** Issues a token for a user or a service. `token` may be given (e.g. a persisted demo token). */
export async function issueToken(
  db: Executor,
  params: {
    owner: TokenOwner;
    scopes?: readonly Scope[];
    label?: string;
    expiresAt?: Date | null;
    token?: string;
    /** A web session's: the token it was opened with (it lives only while that one does). */
    parentTokenId?: string;
  },
): Promise<IssuedToken> {
  const token = params.token ?? generateToken();
  const scopes = params.owner.kind === 'service' ? [...new Set(params.scopes ?? [])] : [];
  const [row] = await db
    .insert(apiTokens)
    .values({
      tokenHash: hashToken(token),
      principalKind: params.owner.kind,
      userId: params.owner.kind === 'user' ? params.owner.userId : null,
      serviceId: params.owner.kind === 'service' ? params.owner.serviceId : null,
      scopes,
      label: params.label ?? '',
      expiresAt: params.expiresAt ?? null,
      parentTokenId: params.parentTokenId ?? null,
    })
    .returning({ id: apiTokens.id, expiresAt: apiTokens.expiresAt });
  if (!row) throw new Error('token insert returned no row');
  return { id: row.id, token, kind: params.owner.kind, scopes, expiresAt: row.expiresAt };
}

export async function createUser(db: Executor, params: { name: string }) {
  const [user] = await db.insert(users).values({ name: params.name }).returning();
  if (!user) throw new Error('user insert returned no row');
  return user;
}

export async function createService(db: Executor, params: { name: string }) {
  const [service] = await db.insert(services).values({ name: params.name }).returning();
  if (!service) throw new Error('service insert returned no row');
  return service;
}

export interface CreatedUser {
  id: string;
  name: string;
  token: string;
}

/** Creates a user and one token for it (tests, the demo user). */
export async function createUserWithToken(
  db: Executor,
  params: { name: string; token?: string; label?: string },
): Promise<CreatedUser> {
  const user = await createUser(db, params);
  const issued = await issueToken(db, {
    owner: { kind: 'user', userId: user.id },
    label: params.label ?? '',
    ...(params.token ? { token: params.token } : {}),
  });
  return { id: user.id, name: user.name, token: issued.token };
}

/**
 * What a presented token speaks for, whatever its state (the caller judges expiry and revocation).
 * A session's expiry and revocation are its own or its parent token's, whichever comes first.
 */
export interface TokenRecord {
  tokenId: string;
  /** Set for a web session: the token it was opened with. */
  parentTokenId: string | null;
  kind: PrincipalKind;
  userId: string | null;
  serviceId: string | null;
  serviceName: string | null;
  scopes: string[];
  /** A user token's: the operator scopes its user was granted (null for a service token). */
  operatorScopes: string[] | null;
  expiresAt: Date | null;
  revokedAt: Date | null;
}

const parent = alias(apiTokens, 'parent_token');

/**
 * One statement of primary-key reads (the token's hash, its service or user, its parent), known
 * token or not.
 */
export async function findToken(db: Executor, token: string): Promise<TokenRecord | undefined> {
  const [row] = await db
    .select({
      tokenId: apiTokens.id,
      parentTokenId: apiTokens.parentTokenId,
      kind: apiTokens.principalKind,
      userId: apiTokens.userId,
      serviceId: apiTokens.serviceId,
      serviceName: services.name,
      scopes: apiTokens.scopes,
      operatorScopes: users.operatorScopes,
      // least() and coalesce() skip nulls: no parent, or a parent that never expires, changes nothing.
      expiresAt: sql<Date | null>`least(${apiTokens.expiresAt}, ${parent.expiresAt})`.mapWith(
        apiTokens.expiresAt,
      ),
      revokedAt: sql<Date | null>`coalesce(${apiTokens.revokedAt}, ${parent.revokedAt})`.mapWith(
        apiTokens.revokedAt,
      ),
    })
    .from(apiTokens)
    .leftJoin(services, eq(services.id, apiTokens.serviceId))
    .leftJoin(users, eq(users.id, apiTokens.userId))
    .leftJoin(parent, eq(parent.id, apiTokens.parentTokenId))
    .where(eq(apiTokens.tokenHash, hashToken(token)))
    .limit(1);
  return row;
}

/** The user a live user token belongs to (the demo seed checks its persisted token with this). */
export async function findUserByToken(db: Executor, token: string): Promise<{ id: string } | undefined> {
  const record = await findToken(db, token);
  const live = record && !record.revokedAt && (!record.expiresAt || record.expiresAt > new Date());
  return live && record.kind === 'user' && record.userId ? { id: record.userId } : undefined;
}

/** Revokes a token by id; false when there is no such token or it was revoked already. */
export async function revokeToken(db: Executor, tokenId: string): Promise<boolean> {
  const revoked = await db
    .update(apiTokens)
    .set({ revokedAt: sql`now()` })
    .where(and(eq(apiTokens.id, tokenId), isNull(apiTokens.revokedAt)))
    .returning({ id: apiTokens.id });
  return revoked.length > 0;
}

/** Every token (never its value), oldest first, with the principal it speaks for. */
export async function listTokens(db: Executor, filter: { userId?: string; serviceId?: string } = {}) {
  return db
    .select({
      id: apiTokens.id,
      kind: apiTokens.principalKind,
      userId: apiTokens.userId,
      service: services.name,
      scopes: apiTokens.scopes,
      /** A user token's: its user's operator scopes. */
      operatorScopes: users.operatorScopes,
      label: apiTokens.label,
      createdAt: apiTokens.createdAt,
      expiresAt: apiTokens.expiresAt,
      revokedAt: apiTokens.revokedAt,
    })
    .from(apiTokens)
    .leftJoin(services, eq(services.id, apiTokens.serviceId))
    .leftJoin(users, eq(users.id, apiTokens.userId))
    .where(
      and(
        filter.userId ? eq(apiTokens.userId, filter.userId) : undefined,
        filter.serviceId ? eq(apiTokens.serviceId, filter.serviceId) : undefined,
      ),
    )
    .orderBy(asc(apiTokens.createdAt));
}

export async function listUsers(db: Executor) {
  return db.select().from(users).orderBy(asc(users.createdAt));
}

export async function findService(db: Executor, name: string) {
  const [service] = await db.select().from(services).where(eq(services.name, name));
  return service;
}

/**
 * Sets the operator scopes of a user (replacing what it had; `[]` takes them away). Every token and
 * web session of the user carries them within the authenticator's cache bound. False: no such user.
 */
export async function setOperatorScopes(
  db: Executor,
  userId: string,
  scopes: readonly OperatorScope[],
): Promise<boolean> {
  const updated = await db
    .update(users)
    .set({ operatorScopes: [...new Set(scopes)] })
    .where(eq(users.id, userId))
    .returning({ id: users.id });
  return updated.length > 0;
}

export async function findUser(db: Executor, id: string) {
  const [user] = await db.select().from(users).where(eq(users.id, id));
  return user;
}
