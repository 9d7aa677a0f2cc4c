import { mkdtempSync, rmSync } from 'node:fs';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type InProcess, startInProcess } from '../support/in-process';

/** What the HTTP edge refuses, and how briefly: bad input, guessing tokens, relayed demo-token asks. */
let env: InProcess;
let limited: InProcess;
const dataDir = mkdtempSync(join(tmpdir(), 'chargeonce-trust-'));
beforeAll(async () => {
  env = await startInProcess({ CHARGEONCE_DEMO: 'on', CHARGEONCE_DATA_DIR: dataDir, METRICS_PORT: '0' });
  limited = await startInProcess({ CHARGEONCE_AUTH_FAILURES_PER_MINUTE: '3' });
});
afterAll(async () => {
  await env?.stop();
  await limited?.stop();
  rmSync(dataDir, { recursive: true, force: true });
});

const post = (base: InProcess, path: string, body: string, token?: string) =>
  fetch(`${base.server.url}/trpc/${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body,
  });

describe('bad input', () => {
  it('a validation error is a sentence naming the field and the rule, with the structured issues kept', async () => {
    const user = await env.newUser();
    const res = await post(
      env,
      'orders.create',
      JSON.stringify({ amount: 100, currency: 'usd', paymentMethodId: 'x' }),
      user.token,
    );
    expect(res.status).toBe(400);
    const { error } = (await res.json()) as { error: { message: string; data: { issues: unknown[] } } };
    expect(error.message).toBe('paymentMethodId must look like pm_...');
    expect(error.data.issues).toEqual([
      { path: 'paymentMethodId', message: 'paymentMethodId must look like pm_...' },
    ]);
  });

  it('an unknown procedure or an oversized batch is answered briefly, without echoing what was sent', async () => {
    const user = await env.newUser();
    const longPath = `orders.${'x'.repeat(3000)}`;
    const unknown = await post(env, longPath, '{}', user.token);
    expect(unknown.status).toBe(404);
    const text = await unknown.text();
    expect(text).not.toContain('xxxxxxxxxx');
    expect(text.length).toBeLessThan(1000);

    const paths = (n: number) => Array.from({ length: n }, () => 'orders.list').join(',');
    const input = (n: number) =>
      encodeURIComponent(JSON.stringify(Object.fromEntries(Array.from({ length: n }, (_, i) => [i, {}]))));
    const get = (n: number) =>
      fetch(`${env.server.url}/trpc/${paths(n)}?batch=1&input=${input(n)}`, {
        headers: { authorization: `Bearer ${user.token}` },
      });
    expect((await get(20)).status).toBe(200);
    const tooMany = await get(21);
    expect(tooMany.status).toBe(400);
    const body = await tooMany.text();
    expect(body).toMatch(/Batch call exceeds maximum size/);
    expect(body.length).toBeLessThan(4000);
  });
});

describe('guessing tokens', () => {
  it('after a few failed authentications an address is answered 429, before any token lookup', async () => {
    const user = await limited.newUser();
    expect((await post(limited, 'orders.create', '{}', user.token)).status).toBe(400);
    for (let i = 0; i < 3; i++)
      expect((await post(limited, 'orders.create', '{}', `co_guess_${i}`)).status).toBe(401);
    const blocked = await post(limited, 'orders.create', '{}', 'co_guess_again');
    expect(blocked.status).toBe(429);
    expect(Number(blocked.headers.get('retry-after'))).toBeGreaterThan(0);
    // The whole address waits out the minute, valid tokens included: guesses cannot be interleaved.
    expect((await post(limited, 'orders.create', '{}', user.token)).status).toBe(429);
  });

  it('every refused call of a batch counts, whatever the batch answers; requests without a credential pass', async () => {
    const batched = await startInProcess({ CHARGEONCE_AUTH_FAILURES_PER_MINUTE: '3' });
    try {
      // One refused call next to an unknown path: the batch answers 207, the refusal still counts.
      const guess = () =>
        fetch(`${batched.server.url}/trpc/orders.list,orders.nope?batch=1&input=%7B%7D`, {
          headers: { authorization: 'Bearer co_guess' },
        });
      const statuses = [];
      for (let i = 0; i < 4; i++) statuses.push((await guess()).status);
      expect(statuses.slice(0, 3).every((s) => s !== 429)).toBe(true);
      expect(statuses[3]).toBe(429);
      // Health checks and anything else without a credential are never blocked.
      expect((await fetch(`${batched.server.url}/healthz`)).status).toBe(200);
      expect((await fetch(`${batched.server.url}/readyz`)).status).toBe(200);
    } finally {
      await batched.stop();
    }
  });
});

describe('the demo token', () => {
  /** GET /demo-token with exactly these headers (fetch would not let us set Host). */
  const ask = (headers: Record<string, string>) =>
    new Promise<{ status: number; json(): Promise<unknown> }>((resolve, reject) => {
      const url = new URL('/demo-token', env.server.url);
      const req = request(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => {
          body += chunk;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: async () => JSON.parse(body) }));
      });
      req.on('error', reject);
      req.end();
    });
  it('is given to a request from this machine', async () => {
    const res = await ask({});
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ token: expect.stringMatching(/^co_/) });
  });
  it('is not given to a request a proxy on this machine relays', async () => {
    const relayed: Record<string, string>[] = [
      { 'x-forwarded-for': '203.0.113.9' },
      { forwarded: 'for=203.0.113.9' },
      { 'x-real-ip': '203.0.113.9' },
      { host: 'shop.example.com' },
    ];
    for (const headers of relayed) {
      expect((await ask(headers)).status, JSON.stringify(headers)).toBe(404);
    }
  });
});

describe('metrics', () => {
  it('with METRICS_PORT, /metrics is served on its own listener and not on the API port', async () => {
    expect(env.server.metricsUrl).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const res = await fetch(env.server.metricsUrl!);
    expect(res.status).toBe(200);
    expect(await res.text()).toContain('chargeonce_pay_outcomes_total');
    expect((await fetch(`${env.server.url}/metrics`)).status).toBe(404);
  });
});
