import {
  type Database,
  findToken,
  hashToken,
  isOperatorScope,
  isScope,
  type Scope,
  USER_SCOPES,
} from '@chargeonce/db';

/** Who a request speaks for, from its bearer token. Every principal has a kind and its scopes. */
export type Principal =
  | { kind: 'user'; tokenId: string; userId: string; scopes: readonly Scope[] }
  | { kind: 'service'; tokenId: string; serviceId: string; service: string; scopes: readonly Scope[] };

export interface Authenticator {
  authenticate(token: string): Promise<Principal | undefined>;
  /** Forgets a token on this instance at once (sign-out); other instances within `ttlMs`. */
  forget(token: string): void;
}

/**
 * How long an instance trusts a token it has checked: a revoked token stops working on every
 * instance within this bound. Short, because the lookup it saves is one primary-key read.
 */
export const AUTH_CACHE_TTL_MS = 5_000;

/**
 * Resolves bearer tokens to principals, caching live ones for `ttlMs` so a burst of calls costs one
 * lookup. Expiry is checked on every use; an unknown, revoked or expired token is never cached and
 * costs exactly one indexed query.
 */
export function createTokenAuthenticator(
  db: Database,
  options: {
    ttlMs?: number;
    maxEntries?: number;
    now?: () => number;
    /** What user tokens may do (default `USER_SCOPES`; see `userScopes`). */
    userScopes?: readonly Scope[];
  } = {},
): Authenticator {
  const forUsers = options.userScopes ?? USER_SCOPES;
  const ttlMs = options.ttlMs ?? AUTH_CACHE_TTL_MS;
  const maxEntries = options.maxEntries ?? 10_000;
  const now = options.now ?? Date.now;
  const cache = new Map<string, { principal: Principal; expiresAt: number; tokenExpiresAt: number }>();
  return {
    async authenticate(token) {
      const key = hashToken(token);
      const hit = cache.get(key);
      if (hit && hit.expiresAt > now() && hit.tokenExpiresAt > now()) return hit.principal;
      cache.delete(key);
      const record = await findToken(db, token);
      const tokenExpiresAt = record?.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY;
      if (!record || record.revokedAt || tokenExpiresAt <= now()) return undefined;
      const principal = toPrincipal(record, forUsers);
      if (!principal) return undefined;
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, { principal, expiresAt: now() + ttlMs, tokenExpiresAt });
      return principal;
    },
    forget(token) {
      cache.delete(hashToken(token));
    },
  };
}

function toPrincipal(
  record: NonNullable<Awaited<ReturnType<typeof findToken>>>,
  userScopes: readonly Scope[],
): Principal | undefined {
  if (record.kind === 'user' && record.userId) {
    // An operator is a user the admin CLI granted operator scopes; only those come from the row.
    const operator = (record.operatorScopes ?? []).filter(isOperatorScope);
    const scopes = operator.length ? [...userScopes, ...operator] : userScopes;
    return { kind: 'user', tokenId: record.tokenId, userId: record.userId, scopes };
  }
  if (record.kind === 'service' && record.serviceId && record.serviceName) {
    return {
      kind: 'service',
      tokenId: record.tokenId,
      serviceId: record.serviceId,
      service: record.serviceName,
      // A scope this build does not know (issued by a newer one) grants nothing here.
      scopes: record.scopes.filter(isScope),
    };
  }
  return undefined;
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
