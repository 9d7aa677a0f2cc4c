import { readFileSync } from 'node:fs';
import { EMULATOR_SECRET_KEY } from '@chargeonce/stripe-emulator';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { trpcError } from '../support/errors';
import { type InProcess, startInProcess } from '../support/in-process';
import { captureLogs } from '../support/logs';
import { deliverSigned } from '../support/webhooks';

/** Metrics, health and logs of a running server, as an operator sees them. */
/** Not a real secret: the signing key of this test's webhook endpoint. */
const WEBHOOK_SECRET = 'whsec_observability_test';
const serverVersion = (
  JSON.parse(readFileSync(new URL('../../apps/server/package.json', import.meta.url), 'utf8')) as {
    version: string;
  }
).version;
let env: InProcess;
const captured = captureLogs();
const logLines = captured.lines;
beforeAll(async () => {
  // The recovery worker stays off: it would re-drive the fake stuck attempt below.
  env = await startInProcess(
    {
      LOG_LEVEL: 'info',
      CHARGEONCE_RECOVERY_INTERVAL_MS: '0',
      STRIPE_WEBHOOK_SECRET: WEBHOOK_SECRET,
      CHARGEONCE_BUILD_COMMIT: 'abc123-test',
    },
    { logStream: captured.stream },
  );
});
afterAll(async () => {
  await env?.stop();
});

const logs = captured.records;
const metricsText = async () => (await fetch(`${env.server.url}/metrics`)).text();
const sample = (text: string, series: string) =>
  Number(
    text
      .split('\n')
      .find((l) => l.startsWith(`${series} `))
      ?.split(' ')[1] ?? Number.NaN,
  );

describe('operations', () => {
  let token = '';
  beforeAll(async () => {
    const user = await env.newUser('ops');
    token = user.token;
    const paid = await user.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await user.client.orders.pay.mutate({ orderId: paid.id });
    await user.client.orders.pay.mutate({ orderId: paid.id });
    const declined = await user.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_chargeDeclined',
    });
    await trpcError(user.client.orders.pay.mutate({ orderId: declined.id }));
  });

  it('/metrics exposes the chargeonce_ metrics with what happened', async () => {
    // HTTP durations are recorded after the response is sent: wait for the last one to land.
    const httpPays = (t: string) =>
      sample(t, 'chargeonce_http_request_duration_seconds_count{procedure="orders.pay",code="402"}');
    await expect
      .poll(async () => httpPays(await metricsText()) === 1, { message: 'the HTTP metrics of the pays' })
      .toBe(true);
    const text = await metricsText();
    expect(sample(text, 'chargeonce_pay_outcomes_total{outcome="charged"}')).toBe(1);
    expect(sample(text, 'chargeonce_pay_outcomes_total{outcome="already_paid"}')).toBe(1);
    expect(sample(text, 'chargeonce_pay_outcomes_total{outcome="declined"}')).toBe(1);
    expect(
      sample(
        text,
        'chargeonce_stripe_request_duration_seconds_count{operation="payment_intents.create",result="succeeded"}',
      ),
    ).toBe(1);
    expect(
      sample(
        text,
        'chargeonce_stripe_request_duration_seconds_count{operation="payment_intents.create",result="declined"}',
      ),
    ).toBe(1);
    expect(
      sample(text, 'chargeonce_http_request_duration_seconds_count{procedure="orders.pay",code="200"}'),
    ).toBe(2);
    expect(
      sample(text, 'chargeonce_http_request_duration_seconds_count{procedure="orders.pay",code="402"}'),
    ).toBe(1);
    expect(sample(text, 'chargeonce_attempts_processing')).toBe(0);
    expect(sample(text, 'chargeonce_attempt_processing_oldest_age_seconds')).toBe(0);
    for (const name of [
      'chargeonce_claim_conflicts_total',
      'chargeonce_claim_retries_total',
      'chargeonce_recovery_passes_total',
      'chargeonce_recovery_outcomes_total',
      'chargeonce_webhook_events_total',
      'chargeonce_reconciliation_findings',
    ]) {
      expect(text).toContain(`# HELP ${name} `);
    }
  });

  it('the default process metrics keep their standard names, and build_info says which build runs', async () => {
    const text = await metricsText();
    for (const name of [
      'process_cpu_user_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_seconds',
      'nodejs_heap_size_used_bytes',
    ]) {
      expect(text).toContain(`# HELP ${name} `);
    }
    expect(text).not.toMatch(/^chargeonce_(process|nodejs)_/m);
    const info = text.split('\n').filter((l) => l.startsWith('chargeonce_build_info{'));
    expect(info).toHaveLength(1);
    expect(info[0]).toBe(
      `chargeonce_build_info{version="${serverVersion}",node="${process.version}",commit="abc123-test"} 1`,
    );
    // Recovery is off in this server: no pass yet, both results exported at 0.
    expect(sample(text, 'chargeonce_recovery_passes_total{result="ok"}')).toBe(0);
    expect(sample(text, 'chargeonce_recovery_passes_total{result="failed"}')).toBe(0);
  });

  it('an unknown outcome shows in the processing gauges', async () => {
    const user = await env.newUser();
    const order = await user.client.orders.create.mutate({
      amount: 100,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    await env.db.sql`
      insert into payment_attempts (order_id, claim_version, idempotency_key, amount, currency, payment_method_id,
                                    claimed_by, claimed_at)
      values (${order.id}, 2, 'stuck-key', 100, 'usd', 'pm_card_visa', 'test', now() - interval '90 seconds')`;
    const text = await metricsText();
    expect(sample(text, 'chargeonce_attempts_processing')).toBe(1);
    expect(sample(text, 'chargeonce_attempt_processing_oldest_age_seconds')).toBeGreaterThanOrEqual(90);
    await env.db.sql`delete from payment_attempts where idempotency_key = 'stuck-key'`;
  });

  it('logs one JSON line per request with request id, procedure, user, order, outcome and duration', async () => {
    // The line is written after the response is sent: wait for it rather than race it.
    const payLines = () => logs().filter((l) => l.msg === 'request' && l.procedure === 'orders.pay');
    await expect.poll(() => payLines().length >= 3, { message: 'three orders.pay log lines' }).toBe(true);
    const requests = payLines();
    expect(requests).toHaveLength(3);
    expect(requests.map((l) => l.outcome).sort()).toEqual(['already_paid', 'charged', 'payment_declined']);
    for (const line of requests) {
      expect(line).toMatchObject({
        reqId: expect.any(String),
        userId: expect.any(String),
        orderId: expect.any(String),
      });
      expect(line.durationMs).toEqual(expect.any(Number));
    }
  });

  it('logs the idempotency key of every provider call', () => {
    const calls = logs().filter((l) => l.msg === 'stripe paymentIntents.create');
    expect(calls).toHaveLength(2);
    for (const call of calls) expect(call.idempotencyKey).toMatch(/^chargeonce-[0-9a-f-]{36}-v\d+$/);
  });

  it('never logs tokens or the Stripe secret key', async () => {
    // Also a request whose bad token would be tempting to log.
    await fetch(`${env.server.url}/trpc/orders.list`, {
      headers: { authorization: 'Bearer co_wrong_token_value' },
    });
    // Its log line is written after the response: wait for it, or the check below proves nothing.
    await expect
      .poll(() => logs().some((l) => l.msg === 'request' && l.statusCode === 401), {
        message: 'the 401 request log line',
      })
      .toBe(true);
    const all = logLines.join('\n');
    expect(all).not.toContain(token);
    expect(all).not.toContain('co_wrong_token_value');
    expect(all).not.toContain(EMULATOR_SECRET_KEY);
  });

  it('/healthz is liveness; /readyz is 200 when migrated and 503 with a reason when not', async () => {
    expect((await fetch(`${env.server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${env.server.url}/readyz`);
    expect(ready.status).toBe(200);
    expect(await ready.json()).toEqual({ ok: true });

    const [last] = await env.db.sql`select * from drizzle.__drizzle_migrations order by id desc limit 1`;
    await env.db.sql`delete from drizzle.__drizzle_migrations where id = ${last!.id}`;
    try {
      const notReady = await fetch(`${env.server.url}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toEqual({ ok: false, reason: '1 migration(s) not applied' });
    } finally {
      await env.db.sql`insert into drizzle.__drizzle_migrations ${env.db.sql(last!)}`;
    }
    expect((await fetch(`${env.server.url}/readyz`)).status).toBe(200);
  });
});

// After 'operations': its pays must not count in the log-line tests there.
describe('hold and challenge gauges', () => {
  it('an open authorization and an open 3-D Secure challenge show in their gauges until they settle', async () => {
    const user = await env.newUser();
    const before = await metricsText();
    const held = await user.client.orders.create.mutate({
      amount: 700,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
      captureMethod: 'manual',
    });
    await user.client.orders.pay.mutate({ orderId: held.id });
    const challenged = await user.client.orders.create.mutate({
      amount: 700,
      currency: 'usd',
      paymentMethodId: 'pm_card_threeDSecure2Required',
    });
    await user.client.orders.pay.mutate({ orderId: challenged.id });
    const during = await metricsText();
    expect(sample(during, 'chargeonce_authorizations_open')).toBe(
      sample(before, 'chargeonce_authorizations_open') + 1,
    );
    expect(sample(during, 'chargeonce_challenges_open')).toBe(
      sample(before, 'chargeonce_challenges_open') + 1,
    );
    expect(sample(during, 'chargeonce_authorization_open_oldest_age_seconds')).toBeGreaterThanOrEqual(0);
    env.emulator.failChallenge(env.paymentIntentsFor(challenged.id)[0]!.id);
    await user.client.orders.get.query({ orderId: challenged.id });
    const merchant = await env.newService(['orders:capture']);
    await merchant.client.orders.void.mutate({ orderId: held.id });
    const after = await metricsText();
    expect(sample(after, 'chargeonce_authorizations_open')).toBe(
      sample(before, 'chargeonce_authorizations_open'),
    );
    expect(sample(after, 'chargeonce_challenges_open')).toBe(sample(before, 'chargeonce_challenges_open'));
  });
});

describe('when the database goes away', () => {
  // Last in this file: it stops the database under the running server.
  it('/healthz still answers, /readyz says why not ready, /metrics still scrapes', async () => {
    await env.database.stop();
    expect((await fetch(`${env.server.url}/healthz`)).status).toBe(200);
    const ready = await fetch(`${env.server.url}/readyz`);
    expect(ready.status).toBe(503);
    expect(await ready.json()).toMatchObject({ ok: false, reason: expect.stringMatching(/database/) });
    const metrics = await fetch(`${env.server.url}/metrics`);
    expect(metrics.status).toBe(200);
    const text = await metrics.text();
    // prom-client writes NaN as `Nan`; Prometheus parses it either way.
    expect(text).toMatch(/^chargeonce_attempts_processing nan$/im);
    expect(text).toContain('chargeonce_pay_outcomes_total{outcome="charged"} 1');
  });

  it('a webhook delivery is answered 503 with Retry-After (Stripe delivers it again), not 500', async () => {
    const res = await deliverSigned(
      env.server.url,
      {
        id: 'evt_db_down',
        object: 'event',
        type: 'payment_intent.succeeded',
        created: Math.floor(Date.now() / 1000),
        data: { object: { id: 'pi_db_down', object: 'payment_intent', metadata: {} } },
      },
      WEBHOOK_SECRET,
    );
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
  });

  it('every call is answered a retryable 503 DATABASE_UNAVAILABLE with a retry hint, never a 500', async () => {
    // The database is down (stopped above).
    const user = { token: 'co_any_token_while_the_database_is_down' };
    const calls = [
      fetch(`${env.server.url}/trpc/orders.list`, { headers: { authorization: `Bearer ${user.token}` } }),
      fetch(`${env.server.url}/trpc/orders.pay`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${user.token}`,
          'content-type': 'application/json',
          'idempotency-key': 'k-db-down',
        },
        body: JSON.stringify({ orderId: '00000000-0000-4000-8000-000000000001' }),
      }),
    ];
    for (const res of await Promise.all(calls)) {
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('1');
      const body = (await res.json()) as { error: { message: string; data: Record<string, unknown> } };
      expect(body.error.data).toMatchObject({
        code: 'SERVICE_UNAVAILABLE',
        domainCode: 'DATABASE_UNAVAILABLE',
        retryAfterMs: 1000,
      });
      expect(body.error.message).toMatch(/Retry/);
    }
  });
});
