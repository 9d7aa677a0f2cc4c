import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createTokenAuthenticator } from '@chargeonce/api';
import { createService, issueToken, listTokens, revokeToken } from '@chargeonce/db';
import Fastify, { type InjectOptions } from 'fastify';
import { describe, expect, it } from 'vitest';
import { registerSessions } from '../src/session';
import { postJsonOverHttps, selfSignedCert } from './https-support';
import { ORDER, useSessionServer } from './session-support';

const harness = useSessionServer();
const { call, newUser, setCookies, signIn, createOrder, listOrders, ordersOf, secrets, responses, logLines } =
  harness;

describe('POST /session', () => {
  it('exchanges a live user token for a new session token in an httpOnly, SameSite=Strict cookie', async () => {
    const user = await newUser();
    const res = await call({ method: 'POST', url: '/session', payload: { token: user.token } });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: user.id });
    expect(res.headers['cache-control']).toBe('no-store');

    const [session, csrf, ...more] = setCookies(res);
    expect(more).toEqual([]);
    expect(session).toMatchObject({
      name: 'co_session',
      attributes: ['HttpOnly', 'Max-Age=43200', 'Path=/', 'SameSite=Strict'],
    });
    expect(csrf).toMatchObject({
      name: 'co_csrf',
      attributes: ['Max-Age=43200', 'Path=/', 'SameSite=Strict'],
    });
    // 32 random bytes, base64url.
    expect(csrf!.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    secrets.add(session!.value);
    // A new token, not the one presented: signing out never revokes the user's API token.
    expect(session!.value).not.toBe(user.token);

    const tokens = await listTokens(harness.handle.db, { userId: user.id });
    const web = tokens.filter((t) => t.label === 'web session');
    expect(web).toHaveLength(1);
    const expiresInMs = web[0]!.expiresAt!.getTime() - Date.now();
    expect(expiresInMs).toBeGreaterThan(12 * 3600_000 - 60_000);
    expect(expiresInMs).toBeLessThanOrEqual(12 * 3600_000);
  });

  it('refuses a service token (403) and an unknown, revoked or expired token (401), setting no cookie', async () => {
    const service = await createService(harness.handle.db, { name: 'web-session-test' });
    const serviceToken = await issueToken(harness.handle.db, {
      owner: { kind: 'service', serviceId: service.id },
      scopes: ['orders:read', 'orders:write'],
    });
    const user = await newUser();
    const revoked = await issueToken(harness.handle.db, { owner: { kind: 'user', userId: user.id } });
    await revokeToken(harness.handle.db, revoked.id);
    const expired = await issueToken(harness.handle.db, {
      owner: { kind: 'user', userId: user.id },
      expiresAt: new Date(Date.now() - 1000),
    });
    for (const t of [serviceToken.token, revoked.token, expired.token]) secrets.add(t);

    const cases: [string, number][] = [
      [serviceToken.token, 403],
      ['co_unknown_token_value', 401],
      [revoked.token, 401],
      [expired.token, 401],
    ];
    for (const [token, status] of cases) {
      const res = await call({ method: 'POST', url: '/session', payload: { token } });
      expect(res.statusCode, token).toBe(status);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.json()).toEqual({ error: { message: expect.any(String) } });
      expect(res.body).not.toContain(token);
    }
  });

  it('answers a body that is not {"token": ...} briefly, never quoting it', async () => {
    const user = await newUser();
    const cases: [InjectOptions, number][] = [
      [{ headers: { 'content-type': 'text/plain' }, payload: user.token }, 415],
      [{ headers: { 'content-type': 'application/json' }, payload: `{"token": ${user.token}` }, 400],
      [{ headers: { 'content-type': 'application/json' }, payload: user.token }, 400],
      [{ payload: { tokens: user.token } }, 400],
      [{ payload: { token: user.token, padding: 'x'.repeat(2000) } }, 413],
    ];
    for (const [options, status] of cases) {
      const res = await call({ method: 'POST', url: '/session', ...options });
      expect(res.statusCode).toBe(status);
      expect(res.headers['set-cookie']).toBeUndefined();
      expect(res.json()).toEqual({ error: { message: expect.any(String) } });
      expect(res.body.length).toBeLessThan(120);
    }
  });

  it('signing in again ends the session this browser held', async () => {
    const user = await newUser();
    const first = await signIn(user.token);
    const second = await signIn(user.token, first.cookie);
    expect((await listOrders({ cookie: first.cookie })).statusCode).toBe(401);
    expect((await listOrders({ cookie: second.cookie })).statusCode).toBe(200);
  });
});

describe('requests authenticated by the session cookie', () => {
  it('queries need no CSRF header', async () => {
    const user = await newUser();
    const { cookie } = await signIn(user.token);
    const res = await listOrders({ cookie });
    expect(res.statusCode).toBe(200);
    const batch = await call({
      method: 'GET',
      url: `/trpc/orders.list,orders.list?batch=1&input=${encodeURIComponent('{"0":{},"1":{"limit":1}}')}`,
      headers: { cookie },
    });
    expect(batch.statusCode).toBe(200);
  });

  it('a mutation without, or with a wrong, x-csrf-token is 403 before it runs; the right one is 200', async () => {
    const user = await newUser();
    const { cookie, csrf } = await signIn(user.token);

    const without = await createOrder({ cookie });
    expect(without.statusCode).toBe(403);
    expect(without.json()).toEqual({ error: { message: 'Missing or wrong x-csrf-token header.' } });
    const wrongCsrf = csrf.slice(0, -1) + (csrf.endsWith('A') ? 'B' : 'A');
    const wrong = await createOrder({ cookie, 'x-csrf-token': wrongCsrf });
    expect(wrong.statusCode).toBe(403);
    const short = await createOrder({ cookie, 'x-csrf-token': csrf.slice(0, 10) });
    expect(short.statusCode).toBe(403);
    // The header must match the cookie of this request, not just be present.
    const noCookie = await createOrder({
      cookie: `co_session=${cookie.split(/[=;]/)[1]}`,
      'x-csrf-token': csrf,
    });
    expect(noCookie.statusCode).toBe(403);
    // An encoded path routes to tRPC as well; the check follows the route, not the raw URL.
    const encoded = await call({
      method: 'POST',
      url: '/%74rpc/orders.create',
      headers: { cookie },
      payload: ORDER,
    });
    expect(encoded.statusCode).toBe(403);
    expect(await ordersOf(user.id)).toBe(0);

    const right = await createOrder({ cookie, 'x-csrf-token': csrf });
    expect(right.statusCode).toBe(200);
    expect(await ordersOf(user.id)).toBe(1);
  });

  it('requests with an Authorization header are not affected, and never fall back to the cookie', async () => {
    const user = await newUser();
    const { cookie } = await signIn(user.token);
    const bearer = await createOrder({ authorization: `Bearer ${user.token}` });
    expect(bearer.statusCode).toBe(200);
    // A header that is no bearer token authenticates nothing, even with a session cookie next to it.
    expect((await listOrders({ authorization: 'Basic abc', cookie })).statusCode).toBe(401);
    expect((await createOrder({ authorization: 'Basic abc', cookie })).statusCode).toBe(401);
    expect(await ordersOf(user.id)).toBe(1);
  });

  it('without a session cookie a mutation is 401, as before', async () => {
    expect((await createOrder({})).statusCode).toBe(401);
  });
});

describe('POST /session/logout', () => {
  it('needs the CSRF header, revokes the session at once, clears both cookies, and is idempotent', async () => {
    const user = await newUser();
    const { cookie, csrf, session } = await signIn(user.token);
    // Cached by the authenticator: logout must still stop it at once on this instance.
    expect((await listOrders({ cookie })).statusCode).toBe(200);

    const forged = await call({ method: 'POST', url: '/session/logout', headers: { cookie } });
    expect(forged.statusCode).toBe(403);
    expect((await listOrders({ cookie })).statusCode).toBe(200);

    const res = await call({
      method: 'POST',
      url: '/session/logout',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(res.statusCode).toBe(204);
    const cleared = setCookies(res);
    expect(cleared.map((c) => [c.name, c.value])).toEqual([
      ['co_session', ''],
      ['co_csrf', ''],
    ]);
    for (const c of cleared) {
      expect(c.attributes).toEqual(expect.arrayContaining(['Max-Age=0', 'Path=/', 'SameSite=Strict']));
    }

    // The old cookie value is refused everywhere, as a cookie or as a bearer token.
    expect((await listOrders({ cookie })).statusCode).toBe(401);
    expect((await createOrder({ cookie, 'x-csrf-token': csrf })).statusCode).toBe(401);
    expect((await listOrders({ authorization: `Bearer ${session}` })).statusCode).toBe(401);
    const again = await call({
      method: 'POST',
      url: '/session/logout',
      headers: { cookie, 'x-csrf-token': csrf },
    });
    expect(again.statusCode).toBe(204);
    const noCookie = await call({ method: 'POST', url: '/session/logout' });
    expect(noCookie.statusCode).toBe(204);
    // Nothing to clear for a request without the cookie (a cross-site form is sent without it).
    expect(noCookie.headers['set-cookie']).toBeUndefined();

    const [web] = (await listTokens(harness.handle.db, { userId: user.id })).filter(
      (t) => t.label === 'web session',
    );
    expect(web?.revokedAt).toBeInstanceOf(Date);
    // The user's own API token is untouched.
    expect((await listOrders({ authorization: `Bearer ${user.token}` })).statusCode).toBe(200);
  });
});

describe('over https', () => {
  it('the cookies are Secure, and the session length is configurable', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'chargeonce-tls-'));
    const tls = selfSignedCert(dir);
    const server = Fastify({ https: { key: readFileSync(tls.key), cert: readFileSync(tls.cert) } });
    try {
      const db = harness.handle.db;
      await registerSessions(server, {
        db,
        auth: createTokenAuthenticator(db),
        apiPrefix: '/trpc',
        ttlMs: 60_000,
      });
      await server.listen({ port: 0, host: '127.0.0.1' });
      const user = await newUser();
      const { status, cookies } = await postJsonOverHttps(
        (server.server.address() as { port: number }).port,
        '/session',
        { token: user.token },
      );
      expect(status).toBe(200);
      const parsed = cookies.map((line) => line.split(';').map((p) => p.trim()));
      expect(parsed.map(([pair, ...attributes]) => [pair!.split('=')[0], attributes.sort()])).toEqual([
        ['co_session', ['HttpOnly', 'Max-Age=60', 'Path=/', 'SameSite=Strict', 'Secure']],
        ['co_csrf', ['Max-Age=60', 'Path=/', 'SameSite=Strict', 'Secure']],
      ]);
      for (const [pair] of parsed) secrets.add(pair!.split('=')[1]!);
    } finally {
      await server.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('secrecy', () => {
  it('no token value appears in any response or log line', () => {
    // Runs last (vitest keeps file order): every token the tests above used is in `secrets`.
    expect(secrets.size).toBeGreaterThan(10);
    expect(logLines.length).toBeGreaterThan(10);
    const logs = logLines.join('');
    const answers = responses.join('\n');
    for (const secret of secrets) {
      expect(logs.includes(secret), 'a token in the logs').toBe(false);
      expect(answers.includes(secret), 'a token in a response').toBe(false);
    }
  });
});
