import { createHash } from 'node:crypto';
import type { Scope } from '@chargeonce/db';
import { createStripeGateway, DEFAULT_RECOVERY_POLICY, runRecovery } from '@chargeonce/payments';
import { describe, expect, it } from 'vitest';
import { fingerprint, IN_USE_RETRY_AFTER_MS } from '../src/idempotency';
import { appRouter } from '../src/router';
import { type ApiEnv, trpcError, useApiEnv, visaOrder } from './support';

/**
 * Caller idempotency keys through `createCaller` on real PostgreSQL: what is stored, replayed,
 * refused and forgotten. (Over HTTP, across instances and with dropped responses: tests/integration.)
 */
const env = useApiEnv();

let keys = 0;
const newKey = () => `key-${process.pid}-${++keys}`;
const ordersOf = async (userId: string) =>
  (await env.db.sql`select count(*)::int as n from orders where user_id = ${userId}`)[0]?.n as number;
const keyRow = async (key: string) =>
  (
    await env.db
      .sql`select state, http_status, locked_at, lock_token from idempotency_keys where key = ${key}`
  )[0];

describe('orders.create with a key', () => {
  it('executes once; a retry replays the same order, marked as a replay', async () => {
    const user = await env.newUser();
    const key = newKey();
    const first = env.caller(user.token);
    const order = await first.api.orders.create({ ...visaOrder, idempotencyKey: key });
    expect(first.audit.idempotency).toBe('executed');
    const again = env.caller(user.token);
    expect(await again.api.orders.create({ ...visaOrder, idempotencyKey: key })).toEqual(order);
    expect(again.audit.idempotency).toBe('replayed');
    expect(await ordersOf(user.id)).toBe(1);
    expect(await keyRow(key)).toMatchObject({ state: 'completed', http_status: 200, locked_at: null });
  });

  it('the same input in another spelling (currency case, key order) replays', async () => {
    const user = await env.newUser();
    const key = newKey();
    const order = await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    const respelled = { paymentMethodId: 'pm_card_visa', idempotencyKey: key, currency: 'USD', amount: 4200 };
    expect(await env.caller(user.token).api.orders.create(respelled)).toEqual(order);
    expect(await ordersOf(user.id)).toBe(1);
  });

  it('without a key, every call creates an order (as before)', async () => {
    const user = await env.newUser();
    await env.caller(user.token).api.orders.create(visaOrder);
    await env.caller(user.token).api.orders.create(visaOrder);
    expect(await ordersOf(user.id)).toBe(2);
  });

  it('a key reused with other input or for another procedure is UNPROCESSABLE_CONTENT; nothing runs', async () => {
    const user = await env.newUser();
    const key = newKey();
    const order = await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    const other = await trpcError(
      env.caller(user.token).api.orders.create({ ...visaOrder, amount: 4300, idempotencyKey: key }),
    );
    expect(other.code).toBe('UNPROCESSABLE_CONTENT');
    expect(other.message).toMatch(/first used with different input/);
    const pay = await trpcError(
      env.caller(user.token).api.orders.pay({ orderId: order.id, idempotencyKey: key }),
    );
    expect(pay.code).toBe('UNPROCESSABLE_CONTENT');
    expect(pay.message).toMatch(/first used for orders\.create/);
    expect(await ordersOf(user.id)).toBe(1);
    expect(env.emulator.paymentIntents().filter((pi) => pi.metadata.order_id === order.id)).toHaveLength(0);
  });

  it('keys belong to their principal: two users with one key each get their own order', async () => {
    const [a, b] = [await env.newUser(), await env.newUser()];
    const key = newKey();
    const orderA = await env.caller(a.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    const orderB = await env.caller(b.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    expect(orderA.userId).toBe(a.id);
    expect(orderB.userId).toBe(b.id);
  });

  it('a validation failure stores nothing: the corrected request with the key executes', async () => {
    const user = await env.newUser();
    const key = newKey();
    const bad = await trpcError(
      env.caller(user.token).api.orders.create({ ...visaOrder, amount: -1, idempotencyKey: key }),
    );
    expect(bad.code).toBe('BAD_REQUEST');
    expect(await keyRow(key)).toBeUndefined();
    await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    expect(await ordersOf(user.id)).toBe(1);
  });

  it("a refusal of the caller's rights inside the procedure is forgotten too", async () => {
    const [user, stranger] = [await env.newUser(), await env.newUser()];
    const key = newKey();
    const forbidden = await trpcError(
      env.caller(user.token).api.orders.create({ ...visaOrder, userId: stranger.id, idempotencyKey: key }),
    );
    expect(forbidden.code).toBe('FORBIDDEN');
    expect(await keyRow(key)).toBeUndefined();
    await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    expect(await ordersOf(user.id)).toBe(1);
  });

  it('a create naming no user (NOT_FOUND) stores nothing: the corrected request with the key executes', async () => {
    const service = await env.newService(['orders:write']);
    const customer = await env.newUser();
    const key = newKey();
    const input = { ...visaOrder, userId: '00000000-0000-4000-8000-000000000001', idempotencyKey: key };
    expect((await trpcError(env.caller(service.token).api.orders.create(input))).code).toBe('NOT_FOUND');
    expect(await keyRow(key)).toBeUndefined();
    const order = await env.caller(service.token).api.orders.create({ ...input, userId: customer.id });
    expect(order.userId).toBe(customer.id);
    expect(await keyRow(key)).toMatchObject({ state: 'completed', http_status: 200 });
  });

  it('an answer stored by an older build (an order without the fields added since) still replays', async () => {
    const user = await env.newUser();
    const key = newKey();
    const order = await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    const { refundedAmount: _, refundedAt: __, canceledAt: ___, ...before } = order;
    await env.db
      .sql`update idempotency_keys set response = ${JSON.stringify({ data: before })}::jsonb where key = ${key}`;
    const replayed = await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    expect(replayed).toEqual(order);
  });

  it('a key held by a request in flight answers CONFLICT (IN_USE) with a retry hint; nothing runs', async () => {
    const user = await env.newUser();
    const key = newKey();
    const owner = { kind: 'user', id: user.id };
    const fp = fingerprint({ ...visaOrder });
    await env.db
      .sql`insert into idempotency_keys (principal_kind, principal_id, key, procedure, fingerprint, locked_at, lock_token)
      values (${owner.kind}, ${owner.id}, ${key}, 'orders.create', ${fp}, now(), gen_random_uuid())`;
    const call = env.caller(user.token);
    const inUse = await trpcError(call.api.orders.create({ ...visaOrder, idempotencyKey: key }));
    expect(inUse.code).toBe('CONFLICT');
    // Its lease (two minutes) has long to run: the hint is the usual half second, not the lease.
    expect(call.audit).toMatchObject({ idempotency: 'in_use', retryAfterMs: IN_USE_RETRY_AFTER_MS });
    expect(await ordersOf(user.id)).toBe(0);
    // The holder died: once its lease is over, the key is taken again and the create runs once.
    await env.db.sql`update idempotency_keys set locked_at = now() - interval '1 hour' where key = ${key}`;
    await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    expect(await ordersOf(user.id)).toBe(1);
  });

  it('a create re-run under its key after its answer was lost finds the order it made', async () => {
    const user = await env.newUser();
    const key = newKey();
    const order = await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key });
    // As if the first request died after the insert, before its answer was stored, and its lease ran out.
    await env.db.sql`update idempotency_keys set state = 'in_flight', response = null, http_status = null,
      locked_at = now() - interval '1 hour' where key = ${key}`;
    expect(await env.caller(user.token).api.orders.create({ ...visaOrder, idempotencyKey: key })).toEqual(
      order,
    );
    expect(await ordersOf(user.id)).toBe(1);
  });
});

describe('fingerprint', () => {
  it('is the input without its key, with object keys in any order; array order, nulls and values count', () => {
    const of = (input: object) => fingerprint(input);
    expect(of({ a: 1, b: [1, { c: 'x', d: 2 }], idempotencyKey: 'k1' })).toBe(
      of({ b: [1, { d: 2, c: 'x' }], a: 1, idempotencyKey: 'k2' }),
    );
    expect(of({ a: 1, skipped: undefined })).toBe(of({ a: 1 }));
    const distinct = [
      { a: [1, 2] },
      { a: [2, 1] },
      { a: [1] },
      { a: [] },
      { a: [1, null] },
      { a: '[1,2]' },
      { a: null },
      { a: {} },
      {},
    ].map(of);
    expect(new Set(distinct).size).toBe(distinct.length);
    // Inside an array, undefined is null (as JSON has it).
    expect(of({ a: [1, undefined] })).toBe(of({ a: [1, null] }));
  });

  it('is the SHA-256 of one exact text, so a key stored by an earlier build still matches after an upgrade', () => {
    const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
    expect(fingerprint({ b: 'x', a: [1, 23, { d: null, c: true }], idempotencyKey: 'k' })).toBe(
      sha256('{"a":[1,23,{"c":true,"d":null}],"b":"x"}'),
    );
    // Many keys, in any order: one text.
    const keys = ['orderId', 'amount', 'reason', 'currency', 'userId', 'captureMethod', 'b', 'a'];
    const text = `{${[...keys]
      .sort()
      .map((k) => `"${k}":1`)
      .join(',')}}`;
    for (const order of [keys, [...keys].reverse(), [...keys.slice(3), ...keys.slice(0, 3)]])
      expect(fingerprint(Object.fromEntries(order.map((k) => [k, 1])))).toBe(sha256(text));
  });
});

describe('the Idempotency-Key header (raw HTTP callers)', () => {
  it('keys a call whose input has none, or the same one: a retry with it replays', async () => {
    const user = await env.newUser();
    const key = newKey();
    const first = await env.caller(user.token, { idempotencyKey: key }).api.orders.create(visaOrder);
    const again = env.caller(user.token, { idempotencyKey: key });
    expect(await again.api.orders.create({ ...visaOrder, idempotencyKey: key })).toEqual(first);
    expect(again.audit.idempotency).toBe('replayed');
    expect(await ordersOf(user.id)).toBe(1);
  });

  it('is refused before anything runs when malformed, sent with a batch, or unlike the input’s key', async () => {
    const user = await env.newUser();
    const refusal = (request: { idempotencyKey: string; calls?: number }, input: object = visaOrder) =>
      trpcError(env.caller(user.token, request).api.orders.create(input as typeof visaOrder));
    expect(await refusal({ idempotencyKey: 'naïve' })).toMatchObject({
      code: 'BAD_REQUEST',
      message: 'The Idempotency-Key header must be 1 to 255 printable ASCII characters.',
    });
    expect(await refusal({ idempotencyKey: newKey(), calls: 2 })).toMatchObject({
      code: 'BAD_REQUEST',
      message:
        "An Idempotency-Key header names one call; in a batch, each mutation carries its key in its input's idempotencyKey.",
    });
    expect(
      await refusal({ idempotencyKey: newKey() }, { ...visaOrder, idempotencyKey: newKey() }),
    ).toMatchObject({
      code: 'BAD_REQUEST',
      message: "The Idempotency-Key header and the input's idempotencyKey differ.",
    });
    expect(await ordersOf(user.id)).toBe(0);
    expect(
      (await env.db.sql`select count(*)::int as n from idempotency_keys where principal_id = ${user.id}`)[0]
        ?.n,
    ).toBe(0);
  });
});

describe('storing the answer', () => {
  const lost = () => Object.assign(new Error('connection lost'), { code: 'CONNECTION_CLOSED' });
  /**
   * The env's deps, with the key store's connection on a switch (while down, each use throws
   * `failure`, by default a lost connection) and a hook into the charge.
   */
  function depsWith(onCharge: () => Promise<void> | void, failure: Error = lost()) {
    const state = { down: false };
    const db = new Proxy(env.deps.db, {
      get(target, prop) {
        if (state.down) throw failure;
        return Reflect.get(target, prop, target);
      },
    });
    const real = env.deps.payments.gateway;
    const gateway = Object.assign(Object.create(real), {
      charge: async (request: Parameters<typeof real.charge>[0]) => {
        await onCharge();
        return real.charge(request);
      },
    });
    const logged: Record<string, unknown>[] = [];
    const log = (fields: object, msg?: string) => logged.push({ msg, ...fields });
    const logger = { info() {}, debug() {}, warn: log, error: log } as never;
    return { deps: { ...env.deps, db, payments: { ...env.deps.payments, gateway } }, state, logger, logged };
  }

  it('while the database is down: the caller gets its answer, stored once the database is back', async () => {
    const user = await env.newUser();
    const order = await env.caller(user.token).api.orders.create(visaOrder);
    const key = newKey();
    const setup = depsWith(() => {
      setup.state.down = true;
    });
    const { deps, logger, logged } = setup;
    const paid = await env
      .caller(user.token, { deps, logger })
      .api.orders.pay({ orderId: order.id, idempotencyKey: key });
    expect(paid).toMatchObject({ outcome: 'charged' });
    const keyId = (await env.db.sql`select id from idempotency_keys where key = ${key}`)[0]?.id;
    expect(logged).toEqual([
      {
        msg: 'could not store the idempotency key answer',
        keyId,
        err: expect.objectContaining({ code: 'CONNECTION_CLOSED' }),
      },
    ]);
    // Still held (by this request, until its lease runs out), so a retry meanwhile is IN_USE.
    expect(await keyRow(key)).toMatchObject({ state: 'in_flight', locked_at: expect.any(String) });
    const meanwhile = await trpcError(
      env.caller(user.token).api.orders.pay({ orderId: order.id, idempotencyKey: key }),
    );
    expect(meanwhile.code).toBe('CONFLICT');
    setup.state.down = false;
    await expect.poll(async () => (await keyRow(key))?.state, { timeout: 10_000 }).toBe('completed');
    const replay = env.caller(user.token);
    expect(await replay.api.orders.pay({ orderId: order.id, idempotencyKey: key })).toEqual(paid);
    expect(replay.audit.idempotency).toBe('replayed');
    expect(env.emulator.paymentIntents().filter((pi) => pi.metadata.order_id === order.id)).toHaveLength(1);
  });

  it('an answer not stored because of an outage is tried again in the background; any other failure is not', async () => {
    const user = await env.newUser();
    const scheduled: number[] = [];
    const schedule = (_run: () => void, ms: number) => void scheduled.push(ms);
    const failures = [lost(), Object.assign(new Error('value too long'), { code: '22001' })];
    for (const failure of failures) {
      const order = await env.caller(user.token).api.orders.create(visaOrder);
      const setup = depsWith(() => {
        setup.state.down = true;
      }, failure);
      const { logger, logged } = setup;
      const deps = { ...setup.deps, idempotency: { schedule } };
      const paid = await env
        .caller(user.token, { deps, logger })
        .api.orders.pay({ orderId: order.id, idempotencyKey: newKey() });
      expect(paid).toMatchObject({ outcome: 'charged' });
      expect(logged).toEqual([
        expect.objectContaining({ msg: 'could not store the idempotency key answer', err: failure }),
      ]);
    }
    // The outage's first retry in 250 ms; nothing for the other failure, which a retry would repeat.
    expect(scheduled).toEqual([250]);
  });

  it('for a key taken over while its request ran: nothing is stored over the new holder’s, and a warning says so', async () => {
    const user = await env.newUser();
    const order = await env.caller(user.token).api.orders.create(visaOrder);
    const key = newKey();
    const { deps, logger, logged } = depsWith(async () => {
      await env.db.sql`update idempotency_keys set lock_token = gen_random_uuid() where key = ${key}`;
    });
    const paid = await env
      .caller(user.token, { deps, logger })
      .api.orders.pay({ orderId: order.id, idempotencyKey: key });
    expect(paid).toMatchObject({ outcome: 'charged' });
    const keyId = (await env.db.sql`select id from idempotency_keys where key = ${key}`)[0]?.id;
    expect(logged).toEqual([{ msg: 'idempotency key was taken over; answer not stored', keyId }]);
    // Still the new holder's, unanswered: its own request stores its answer.
    expect(await keyRow(key)).toMatchObject({
      state: 'in_flight',
      http_status: null,
      locked_at: expect.any(String),
    });
  });
});

describe('orders.pay with a key', () => {
  it('a decline is stored and replayed: no second attempt, the same error', async () => {
    const user = await env.newUser();
    const order = await env
      .caller(user.token)
      .api.orders.create({ ...visaOrder, paymentMethodId: 'pm_card_chargeDeclined' });
    const key = newKey();
    const first = await trpcError(
      env.caller(user.token).api.orders.pay({ orderId: order.id, idempotencyKey: key }),
    );
    expect(first.code).toBe('PAYMENT_REQUIRED');
    const again = env.caller(user.token);
    const replayed = await trpcError(again.api.orders.pay({ orderId: order.id, idempotencyKey: key }));
    expect(replayed).toMatchObject({ code: 'PAYMENT_REQUIRED', message: first.message });
    expect(again.audit.idempotency).toBe('replayed');
    const attempts = await env.db.sql`select id from payment_attempts where order_id = ${order.id}`;
    expect(attempts).toHaveLength(1);
  });

  it('processing is not stored: once the outcome is known, a retry with the key gets it', async () => {
    const user = await env.newUser();
    const order = await env.caller(user.token).api.orders.create(visaOrder);
    const key = newKey();
    // The provider charges but the answer is lost: the outcome is unknown.
    env.emulator.setFaults([{ operation: 'payment_intents.create', fault: 'error_after', times: 1 }]);
    const first = await env.caller(user.token).api.orders.pay({ orderId: order.id, idempotencyKey: key });
    expect(first.outcome).toBe('processing');
    expect(await keyRow(key)).toMatchObject({ state: 'in_flight', locked_at: null });
    // Recovery settles the attempt (same Stripe key): the order is paid.
    await runRecovery(env.deps.payments, { ...DEFAULT_RECOVERY_POLICY, graceMs: 0 });
    const again = await env.caller(user.token).api.orders.pay({ orderId: order.id, idempotencyKey: key });
    expect(again).toMatchObject({ outcome: 'already_paid', order: { status: 'paid' } });
    expect(await keyRow(key)).toMatchObject({ state: 'completed' });
    const replay = env.caller(user.token);
    expect(await replay.api.orders.pay({ orderId: order.id, idempotencyKey: key })).toEqual(again);
    expect(replay.audit.idempotency).toBe('replayed');
    expect(env.emulator.paymentIntents().filter((pi) => pi.metadata.order_id === order.id)).toHaveLength(1);
  });
});

describe('orders.cancel with a key', () => {
  it('PAYMENT_IN_PROGRESS is not its final answer: once the payment failed, the retry cancels', async () => {
    const user = await env.newUser();
    const key = newKey();
    const order = await env.caller(user.token).api.orders.create(visaOrder);
    // A payment in flight (as a claim leaves it), then failed (as a decline settles it).
    const setStatus = (to: string) => env.db.sql`update orders set status = ${to} where id = ${order.id}`;
    await setStatus('processing');
    const busy = await trpcError(
      env.caller(user.token).api.orders.cancel({ orderId: order.id, idempotencyKey: key }),
    );
    expect(busy.cause).toMatchObject({ code: 'PAYMENT_IN_PROGRESS' });
    expect(await keyRow(key)).toMatchObject({ state: 'in_flight', locked_at: null });
    await setStatus('failed');
    const retried = await env
      .caller(user.token)
      .api.orders.cancel({ orderId: order.id, idempotencyKey: key });
    expect(retried).toMatchObject({ outcome: 'canceled', order: { status: 'canceled' } });
  });
});

describe('orders.capture with a key', () => {
  it('a refusal while a void decides the hold is not final: once the void gave it back, the retry captures', async () => {
    const user = await env.newUser();
    const service = await env.newService(['orders:capture']);
    const api = env.caller(user.token).api;
    const order = await api.orders.create({ ...visaOrder, captureMethod: 'manual' });
    await api.orders.pay({ orderId: order.id });
    // A void deciding the hold (as its take leaves it), then refused (as a reopen settles it).
    const setStatus = (to: string) => env.db.sql`update orders set status = ${to} where id = ${order.id}`;
    await setStatus('voiding');
    const key = newKey();
    const busy = await trpcError(
      env.caller(service.token).api.orders.capture({ orderId: order.id, idempotencyKey: key }),
    );
    expect(busy.cause).toMatchObject({ code: 'ORDER_NOT_CAPTURABLE', details: { status: 'voiding' } });
    expect(await keyRow(key)).toMatchObject({ state: 'in_flight', locked_at: null });
    await setStatus('authorized');
    const retried = await env
      .caller(service.token)
      .api.orders.capture({ orderId: order.id, idempotencyKey: key });
    expect(retried).toMatchObject({ outcome: 'captured', order: { status: 'paid' } });
  });
});

describe('an answer that is not final', () => {
  /** The call with `key` twice: the first answers `outcome`, a retry with the key runs again. */
  async function notStored(
    token: string,
    call: (api: ReturnType<ApiEnv['caller']>['api'], key: string) => Promise<{ outcome: string }>,
    outcome: string,
    request: { deps?: ApiEnv['deps'] } = {},
  ) {
    const key = newKey();
    const first = env.caller(token, request);
    expect((await call(first.api, key).finally(() => env.emulator.clearFaults())).outcome).toBe(outcome);
    expect(first.audit.idempotency).toBe('executed');
    const again = env.caller(token, request);
    await call(again.api, key);
    expect(again.audit.idempotency).toBe('executed');
  }

  it('a refund, capture or void left pending is not stored: a retry with the key asks again', async () => {
    const user = await env.newUser();
    const api = env.caller(user.token).api;
    const paid = await api.orders.create(visaOrder);
    await api.orders.pay({ orderId: paid.id });
    env.emulator.setFaults([{ fault: 'error_before', operation: 'refunds.create', status: 503 }]);
    await notStored(
      user.token,
      (a, key) => a.orders.refund({ orderId: paid.id, amount: 1000, idempotencyKey: key }),
      'pending',
    );
    const merchant = await env.newService(['orders:capture']);
    type Call = (
      a: ReturnType<ApiEnv['caller']>['api'],
      orderId: string,
      key: string,
    ) => Promise<{ outcome: string }>;
    const cases: [string, Call][] = [
      ['payment_intents.capture', (a, orderId, key) => a.orders.capture({ orderId, idempotencyKey: key })],
      ['payment_intents.cancel', (a, orderId, key) => a.orders.void({ orderId, idempotencyKey: key })],
    ];
    for (const [operation, call] of cases) {
      const held = await api.orders.create({ ...visaOrder, captureMethod: 'manual' });
      expect(await api.orders.pay({ orderId: held.id })).toMatchObject({ outcome: 'authorized' });
      env.emulator.setFaults([{ fault: 'error_before', operation, status: 503 }]);
      await notStored(merchant.token, (a, key) => call(a, held.id, key), 'pending');
    }
  });

  it('a refusal with a 5xx status (the provider refused our key) is not stored: a retry with the key runs', async () => {
    const user = await env.newUser();
    const order = await env.caller(user.token).api.orders.create(visaOrder);
    const refused = createStripeGateway({ secretKey: 'sk_live_revoked', apiBase: env.emulator.url });
    const deps = { ...env.deps, payments: { ...env.deps.payments, gateway: refused } };
    const key = newKey();
    const first = env.caller(user.token, { deps });
    const unavailable = await trpcError(first.api.orders.pay({ orderId: order.id, idempotencyKey: key }));
    expect(unavailable.code).toBe('SERVICE_UNAVAILABLE');
    expect(first.audit.idempotency).toBe('executed');
    const again = env.caller(user.token);
    expect(await again.api.orders.pay({ orderId: order.id, idempotencyKey: key })).toMatchObject({
      outcome: 'charged',
    });
    expect(again.audit.idempotency).toBe('executed');
  });

  it('a pay awaiting the customer (3-D Secure) is not stored: a retry with the key asks again', async () => {
    const user = await env.newUser();
    const order = await env
      .caller(user.token)
      .api.orders.create({ ...visaOrder, paymentMethodId: 'pm_card_threeDSecure2Required' });
    const deps = {
      ...env.deps,
      payments: { ...env.deps.payments, returnUrl: 'https://shop.example/return' },
    };
    await notStored(
      user.token,
      (a, key) => a.orders.pay({ orderId: order.id, idempotencyKey: key }),
      'requires_action',
      { deps },
    );
  });
});

describe('every mutation', () => {
  type Api = ReturnType<ApiEnv['caller']>['api'];
  /** Each mutation called validly with a key (after its setup); one missing here fails below. */
  const calls: Record<string, (api: Api) => Promise<(api: Api, key: string) => Promise<unknown>>> = {
    'orders.create': async () => (api, key) => api.orders.create({ ...visaOrder, idempotencyKey: key }),
    'orders.pay': async (api) => {
      const order = await api.orders.create(visaOrder);
      return (again, key) => again.orders.pay({ orderId: order.id, idempotencyKey: key });
    },
    'orders.refund': async (api) => {
      const order = await api.orders.create(visaOrder);
      await api.orders.pay({ orderId: order.id });
      return (again, key) => again.orders.refund({ orderId: order.id, amount: 1000, idempotencyKey: key });
    },
    'orders.cancel': async (api) => {
      const order = await api.orders.create(visaOrder);
      return (again, key) => again.orders.cancel({ orderId: order.id, idempotencyKey: key });
    },
    'orders.capture': async (api) => {
      const order = await api.orders.create({ ...visaOrder, captureMethod: 'manual' });
      await api.orders.pay({ orderId: order.id });
      return (again, key) => again.orders.capture({ orderId: order.id, amount: 1000, idempotencyKey: key });
    },
    'orders.void': async (api) => {
      const order = await api.orders.create({ ...visaOrder, captureMethod: 'manual' });
      await api.orders.pay({ orderId: order.id });
      return (again, key) => again.orders.void({ orderId: order.id, idempotencyKey: key });
    },
    'operations.recover': async (api) => {
      const order = await api.orders.create(visaOrder);
      await api.orders.pay({ orderId: order.id });
      const [attempt] = (await api.orders.get({ orderId: order.id })).attempts;
      return (again, key) =>
        again.operations.recover({ kind: 'attempt', id: attempt?.id ?? '', idempotencyKey: key });
    },
    'operations.reconcile': async () => (api, key) => api.operations.reconcile({ idempotencyKey: key }),
  };
  /** Mutations only a service may call (the merchant's): made and replayed with a service's token. */
  const byService: Record<string, readonly Scope[]> = {
    'orders.capture': ['orders:capture'],
    'orders.void': ['orders:capture'],
    'operations.recover': ['operations:write'],
    'operations.reconcile': ['operations:write'],
  };
  const mutations = Object.entries(
    appRouter._def.procedures as unknown as Record<string, { _def: { type: string } }>,
  )
    .filter(([, p]) => p._def.type === 'mutation')
    .map(([path]) => path);

  it('has a call here (so each new mutation is proven to replay)', () => {
    expect(mutations.sort()).toEqual(Object.keys(calls).sort());
  });

  it.each(mutations)('%s replays its first answer to a retry with its key', async (path) => {
    const user = await env.newUser();
    const key = newKey();
    const setup = calls[path] as NonNullable<(typeof calls)[string]>;
    const call = await setup(env.caller(user.token).api);
    const scopes = byService[path];
    const token = scopes ? (await env.newService(scopes)).token : user.token;
    const first = await call(env.caller(token).api, key);
    const again = env.caller(token);
    expect(await call(again.api, key)).toEqual(first);
    expect(again.audit.idempotency).toBe('replayed');
  });
});
