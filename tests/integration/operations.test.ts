import { createChargeonceClient } from '@chargeonce/client';
import { EMULATOR_SECRET_KEY } from '@chargeonce/stripe-emulator';
import Stripe from 'stripe';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';
import { runScript } from '../support/processes';

/**
 * The operator page's sources over a real server: `pnpm admin` makes (and unmakes) an operator,
 * refused webhook deliveries and the scheduled reconciliation are persisted where
 * `operations.overview` reads them (any instance), and a customer never sees any of it.
 */
const WEBHOOK_SECRET = 'whsec_chargeonce_operations_test';
const stripe = new Stripe(EMULATOR_SECRET_KEY);

let env: InProcess;
beforeAll(async () => {
  env = await startInProcess({
    STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
    // No cache: a grant or revocation is seen by the next request (the default bound is 5 s).
    CHARGEONCE_AUTH_CACHE_MS: '0',
    CHARGEONCE_RECONCILE_INTERVAL_MS: '200',
  });
});
afterAll(async () => {
  await env?.stop();
});

const admin = (...args: string[]) =>
  runScript('apps/server/src/cli/admin.ts', ['--', ...args, '--json'], { DATABASE_URL: env.database.url });

/** An operator made as the README says: a user, granted by `pnpm admin`, with a token of theirs. */
async function newOperator() {
  const user = await env.newUser('operator');
  const granted = await admin('users', 'grant-operator', user.id);
  expect({ code: granted.code, stderr: granted.stderr }).toEqual({ code: 0, stderr: '' });
  expect(JSON.parse(granted.lastLine)).toEqual({
    userId: user.id,
    operatorScopes: ['operations:read', 'operations:write'],
  });
  return user;
}

describe('pnpm admin users grant-operator', () => {
  it('gives a user the operator scopes on every token, and revoke-operator takes them away', async () => {
    const user = await newOperator();
    await user.client.operations.overview.query();
    expect((await user.client.principal.whoami.query()).scopes).toContain('operations:write');
    const tokens = JSON.parse((await admin('tokens', 'list', '--user', user.id)).lastLine);
    expect(tokens.tokens[0].scopes).toEqual(expect.arrayContaining(['orders:pay', 'operations:read']));

    const revoked = await admin('users', 'revoke-operator', user.id);
    expect(JSON.parse(revoked.lastLine)).toEqual({ userId: user.id, operatorScopes: [] });
    expect((await trpcError(user.client.operations.overview.query())).code).toBe('FORBIDDEN');
  });

  it('refuses a customer scope, an unknown scope and an unknown user, changing nothing', async () => {
    const user = await env.newUser('customer');
    for (const scopes of ['orders:capture', 'operations:read,root', '']) {
      const run = await admin('users', 'grant-operator', user.id, '--scopes', scopes);
      expect(run.code).toBe(2);
      expect(run.stderr).toContain('--scopes for an operator: operations:read, operations:write');
    }
    const nobody = await admin('users', 'grant-operator', '00000000-0000-4000-8000-000000000000');
    expect(nobody.code).not.toBe(0);
    expect((await trpcError(user.client.operations.overview.query())).code).toBe('FORBIDDEN');
    const [row] = await env.db.sql`select operator_scopes from users where id = ${user.id}`;
    expect(row?.operator_scopes).toEqual([]);
  });
});

describe('what the page shows from any instance', () => {
  const deliver = (body: string, signature: string) =>
    fetch(`${env.server.url}/webhooks/stripe`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'stripe-signature': signature },
      body,
    });

  it('refused webhook deliveries: a bad signature, and an event no attempt of ours matches', async () => {
    const operator = createChargeonceClient({ url: env.server.url, token: (await newOperator()).token });
    const id = `evt_ops_${Date.now()}`;
    const body = JSON.stringify({
      id,
      object: 'event',
      type: 'payment_intent.succeeded',
      created: Math.floor(Date.now() / 1000),
      data: { object: { id: `pi_unknown_${Date.now()}`, object: 'payment_intent', metadata: {} } },
    });
    expect((await deliver(body, 't=1,v1=forged')).status).toBe(400);
    const signed = stripe.webhooks.generateTestHeaderString({ payload: body, secret: WEBHOOK_SECRET });
    expect(await (await deliver(body, signed)).json()).toMatchObject({ result: 'unknown_payment_intent' });

    const refusals = async () => (await operator.operations.overview.query()).webhookRefusals;
    await expect
      .poll(async () => (await refusals()).map((r) => [r.reason, r.eventId, r.httpStatus]))
      .toEqual(
        expect.arrayContaining([
          ['bad_signature', null, 400],
          ['unknown_payment_intent', id, 200],
        ]),
      );
    // Read straight from the table: what another instance's page would read too.
    const rows = await env.db.sql`select reason, instance_id from webhook_refusals where event_id = ${id}`;
    expect(rows).toEqual([{ reason: 'unknown_payment_intent', instance_id: 'in-process' }]);
  });

  it('the scheduled reconciliation records its runs', async () => {
    const operator = createChargeonceClient({ url: env.server.url, token: (await newOperator()).token });
    await expect
      .poll(async () => (await operator.operations.overview.query()).reconciliations[0])
      .toMatchObject({
        trigger: 'schedule',
        outcome: 'completed',
        requestedBy: null,
        instanceId: 'in-process',
      });
  });

  it('a customer sees none of it', async () => {
    const customer = await env.newUser('customer');
    expect((await trpcError(customer.client.operations.overview.query())).code).toBe('FORBIDDEN');
    expect((await customer.client.principal.whoami.query()).scopes).not.toContain('operations:read');
  });
});
