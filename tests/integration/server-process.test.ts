import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChargeonceClient } from '@chargeonce/client';
import { startTestDatabase } from '@chargeonce/db/testing';
import postgres from 'postgres';
import { afterAll, describe, expect, it } from 'vitest';
import { runScript, SERVER_MAIN, spawnServer } from '../support/processes';

/** `pnpm start` with nothing configured: only a private data dir and any free port. */
const unconfigured = (dataDir: string) => ({
  CHARGEONCE_DATA_DIR: dataDir,
  PORT: '0',
  DATABASE_URL: '',
  STRIPE_SECRET_KEY: '',
  STRIPE_API_BASE: '',
  LOG_LEVEL: 'warn',
});

const dataDirs: string[] = [];
afterAll(() => {
  for (const dir of dataDirs) rmSync(dir, { recursive: true, force: true });
});

describe('the server process with nothing configured', () => {
  it('starts embedded PostgreSQL and the emulator, serves, survives restarts and a hard kill', async () => {
    const dataDir = mkdtempSync(join(tmpdir(), 'chargeonce-start-'));
    dataDirs.push(dataDir);

    const first = await spawnServer(unconfigured(dataDir));
    expect(first.printed['stripe emulator']).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    const token = first.printed['demo token'];
    expect(token).toBeTruthy();
    expect((await fetch(`${first.url}/healthz`)).status).toBe(200);

    const client = createChargeonceClient({ url: first.url, token: token! });
    const order = await client.orders.create.mutate({
      amount: 4200,
      currency: 'usd',
      paymentMethodId: 'pm_card_visa',
    });
    const paid = await client.orders.pay.mutate({ orderId: order.id });
    expect(paid.outcome).toBe('charged');
    // Graceful shutdown: drains, closes the pool, stops PostgreSQL, exits 0.
    expect(await first.stop('SIGTERM')).toBe(0);

    const second = await spawnServer(unconfigured(dataDir));
    expect(second.printed['demo token']).toBe(token);
    expect((await fetch(`${second.url}/healthz`)).status).toBe(200);
    const again = createChargeonceClient({ url: second.url, token: token! });
    expect((await again.orders.get.query({ orderId: order.id })).order.status).toBe('paid');
    // Hard kill: PostgreSQL is left running with its postmaster.pid; the next start must recover.
    expect(await second.stop('SIGKILL')).toBe('SIGKILL');

    const third = await spawnServer(unconfigured(dataDir));
    expect((await fetch(`${third.url}/healthz`)).status).toBe(200);
    const afterKill = createChargeonceClient({ url: third.url, token: token! });
    expect((await afterKill.orders.get.query({ orderId: order.id })).order).toMatchObject({
      status: 'paid',
      paymentIntentId: paid.outcome === 'charged' ? paid.paymentIntentId : 'missing',
    });
    expect(await third.stop('SIGINT')).toBe(0);
  });

  it('refuses to start when a migration fails', async () => {
    const database = await startTestDatabase();
    const admin = postgres(database.url, { max: 1, onnotice: () => {} });
    try {
      await admin`create database broken`;
      const brokenUrl = database.url.replace(/\/[^/?]+(\?|$)/, '/broken$1');
      const broken = postgres(brokenUrl, { max: 1, onnotice: () => {} });
      // An object in the way of the first migration.
      await broken`create type order_status as enum ('something_else')`;
      await broken.end();

      const run = await runScript(SERVER_MAIN, [], {
        DATABASE_URL: brokenUrl,
        STRIPE_SECRET_KEY: '',
        CHARGEONCE_STRIPE: 'emulator',
        PORT: '0',
        LOG_LEVEL: 'warn',
      });
      const output = run.stdout + run.stderr;
      expect(run.code).toBe(1);
      expect(output).toMatch(/failed to start/);
      expect(output).not.toMatch(/^server: /m);
    } finally {
      await admin.end();
      await database.stop();
    }
  });

  it('a real database without a Stripe key: refuses to start and names the variables to set', async () => {
    const run = await runScript(SERVER_MAIN, [], {
      DATABASE_URL: 'postgres://u:p@127.0.0.1:1/never',
      STRIPE_SECRET_KEY: '',
      PORT: '0',
    });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/STRIPE_SECRET_KEY/);
    expect(run.stderr).toMatch(/CHARGEONCE_STRIPE=emulator/);
    expect(run.stdout + run.stderr).not.toMatch(/^server: /m);
  });

  it('rejects invalid configuration with a clear message naming the variable, not its value', async () => {
    const run = await runScript(SERVER_MAIN, [], {
      STRIPE_SECRET_KEY: 'pk_live_secretvalue123',
      PORT: 'eighty',
    });
    const output = run.stdout + run.stderr;
    expect(run.code).toBe(1);
    expect(output).toMatch(/STRIPE_SECRET_KEY/);
    expect(output).toMatch(/PORT/);
    expect(output).not.toMatch(/secretvalue123/);
  });
});
