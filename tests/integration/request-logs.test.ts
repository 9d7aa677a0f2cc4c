import { createChargeonceClient } from '@chargeonce/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';
import { captureLogs } from '../support/logs';
import { deliverSigned } from '../support/webhooks';

/**
 * A request's id is on every line it causes — the payments use case's and each provider call's,
 * with Stripe's own request id and our idempotency key — and comes back as `x-request-id`. Work
 * that no request caused (recovery passes, webhook events) carries ids of its own.
 */
const WEBHOOK_SECRET = 'whsec_request_logs_test';
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const logs = captureLogs();
let env: InProcess;
beforeAll(async () => {
  env = await startInProcess(
    { LOG_LEVEL: 'info', CHARGEONCE_RECOVERY_INTERVAL_MS: '0', STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET },
    { logStream: logs.stream },
  );
});
afterAll(async () => {
  await env?.stop();
});

type Line = Record<string, unknown>;
const linesOf = (reqId: string) => logs.records().filter((l) => l.reqId === reqId);
/** The provider's HTTP tries logged for one idempotency key (see payments stripe-client.ts). */
const stripeLines = (idempotencyKey: string) =>
  logs.records().filter((l) => l.component === 'stripe' && l.idempotencyKey === idempotencyKey);

/** A typed client whose every request carries `x-request-id: reqId`. */
async function clientWithRequestId(reqId: string) {
  const user = await env.newUser();
  const client = createChargeonceClient({
    url: env.server.url,
    token: user.token,
    maxRetries: 0,
    fetch: (url, init) => {
      const headers = new Headers(init?.headers as ConstructorParameters<typeof Headers>[0]);
      headers.set('x-request-id', reqId);
      return fetch(url, { ...init, headers } as RequestInit);
    },
  });
  return client;
}

const paymentIntentOf = (paid: { outcome: string; paymentIntentId?: string }) =>
  paid.outcome === 'charged' ? paid.paymentIntentId : undefined;

/** A new order of 5.00 USD paid with `paymentMethodId`. */
const orderFor = (
  client: Awaited<ReturnType<typeof clientWithRequestId>>,
  paymentMethodId = 'pm_card_visa',
) => client.orders.create.mutate({ amount: 500, currency: 'usd', paymentMethodId });

/** The idempotency key of the order's latest attempt (what its provider calls were sent with). */
async function attemptKey(orderId: string): Promise<string> {
  const [row] = await env.db.sql<{ idempotency_key: string }[]>`
    select idempotency_key from payment_attempts where order_id = ${orderId} order by claim_version desc limit 1`;
  return row!.idempotency_key;
}

describe('x-request-id', () => {
  it("echoes a caller's well-formed id, and replaces a missing, long or odd one with a new UUID", async () => {
    const sent = async (value?: string) => {
      const res = await fetch(
        `${env.server.url}/healthz`,
        value ? { headers: { 'x-request-id': value } } : {},
      );
      return res.headers.get('x-request-id');
    };
    expect(await sent('trace-42.a:b_C')).toBe('trace-42.a:b_C');
    expect(await sent()).toMatch(UUID);
    for (const odd of ['has spaces', 'x'.repeat(129), 'semi;colon', '{"json":1}']) {
      expect(await sent(odd)).toMatch(UUID);
    }
    // Also on an answer fastify's router gives before any route runs.
    const bad = await fetch(`${env.server.url}/${'x'.repeat(6000)}`, {
      headers: { 'x-request-id': 'r-414' },
    });
    expect(bad.headers.get('x-request-id')).toBe('r-414');
  });
});

describe('a pay', () => {
  it('logs the use case and each provider call with the request id, the key and Stripe request-id', async () => {
    const client = await clientWithRequestId('pay-trace-1');
    const order = await orderFor(client);
    const paid = await client.orders.pay.mutate({ orderId: order.id });
    expect(paid.outcome).toBe('charged');
    const key = await attemptKey(order.id);
    await expect.poll(() => linesOf('pay-trace-1').some((l) => l.procedure === 'orders.pay')).toBe(true);

    const mine = linesOf('pay-trace-1');
    expect(mine.find((l) => l.msg === 'stripe paymentIntents.create')).toMatchObject({
      component: 'payments',
      orderId: order.id,
      idempotencyKey: key,
    });
    const [call, ...more] = stripeLines(key);
    expect(more).toHaveLength(0);
    expect(call).toMatchObject({
      reqId: 'pay-trace-1',
      msg: 'stripe request',
      method: 'POST',
      path: '/v1/payment_intents',
      status: 200,
      try: 1,
      stripeRequestId: expect.stringMatching(/^req_/),
    });
    // The id Stripe support would look up: the one its event names for this PaymentIntent.
    const event = env.emulator
      .events()
      .find((e) => e.type === 'payment_intent.succeeded' && e.data.object.id === paymentIntentOf(paid));
    expect(call!.stripeRequestId).toBe(event?.request.id);
    // Nothing this request caused went out without its id.
    const caused = logs.records().filter((l) => l.orderId === order.id || l.idempotencyKey === key);
    expect(caused.length).toBeGreaterThanOrEqual(3);
    for (const line of caused) expect(line.reqId).toBe('pay-trace-1');
  });

  it('a decline: the provider call is logged with its status and Stripe request-id', async () => {
    const client = await clientWithRequestId('pay-trace-declined');
    const order = await orderFor(client, 'pm_card_chargeDeclined');
    await trpcError(client.orders.pay.mutate({ orderId: order.id }));
    expect(stripeLines(await attemptKey(order.id))).toEqual([
      expect.objectContaining({
        reqId: 'pay-trace-declined',
        status: 402,
        stripeRequestId: expect.stringMatching(/^req_/),
      }),
    ]);
  });

  it('a provider 5xx, then a lost connection: every try is logged, each with what Stripe said', async () => {
    env.emulator.setFaults([
      { fault: 'error_before', operation: 'payment_intents.create', status: 503, nth: 1 },
      { fault: 'reset_after', operation: 'payment_intents.create', nth: 2 },
    ]);
    try {
      const client = await clientWithRequestId('pay-trace-faults');
      const order = await client.orders.create.mutate({
        amount: 500,
        currency: 'usd',
        paymentMethodId: 'pm_card_visa',
      });
      const paid = await client.orders.pay.mutate({ orderId: order.id });
      expect(paid.outcome).toBe('charged');
      const tries = stripeLines(await attemptKey(order.id));
      expect(tries.map((l: Line) => [l.try, l.status ?? l.error])).toEqual([
        [1, 503],
        [2, expect.stringMatching(/ECONNRESET|socket hang up|Error/)],
        [3, 200],
      ]);
      expect(tries[0]).toMatchObject({ level: 40, stripeRequestId: expect.stringMatching(/^req_/) });
      expect(tries[1]).toMatchObject({ level: 40, msg: 'stripe request failed' });
      expect(tries[1]!.stripeRequestId).toBeUndefined();
      for (const line of tries) expect(line.reqId).toBe('pay-trace-faults');
    } finally {
      env.emulator.clearFaults();
    }
  });
});

describe('work no caller asked for', () => {
  it("a webhook event's lines and provider calls carry its Stripe event id", async () => {
    const client = await clientWithRequestId('pay-before-webhook');
    const order = await orderFor(client);
    const paid = await client.orders.pay.mutate({ orderId: order.id });
    const event = env.emulator
      .events()
      .find((e) => e.type === 'payment_intent.succeeded' && e.data.object.id === paymentIntentOf(paid))!;
    const res = await deliverSigned(env.server.url, event, WEBHOOK_SECRET);
    expect(res.status).toBe(200);
    const reqId = res.headers.get('x-request-id')!;
    // The webhook re-reads the PaymentIntent: that provider call names the event it serves.
    await expect
      .poll(() => linesOf(reqId).filter((l) => l.component === 'stripe' && l.method === 'GET'))
      .toEqual([
        expect.objectContaining({ eventId: event.id, stripeRequestId: expect.stringMatching(/^req_/) }),
      ]);
  });
});

describe('a recovery pass', () => {
  const recoveryLogs = captureLogs();
  let recovering: InProcess;
  beforeAll(async () => {
    // Every 100 ms, no grace, 1 s leases; a provider call gives up after 1 s, so a slower charge is
    // left unknown (and the first passes, during the slow charge, find it still unknown too).
    recovering = await startInProcess(
      {
        LOG_LEVEL: 'info',
        CHARGEONCE_RECOVERY_INTERVAL_MS: '100',
        CHARGEONCE_RECOVERY_GRACE_MS: '0',
        CHARGEONCE_RECOVERY_LEASE_MS: '1000',
        STRIPE_TIMEOUT_MS: '1000',
        STRIPE_MAX_NETWORK_RETRIES: '0',
      },
      { logStream: recoveryLogs.stream },
    );
  });
  afterAll(async () => {
    await recovering?.stop();
  });

  it('logs under a run id of its own, and counts the pass apart from what it settled', async () => {
    const user = await recovering.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 500,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await recovering.payWithLostResponse(user.client, order.id, 2500);
    const metric = async (series: string) => {
      const text = await (await fetch(`${recovering.server.url}/metrics`)).text();
      const line = text.split('\n').find((l) => l.startsWith(`${series} `));
      return line ? Number(line.split(' ')[1]) : 0;
    };
    await expect
      .poll(() => metric('chargeonce_recovery_outcomes_total{kind="attempt",outcome="succeeded"}'), {
        timeout: 20_000,
      })
      .toBe(1);
    expect(await metric('chargeonce_recovery_passes_total{result="ok"}')).toBeGreaterThan(0);
    expect(await metric('chargeonce_recovery_passes_total{result="failed"}')).toBe(0);

    const records = recoveryLogs.records();
    const recovered = records.find((l) => l.msg === 'attempt recovered' && l.orderId === order.id);
    expect(recovered).toMatchObject({ job: 'recovery', runId: expect.stringMatching(UUID) });
    expect(recovered!.reqId).toBeUndefined();
    // Its provider call is logged under the same run.
    const key = recovered!.idempotencyKey as string;
    const calls = records.filter((l) => l.component === 'stripe' && l.runId === recovered!.runId);
    expect(calls).toContainEqual(
      expect.objectContaining({ idempotencyKey: key, stripeRequestId: expect.stringMatching(/^req_/) }),
    );
    // The pay that lost its answer: its lines carry its request's id, not a run's.
    const payCall = records.find((l) => l.component === 'stripe' && l.idempotencyKey === key && l.reqId);
    expect(payCall?.runId).toBeUndefined();
  });
});
