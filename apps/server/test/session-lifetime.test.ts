import { issueToken, revokeToken } from '@chargeonce/db';
import { describe, expect, it } from 'vitest';
import { useSessionServer } from './session-support';

/**
 * A web session lives only while the token it was opened with does, cannot open another session,
 * and its cookie never travels in the clear off this machine.
 */
const harness = useSessionServer();
const { call, newUser, setCookies, signIn, listOrders, secrets } = harness;

describe('a session and the token it was opened with', () => {
  it('revoking that token ends its sessions', async () => {
    const user = await newUser();
    const parent = await issueToken(harness.handle.db, { owner: { kind: 'user', userId: user.id } });
    secrets.add(parent.token);
    const session = await signIn(parent.token);
    await revokeToken(harness.handle.db, parent.id);
    // Never seen by this instance before: no cache stands in the way (the bound elsewhere is 5 s).
    expect((await listOrders({ cookie: session.cookie })).statusCode).toBe(401);
  });

  it('the session never outlives that token', async () => {
    const user = await newUser();
    const parent = await issueToken(harness.handle.db, {
      owner: { kind: 'user', userId: user.id },
      expiresAt: new Date(Date.now() + 120_000),
    });
    secrets.add(parent.token);
    const res = await call({ method: 'POST', url: '/session', payload: { token: parent.token } });
    const maxAge = Number(
      setCookies(res)
        .find((c) => c.name === 'co_session')!
        .attributes.find((a) => a.startsWith('Max-Age='))!
        .split('=')[1],
    );
    expect(maxAge).toBeGreaterThan(100);
    expect(maxAge).toBeLessThanOrEqual(120);
  });

  it('a session token cannot open another session', async () => {
    const user = await newUser();
    const session = await signIn(user.token);
    const res = await call({ method: 'POST', url: '/session', payload: { token: session.session } });
    expect(res.statusCode).toBe(403);
    expect(setCookies(res)).toEqual([]);
  });
});

describe('the cookie', () => {
  it('is Secure for any host but this machine, even over plain http (a TLS terminator in front)', async () => {
    const user = await newUser();
    const res = await call({
      method: 'POST',
      url: '/session',
      headers: { host: 'shop.example.com' },
      payload: { token: user.token },
    });
    for (const cookie of setCookies(res)) {
      secrets.add(cookie.value);
      expect(cookie.attributes, cookie.name).toContain('Secure');
    }
  });
});
