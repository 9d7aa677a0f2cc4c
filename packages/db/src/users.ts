import { createHash, randomBytes } from 'node:crypto';
import { eq } from 'drizzle-orm';
import type { Executor } from './client';
import { apiTokens, users } from './schema';

/** Tokens are opaque random strings; only their SHA-256 is stored. */
export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function generateToken(): string {
  return `co_${randomBytes(24).toString('base64url')}`;
}

export interface CreatedUser {
  id: string;
  name: string;
  token: string;
}

/** Creates a user and one API token for it. `token` may be given (e.g. a persisted demo token). */
export async function createUserWithToken(
  db: Executor,
  params: { name: string; token?: string; label?: string },
): Promise<CreatedUser> {
  const token = params.token ?? generateToken();
  const [user] = await db.insert(users).values({ name: params.name }).returning();
  if (!user) throw new Error('user insert returned no row');
  await db
    .insert(apiTokens)
    .values({ tokenHash: hashToken(token), userId: user.id, label: params.label ?? '' });
  return { id: user.id, name: user.name, token };
}

/** The user a bearer token belongs to, or undefined. */
export async function findUserByToken(
  db: Executor,
  token: string,
): Promise<{ id: string; name: string } | undefined> {
  const [row] = await db
    .select({ id: users.id, name: users.name })
    .from(apiTokens)
    .innerJoin(users, eq(users.id, apiTokens.userId))
    .where(eq(apiTokens.tokenHash, hashToken(token)))
    .limit(1);
  return row;
}
