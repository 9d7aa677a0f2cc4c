import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';
import { metricSum } from '../support/metrics';

/**
 * The idempotency key reaper of a running server: keys past their retention (24 h) go, unless a
 * live request holds one; the orders made under them stay. Ages are moved back in the database
 * (the retention cannot be set below 24 h), and the reaper runs every 100 ms here.
 */
let env: InProcess;
beforeAll(async () => {
  env = await startInProcess({ CHARGEONCE_IDEMPOTENCY_REAP_INTERVAL_MS: '100' });
});
afterAll(async () => {
  await env?.stop();
});

const visaOrder = { amount: 4200, currency: 'usd', paymentMethodId: 'pm_card_visa' };
const reaped = () => metricSum([env.server.url], 'chargeonce_idempotency_keys_reaped_total');
const keysOf = async (principalId: string) =>
  (await env.db.sql`select key from idempotency_keys where principal_id = ${principalId} order by key`).map(
    (r) => r.key as string,
  );

describe('the idempotency key reaper', () => {
  it('removes keys older than the retention that nobody holds, keeps the rest and every order', async () => {
    const user = await env.newUser();
    for (const key of ['old-done', 'old-held', 'old-stale', 'recent']) {
      await user.client.orders.create.mutate({ ...visaOrder, idempotencyKey: key });
    }
    const orders = await env.db.sql`select id from orders where user_id = ${user.id}`;
    const before = await reaped();
    // One transaction, so the reaper (every 100 ms) never sees an old key before it is held.
    await env.db.sql.begin(async (tx) => {
      await tx`update idempotency_keys set created_at = now() - interval '25 hours'
        where principal_id = ${user.id} and key like 'old-%'`;
      // Held by a live request (its lease not over) / by a request that died an hour ago.
      await tx`update idempotency_keys set state = 'in_flight', response = null, http_status = null,
        locked_at = now(), lock_token = gen_random_uuid() where principal_id = ${user.id} and key = 'old-held'`;
      await tx`update idempotency_keys set state = 'in_flight', response = null, http_status = null,
        locked_at = now() - interval '1 hour', lock_token = gen_random_uuid()
        where principal_id = ${user.id} and key = 'old-stale'`;
    });

    await expect
      .poll(() => keysOf(user.id), { message: 'the old free keys to go' })
      .toEqual(['old-held', 'recent']);
    await expect.poll(reaped, { message: 'the reaped counter' }).toBeGreaterThanOrEqual(before + 2);
    const after = await env.db.sql`select id, idempotency_key_id from orders where user_id = ${user.id}`;
    expect(after.map((o) => o.id).sort()).toEqual(orders.map((o) => o.id).sort());
    expect(after.filter((o) => o.idempotency_key_id === null)).toHaveLength(2);
  });

  it('a key once reaped is a new key: a request with it executes again', async () => {
    const user = await env.newUser();
    await user.client.orders.create.mutate({ ...visaOrder, idempotencyKey: 'reused-after-a-day' });
    await env.db
      .sql`update idempotency_keys set created_at = now() - interval '25 hours' where principal_id = ${user.id}`;
    await expect.poll(() => keysOf(user.id), { message: 'the key to be reaped' }).toEqual([]);
    await user.client.orders.create.mutate({ ...visaOrder, idempotencyKey: 'reused-after-a-day' });
    const orders = await env.db.sql`select id from orders where user_id = ${user.id}`;
    expect(orders).toHaveLength(2);
  });
});
