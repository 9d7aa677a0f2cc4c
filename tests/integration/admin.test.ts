import { createChargeonceClient } from '@chargeonce/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';
import { runScript } from '../support/processes';

/** `pnpm admin` onboards a customer and a service against DATABASE_URL; the tokens work at once. */
let env: InProcess;
beforeAll(async () => {
  // No cache: a revocation is seen by the next request (the default bound is 5 s).
  env = await startInProcess({ CHARGEONCE_AUTH_CACHE_MS: '0' });
});
afterAll(async () => {
  await env?.stop();
});

const admin = async (...args: string[]) => {
  const run = await runScript('apps/server/src/cli/admin.ts', ['--', ...args, '--json'], {
    DATABASE_URL: env.database.url,
  });
  expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
  return JSON.parse(run.lastLine);
};

describe('pnpm admin', () => {
  it('creates a user and a service token that work, lists them without values, and revokes', async () => {
    const { user } = await admin('users', 'create', '--name', 'Ada Lovelace');
    expect(user).toMatchObject({ id: expect.any(String), name: 'Ada Lovelace' });
    const userToken = await admin(
      'tokens',
      'create',
      '--user',
      user.id,
      '--label',
      'laptop',
      '--expires-in',
      '30d',
    );
    expect(userToken).toMatchObject({ kind: 'user', userId: user.id, token: expect.stringMatching(/^co_/) });
    expect(new Date(userToken.expiresAt).getTime()).toBeGreaterThan(Date.now() + 29 * 86_400_000);
    const service = await admin(
      'tokens',
      'create',
      '--service',
      'shop-backend',
      '--scopes',
      'orders:read,orders:write,orders:pay',
    );
    expect(service).toMatchObject({
      kind: 'service',
      service: 'shop-backend',
      scopes: ['orders:read', 'orders:write', 'orders:pay'],
    });

    const backend = createChargeonceClient({ url: env.server.url, token: service.token });
    const order = await backend.orders.create.mutate({
      amount: 2500,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      userId: user.id,
    });
    expect(await backend.orders.pay.mutate({ orderId: order.id })).toMatchObject({ outcome: 'charged' });
    const customer = createChargeonceClient({ url: env.server.url, token: userToken.token });
    expect((await customer.orders.list.query()).items.map((o) => o.id)).toEqual([order.id]);

    const { tokens } = await admin('tokens', 'list', '--service', 'shop-backend');
    expect(tokens).toEqual([
      expect.objectContaining({ id: service.id, kind: 'service', service: 'shop-backend' }),
    ]);
    expect(JSON.stringify(tokens)).not.toContain(service.token);

    expect(await admin('tokens', 'revoke', service.id)).toEqual({ revoked: service.id });
    expect(await trpcError(backend.orders.get.query({ orderId: order.id }))).toMatchObject({
      code: 'UNAUTHORIZED',
    });
    expect((await customer.orders.get.query({ orderId: order.id })).order.status).toBe('paid');
  });

  it('refuses what makes no sense with exit 2 and the usage, changing nothing', async () => {
    for (const args of [
      ['tokens', 'create', '--service', 'x', '--scopes', 'orders:fly'],
      ['tokens', 'create', '--user', 'not-a-uuid'],
      ['users', 'create'],
      ['users', 'delete'],
      // A user token's scopes are implied; silently dropping the flag would mislead.
      ['tokens', 'create', '--user', '00000000-0000-4000-8000-000000000000', '--scopes', 'orders:read'],
      ['tokens', 'list', '--user', '00000000-0000-4000-8000-000000000000', '--service', 'x'],
    ]) {
      const run = await runScript('apps/server/src/cli/admin.ts', ['--', ...args], {
        DATABASE_URL: env.database.url,
      });
      expect(run.code, args.join(' ')).toBe(2);
      expect(run.stderr).toMatch(/usage: pnpm admin/);
    }
    const { tokens } = await admin('tokens', 'list');
    expect(tokens.every((t: { scopes: string[] }) => !t.scopes.includes('orders:fly'))).toBe(true);
  });
});
