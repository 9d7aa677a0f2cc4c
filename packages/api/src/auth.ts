import { type Database, findUserByToken, hashToken } from '@chargeonce/db';

export interface AuthUser {
  id: string;
  name: string;
}

export interface Authenticator {
  authenticate(token: string): Promise<AuthUser | undefined>;
}

/**
 * Resolves bearer tokens to users, caching hits for `ttlMs` so that a pay costs no extra database
 * round trip for auth. A revoked token keeps working for at most `ttlMs`.
 */
export function createTokenAuthenticator(
  db: Database,
  options: { ttlMs?: number; maxEntries?: number } = {},
): Authenticator {
  const ttlMs = options.ttlMs ?? 30_000;
  const maxEntries = options.maxEntries ?? 10_000;
  const cache = new Map<string, { user: AuthUser; expiresAt: number }>();
  return {
    async authenticate(token) {
      const key = hashToken(token);
      const hit = cache.get(key);
      if (hit && hit.expiresAt > Date.now()) return hit.user;
      const user = await findUserByToken(db, token);
      if (!user) {
        cache.delete(key);
        return undefined;
      }
      if (cache.size >= maxEntries) cache.clear();
      cache.set(key, { user, expiresAt: Date.now() + ttlMs });
      return user;
    },
  };
}

/** The token of an `Authorization: Bearer <token>` header, or null. */
export function bearerToken(header: string | undefined): string | null {
  if (!header) return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  return match?.[1] ?? null;
}
