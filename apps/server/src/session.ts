import { randomBytes, timingSafeEqual } from 'node:crypto';
import { type Authenticator, bearerToken } from '@chargeonce/api';
import { type Database, findToken, issueToken, revokeToken, type TokenRecord } from '@chargeonce/db';
import fastifyCookie from '@fastify/cookie';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuthFailureLimiter } from './auth-limit';

/** The web client's credential: httpOnly, so no script on the page can read it. */
export const SESSION_COOKIE = 'co_session';
/** Script-readable on purpose: the page copies it into `x-csrf-token` (double submit). */
export const CSRF_COOKIE = 'co_csrf';
export const CSRF_HEADER = 'x-csrf-token';
export const SESSION_LABEL = 'web session';
export const DEFAULT_SESSION_TTL_MS = 12 * 60 * 60 * 1000;
/** `{"token":"co_..."}` is ~40 bytes; nothing a sign-in needs comes near this. */
const MAX_BODY_BYTES = 1024;
const MAX_TOKEN_CHARS = 256;
const LOGOUT_PATH = '/session/logout';
const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export interface SessionOptions {
  /** How long a web session lasts: the session token's expiry and both cookies' Max-Age. */
  ttlMs?: number;
}

export interface SessionDeps extends SessionOptions {
  db: Database;
  auth: Authenticator;
  /** A refused sign-in counts against its source like any refused token. */
  authFailures?: AuthFailureLimiter;
  /** Where tRPC is mounted: unsafe requests under it authenticated by the cookie need the CSRF header. */
  apiPrefix: string;
  now?: () => number;
}

/**
 * The token a request authenticates with: its `Authorization` header when it has one (internal
 * services; a malformed header is no token, never a fall back to the cookie), else the session
 * cookie. The CSRF check below uses the same rule, so a request the cookie authenticates is always
 * one the check saw.
 */
export function requestToken(req: FastifyRequest): string | null {
  if (req.headers.authorization !== undefined) return bearerToken(req.headers.authorization);
  return req.cookies[SESSION_COOKIE] || null;
}

/**
 * Web sessions: `POST /session` exchanges a user's API token for a new session token held in an
 * httpOnly, SameSite=Strict cookie (plus a script-readable CSRF cookie); `POST /session/logout`
 * revokes it. Unsafe requests authenticated by the cookie must echo the CSRF cookie in
 * `x-csrf-token`, checked before anything else runs. Registered on the root instance so the check
 * covers the tRPC routes; call it before registering them.
 */
export async function registerSessions(app: FastifyInstance, deps: SessionDeps): Promise<void> {
  await app.register(fastifyCookie);
  app.addHook('onRequest', async (req, reply) => {
    if (csrfRequired(req, deps.apiPrefix) && !csrfMatches(req)) {
      return refuse(reply, 403, `Missing or wrong ${CSRF_HEADER} header.`);
    }
  });
  await app.register(sessionRoutes, deps);
}

function csrfRequired(req: FastifyRequest, apiPrefix: string): boolean {
  if (SAFE_METHODS.has(req.method) || !req.cookies[SESSION_COOKIE]) return false;
  // Matched by route, not by the raw URL: `/%74rpc/...` routes to tRPC too.
  const route = req.routeOptions.url;
  // Logout revokes what the cookie names, whatever else the request carries.
  if (route === LOGOUT_PATH) return true;
  return route?.startsWith(`${apiPrefix}/`) === true && req.headers.authorization === undefined;
}

function csrfMatches(req: FastifyRequest): boolean {
  const header = req.headers[CSRF_HEADER];
  const cookie = req.cookies[CSRF_COOKIE];
  if (typeof header !== 'string' || !header || !cookie) return false;
  const a = Buffer.from(header);
  const b = Buffer.from(cookie);
  return a.length === b.length && timingSafeEqual(a, b);
}

const signInBody = z.object({ token: z.string().min(1).max(MAX_TOKEN_CHARS) });
const SEND_JSON = 'Send the token as JSON: {"token": "..."}.';

async function sessionRoutes(app: FastifyInstance, deps: SessionDeps): Promise<void> {
  const ttlMs = deps.ttlMs ?? DEFAULT_SESSION_TTL_MS;
  const now = deps.now ?? Date.now;

  // Brief answers that never echo the body (a JSON parse error would quote the token).
  app.setErrorHandler((err: FastifyError, req, reply) => {
    const status = err.statusCode ?? 500;
    if (status === 413) return refuse(reply, 413, 'Request body too large.');
    if (status === 415 || (status === 400 && err.code?.startsWith('FST_ERR_CTP'))) {
      return refuse(reply, status, SEND_JSON);
    }
    if (status < 500) return refuse(reply, status, 'Bad request.');
    req.log.error({ err }, 'session request failed');
    return refuse(reply, 500, 'Internal server error');
  });

  app.post('/session', { bodyLimit: MAX_BODY_BYTES }, async (req, reply) => {
    reply.header('cache-control', 'no-store');
    // JSON only: a cross-site form can send text/plain without a preflight, never JSON.
    const type = req.headers['content-type']?.toLowerCase() ?? '';
    if (!type.startsWith('application/json')) return refuse(reply, 415, SEND_JSON);
    const body = signInBody.safeParse(req.body);
    if (!body.success) return refuse(reply, 400, SEND_JSON);
    // Read fresh, not through the authenticator's cache: a token revoked a moment ago never signs in.
    const record = await findToken(deps.db, body.data.token);
    if (!isLive(record, now())) {
      deps.authFailures?.fail(req);
      return refuse(reply, 401, 'Unknown, expired or revoked token.');
    }
    if (record.kind !== 'user' || !record.userId) {
      return refuse(reply, 403, 'Only a user token can sign in to the web client.');
    }
    if (record.parentTokenId) return refuse(reply, 403, 'A web session cannot open another one.');
    // The session lives only while the token it was opened with does: never past its expiry, and
    // revoking that token ends its sessions (findToken reads the parent with the session).
    const startedAt = now();
    const expiresAt = Math.min(startedAt + ttlMs, record.expiresAt?.getTime() ?? Number.POSITIVE_INFINITY);
    const session = await issueToken(deps.db, {
      owner: { kind: 'user', userId: record.userId },
      label: SESSION_LABEL,
      expiresAt: new Date(expiresAt),
      parentTokenId: record.tokenId,
    });
    // This browser gives up the session it held (if any): it is never sent again, so end it now.
    const previous = req.cookies[SESSION_COOKIE];
    if (previous) await endSession(deps, previous);
    setSessionCookies(req, reply, session.token, expiresAt - startedAt);
    return { userId: record.userId };
  });

  // Idempotent: a session already ended is still 204. The cookies are cleared only for a request
  // that sent the session cookie (so it passed the CSRF check): a cross-site form, which the
  // browser sends without it, must not be able to sign the browser out either.
  app.post(LOGOUT_PATH, { bodyLimit: MAX_BODY_BYTES }, async (req, reply) => {
    const token = req.cookies[SESSION_COOKIE];
    if (token) {
      await endSession(deps, token);
      clearSessionCookies(req, reply);
    }
    return reply.code(204).header('cache-control', 'no-store').send();
  });
}

function isLive(record: TokenRecord | undefined, nowMs: number): record is TokenRecord {
  return !!record && !record.revokedAt && (!record.expiresAt || record.expiresAt.getTime() > nowMs);
}

/**
 * Revokes the session token, then drops it from this instance's authenticator cache so it stops
 * here at once; other instances stop within their cache bound (AUTH_CACHE_TTL_MS). Safe to call
 * twice: `revokeToken` only touches a token not yet revoked.
 */
async function endSession(deps: SessionDeps, token: string): Promise<void> {
  const record = await findToken(deps.db, token);
  if (record?.kind === 'user') await revokeToken(deps.db, record.tokenId);
  deps.auth.forget(token);
}

const LOOPBACK_HOST = /^(localhost|127(?:\.\d{1,3}){3}|\[::1\])(?::\d{1,5})?$/i;

function cookieBase(req: FastifyRequest) {
  // Secure unless this is plain http on this machine (local use, where a Secure cookie would be
  // dropped): behind a TLS terminator req.protocol says http (unless TRUST_PROXY lets fastify read
  // X-Forwarded-Proto), and the cookie must still never travel in the clear.
  const local = req.protocol === 'http' && LOOPBACK_HOST.test(req.headers.host ?? '');
  return { path: '/', sameSite: 'strict' as const, secure: !local };
}

function setSessionCookies(req: FastifyRequest, reply: FastifyReply, token: string, ttlMs: number): void {
  const maxAge = Math.floor(ttlMs / 1000);
  reply.setCookie(SESSION_COOKIE, token, { ...cookieBase(req), httpOnly: true, maxAge });
  reply.setCookie(CSRF_COOKIE, randomBytes(32).toString('base64url'), { ...cookieBase(req), maxAge });
}

function clearSessionCookies(req: FastifyRequest, reply: FastifyReply): void {
  reply.clearCookie(SESSION_COOKIE, { ...cookieBase(req), httpOnly: true });
  reply.clearCookie(CSRF_COOKIE, cookieBase(req));
}

function refuse(reply: FastifyReply, status: number, message: string): FastifyReply {
  return reply.code(status).send({ error: { message } });
}
