import type { AppRouter } from '@chargeonce/api';
import {
  createChargeonceClient,
  DEFAULT_RETRY_POLICY,
  type IdempotencyReceipt,
  retryLink,
  TRPCClientError,
} from '@chargeonce/client';
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DropProxy, startDropProxy } from '../support/drop-proxy';
import { type Stack, startStack } from '../support/stack';

/**
 * Caller idempotency keys on real server processes sharing one PostgreSQL: answers lost on the way
 * back, one key raced across instances, keys reused, declines replayed, a restart, and a request
 * killed while it held its key. Effects are counted in the database and at the emulator.
 */
let stack: Stack;
beforeAll(async () => {
  stack = await startStack({
    instances: 3,
    // A short key lease (a killed request's key frees up in 5 s), safe with these pay bounds.
    env: {
      CHARGEONCE_IDEMPOTENCY_LEASE_MS: '5000',
      CHARGEONCE_PAY_DEADLINE_MS: '500',
      STRIPE_TIMEOUT_MS: '1000',
      STRIPE_MAX_NETWORK_RETRIES: '0',
    },
  });
});
afterAll(async () => {
  await stack?.stop();
});

const visaOrder = { amount: 4200, currency: 'usd', paymentMethodId: 'pm_card_visa' };
const ordersOf = async (userId: string) =>
  (await stack.db.sql`select id from orders where user_id = ${userId}`).map((r) => r.id as string);
const fast = { baseDelayMs: 20, maxDelayMs: 200 };

/** A raw tRPC HTTP call, as curl sends it (see the README). */
async function post(url: string, path: string, token: string, input: unknown, key?: string) {
  const res = await fetch(`${url}/trpc/${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/json',
      ...(key === undefined ? {} : { 'idempotency-key': key }),
    },
    body: JSON.stringify(input),
  });
  const body = (await res.json()) as {
    result?: { data: { id?: string; outcome?: string } };
    error?: { message: string; data: { code: string; domainCode: string | null; retryAfterMs?: number } };
  };
  return { status: res.status, replayed: res.headers.get('idempotent-replayed'), res, body };
}

const HOLDS = {
  /** After the key is taken, before the order is written: the key is in flight, its row unlocked. */
  orders: { table: 'orders', when: 'before insert on orders for each row' },
  /** After the order committed, before the key's answer is stored (the key's row is locked). */
  completions: {
    table: 'idempotency_keys',
    when: `before update on idempotency_keys for each row when (new.state = 'completed')`,
  },
};

/**
 * Test-only: while held, the chosen write waits (a trigger waits on advisory lock 4242, which the
 * test holds), so a request is caught at that point. `waiting()` counts the requests caught;
 * `terminate()` ends their sessions; `release()` lets them finish and drops the trigger.
 */
async function hold(at: keyof typeof HOLDS) {
  const { table, when } = HOLDS[at];
  await stack.db.sql`create or replace function hold_write() returns trigger language plpgsql as $$
    begin perform pg_advisory_xact_lock(4242); return new; end $$`;
  await stack.db.sql.unsafe(`create or replace trigger hold_write ${when} execute function hold_write()`);
  const blocker = await stack.db.sql.reserve();
  await blocker`select pg_advisory_lock(4242)`;
  const caught = () =>
    stack.db.sql`select pid from pg_locks where locktype = 'advisory' and objid = 4242 and not granted`;
  return {
    waiting: async () => (await caught()).length,
    /** Ends the sessions of the caught requests, as the database does once their process is gone. */
    terminate: () => stack.db.sql`select pg_terminate_backend(pid) from (${caught()}) caught`,
    async release() {
      await blocker`select pg_advisory_unlock(4242)`;
      blocker.release();
      await stack.db.sql.unsafe(`drop trigger hold_write on ${table}`);
    },
  };
}

describe('an answer lost on its way back', () => {
  let proxy: DropProxy;
  beforeAll(async () => {
    // Drops the answer to the first POST it forwards, passes on everything after.
    proxy = await startDropProxy(stack.servers[0]!.url, ({ n }) => n === 1);
  });
  afterAll(async () => {
    await proxy?.close();
  });

  it('the typed client retries the create with its key: one order, the retry answered by a replay', async () => {
    const user = await stack.newUser();
    const before = proxy.dropped;
    const client = createChargeonceClient({ url: proxy.url, token: user.token, ...fast });
    const receipt: IdempotencyReceipt = {};
    const order = await client.orders.create.mutate(visaOrder, { context: { idempotency: receipt } });
    expect(proxy.dropped).toBe(before + 1);
    expect(receipt).toMatchObject({ tries: 2, replayed: true });
    expect(await ordersOf(user.id)).toEqual([order.id]);
  });

  it('companion: the same retry without keys creates a second order (the harness can fail)', async () => {
    const user = await stack.newUser();
    const dropNext = await startDropProxy(stack.servers[0]!.url, ({ n }) => n === 1);
    try {
      // The typed client's retry policy, without its idempotency link: what a naive client does.
      const naive = createTRPCClient<AppRouter>({
        links: [
          retryLink({ ...DEFAULT_RETRY_POLICY, ...fast }),
          httpLink({ url: `${dropNext.url}/trpc`, headers: { authorization: `Bearer ${user.token}` } }),
        ],
      });
      await naive.orders.create.mutate(visaOrder);
      expect(dropNext.dropped).toBe(1);
      expect(await ordersOf(user.id)).toHaveLength(2);
    } finally {
      await dropNext.close();
    }
  });
});

describe('one key raced across instances', () => {
  it('50 concurrent creates with one key over 3 instances: one executes, 49 replay it', async () => {
    const user = await stack.newUser();
    const key = `race-${user.id}`;
    const clients = stack.servers.map((s) =>
      createChargeonceClient({ url: s.url, token: user.token, maxRetries: 10, ...fast }),
    );
    const receipts: IdempotencyReceipt[] = Array.from({ length: 50 }, () => ({ key }));
    const orders = await Promise.all(
      receipts.map((receipt, i) =>
        clients[i % clients.length]!.orders.create.mutate(visaOrder, { context: { idempotency: receipt } }),
      ),
    );
    expect(new Set(orders.map((o) => o.id)).size).toBe(1);
    expect(receipts.filter((r) => !r.replayed)).toHaveLength(1);
    expect(receipts.filter((r) => r.replayed)).toHaveLength(49);
    expect(await ordersOf(user.id)).toEqual([orders[0]!.id]);
  });

  it('companion: 50 concurrent creates with a key each make 50 orders (the count can fail)', async () => {
    const user = await stack.newUser();
    const client = createChargeonceClient({ url: stack.servers[1]!.url, token: user.token });
    await Promise.all(Array.from({ length: 50 }, () => client.orders.create.mutate(visaOrder)));
    expect(await ordersOf(user.id)).toHaveLength(50);
  });

  it('over raw HTTP, a request while the key is held is CONFLICT with Retry-After, and nothing runs', async () => {
    const user = await stack.newUser();
    const key = `held-${user.id}`;
    const held = await hold('orders');
    let first: ReturnType<typeof post>;
    try {
      first = post(stack.servers[0]!.url, 'orders.create', user.token, visaOrder, key);
      await expect.poll(held.waiting, { message: 'the first create to wait on its order' }).toBe(1);
      const calls = await Promise.all(
        Array.from({ length: 20 }, (_, i) =>
          post(stack.servers[i % 3]!.url, 'orders.create', user.token, visaOrder, key),
        ),
      );
      for (const call of calls) {
        expect(call.status).toBe(409);
        expect(call.body.error?.data).toMatchObject({ domainCode: 'IDEMPOTENCY_KEY_IN_USE' });
        expect(call.body.error?.data.retryAfterMs).toBeGreaterThan(0);
        expect(call.res.headers.get('retry-after')).toBe('1');
      }
    } finally {
      await held.release();
    }
    const executed = await first;
    expect([executed.status, executed.replayed]).toEqual([200, null]);
    const replay = await post(stack.servers[1]!.url, 'orders.create', user.token, visaOrder, key);
    expect([replay.status, replay.replayed, replay.body.result?.data.id]).toEqual([
      200,
      'true',
      executed.body.result?.data.id,
    ]);
    expect(await ordersOf(user.id)).toHaveLength(1);
  });
});

describe('over raw HTTP with the Idempotency-Key header', () => {
  it('a retry replays with Idempotent-Replayed: true; other input with the key is 422 and runs nothing', async () => {
    const user = await stack.newUser();
    const [first, second, third] = stack.servers.map((s) => s.url) as [string, string, string];
    const created = await post(first, 'orders.create', user.token, visaOrder, 'order-1');
    expect([created.status, created.replayed]).toEqual([200, null]);
    const again = await post(second, 'orders.create', user.token, visaOrder, 'order-1');
    expect([again.status, again.replayed]).toEqual([200, 'true']);
    expect(again.body.result?.data.id).toBe(created.body.result?.data.id);
    const other = await post(third, 'orders.create', user.token, { ...visaOrder, amount: 9900 }, 'order-1');
    expect(other.status).toBe(422);
    expect(other.body.error?.data).toMatchObject({
      code: 'UNPROCESSABLE_CONTENT',
      domainCode: 'IDEMPOTENCY_KEY_REUSED',
    });
    expect(await ordersOf(user.id)).toHaveLength(1);
  });

  it('a key in a header names one call: a batch of two with it is refused', async () => {
    const user = await stack.newUser();
    const res = await fetch(`${stack.servers[0]!.url}/trpc/orders.create,orders.create?batch=1`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${user.token}`,
        'content-type': 'application/json',
        'idempotency-key': 'batched',
      },
      body: JSON.stringify({ 0: visaOrder, 1: visaOrder }),
    });
    const body = (await res.json()) as { error: { data: { code: string } } }[];
    expect(body.map((b) => b.error.data.code)).toEqual(['BAD_REQUEST', 'BAD_REQUEST']);
    expect(await ordersOf(user.id)).toHaveLength(0);
  });

  it('a decline is replayed with its key: the same 402, no new PaymentIntent', async () => {
    const user = await stack.newUser();
    const url = stack.servers[0]!.url;
    const made = await post(url, 'orders.create', user.token, {
      ...visaOrder,
      paymentMethodId: 'pm_card_chargeDeclined',
    });
    const orderId = made.body.result!.data.id!;
    const declined = await post(url, 'orders.pay', user.token, { orderId }, `pay-${orderId}`);
    expect(declined.status).toBe(402);
    const replay = await post(stack.servers[2]!.url, 'orders.pay', user.token, { orderId }, `pay-${orderId}`);
    expect([replay.status, replay.replayed]).toEqual([402, 'true']);
    expect(replay.body.error?.message).toBe(declined.body.error?.message);
    expect(stack.paymentIntentsFor(orderId)).toHaveLength(1);
  });
});

describe('keys outlive processes', () => {
  it('a pay key is replayed by a server started after the one that charged', async () => {
    const user = await stack.newUser();
    const order = await createChargeonceClient({
      url: stack.servers[1]!.url,
      token: user.token,
    }).orders.create.mutate(visaOrder);
    const charged = await post(
      stack.servers[1]!.url,
      'orders.pay',
      user.token,
      { orderId: order.id },
      `pay-${order.id}`,
    );
    expect(charged.body.result?.data.outcome).toBe('charged');
    const restarted = await stack.restart(1);
    const replay = await post(
      restarted.url,
      'orders.pay',
      user.token,
      { orderId: order.id },
      `pay-${order.id}`,
    );
    expect([replay.status, replay.replayed]).toEqual([200, 'true']);
    expect(replay.body.result?.data).toEqual(charged.body.result?.data);
    expect(stack.paymentIntentsFor(order.id)).toHaveLength(1);
  });

  it('a key held by a request killed mid-flight is IN_USE until its lease runs out, then the create re-runs once', async () => {
    const user = await stack.newUser();
    const key = `killed-${user.id}`;
    // The request is caught after its order committed and before its key completed: then killed.
    const held = await hold('completions');
    try {
      const victim = stack.servers[2]!;
      const doomed = post(victim.url, 'orders.create', user.token, visaOrder, key).catch(() => 'killed');
      await expect.poll(held.waiting, { message: 'the answer to wait on the lock' }).toBe(1);
      expect(await ordersOf(user.id)).toHaveLength(1);
      await victim.stop('SIGKILL');
      expect(await doomed).toBe('killed');
      // PostgreSQL notices a dead client only when it next talks to it: end the dead process's
      // session (its transaction rolls back), as a database does once the connection is gone.
      await held.terminate();
    } finally {
      await held.release();
    }
    const [made] = await ordersOf(user.id);
    const inUse = await post(stack.servers[0]!.url, 'orders.create', user.token, visaOrder, key);
    expect(inUse.body.error?.data.domainCode).toBe('IDEMPOTENCY_KEY_IN_USE');
    const replacement = stack.restart(2);
    // The typed client retries through the lease; the re-run finds the order the dead request made.
    const client = createChargeonceClient({
      url: stack.servers[0]!.url,
      token: user.token,
      maxRetries: 40,
      baseDelayMs: 50,
      maxDelayMs: 500,
    });
    const receipt: IdempotencyReceipt = { key };
    const order = await client.orders.create.mutate(visaOrder, { context: { idempotency: receipt } });
    expect(order.id).toBe(made);
    expect(receipt.replayed).toBe(false);
    expect(await ordersOf(user.id)).toEqual([made]);
    const replay = await post((await replacement).url, 'orders.create', user.token, visaOrder, key);
    expect([replay.replayed, replay.body.result?.data.id]).toEqual(['true', made]);
  });
});

describe('the typed client never retries a typed domain error', () => {
  it('a decline reaches the caller once, with its code', async () => {
    const user = await stack.newUser();
    const client = createChargeonceClient({ url: stack.servers[0]!.url, token: user.token, ...fast });
    const order = await client.orders.create.mutate({
      ...visaOrder,
      paymentMethodId: 'pm_card_chargeDeclined',
    });
    const receipt: IdempotencyReceipt = {};
    const error = await client.orders.pay
      .mutate({ orderId: order.id }, { context: { idempotency: receipt } })
      .catch((e) => e);
    expect(error).toBeInstanceOf(TRPCClientError);
    expect(error.data).toMatchObject({ domainCode: 'PAYMENT_DECLINED' });
    expect(receipt.tries).toBe(1);
  });
});
