import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type ChargeonceClient, createChargeonceClient } from '@chargeonce/client';
import { type Browser, chromium } from 'playwright-core';
import { runScript, type ServerProcess, spawnServer } from '../../support/processes';
import { CHROMIUM, CHROMIUM_ARGS } from './chromium';

export interface EmulatedIntent {
  id: string;
  status: string;
  /** `manual` for an order to capture later. */
  capture_method?: string;
  cancellation_reason?: string | null;
  metadata: Record<string, string>;
}

/** A refund in the emulator's ledger (`GET /_emulator/refunds`). */
export interface EmulatedRefund {
  id: string;
  amount: number;
  status: string;
  payment_intent: string;
  reason: string | null;
  metadata: Record<string, string>;
  idempotency_key: string | null;
}

export interface BrowserStack {
  /** The web client's URL as the server printed it (`web: ...`). */
  webUrl: string;
  emulatorUrl: string;
  /** The demo user's token; every test signs in as the demo user. */
  token: string;
  server: ServerProcess;
  browser: Browser;
  /** Typed API client for the demo user, to set up orders and read their state. */
  api: ChargeonceClient;
  /** PaymentIntents the emulator holds for an order (its metadata.order_id). */
  paymentIntentsFor(orderId: string): Promise<EmulatedIntent[]>;
  /** Refunds the emulator made for an order (its metadata.order_id), in creation order. */
  refundsFor(orderId: string): Promise<EmulatedRefund[]>;
  /** Provider latency for every PaymentIntent call from now on. */
  setProviderLatency(ms: number): Promise<void>;
  /** How long a `pm_card_pendingRefund` refund stays pending at the provider (default 1000 ms). */
  setRefundDelay(ms: number): Promise<void>;
  /**
   * The merchant's back office: a service token with `orders:capture` (which no customer has),
   * issued by `pnpm admin` against this server's database, as an operator would.
   */
  merchant(): Promise<ChargeonceClient>;
  /**
   * An operator as the README makes one: `pnpm admin` creates a user, grants it the operator
   * scopes and issues its token (sign a tab in with it: `openTab(..., { token })`).
   */
  operator(): Promise<{ userId: string; token: string; api: ChargeonceClient }>;
  /** The emulator's fault plan (`POST /_emulator/faults`): e.g. a provider outage. */
  setFaults(rules: object[]): Promise<void>;
  stop(): Promise<void>;
}

export interface BrowserStackOptions {
  /** Added to the server's environment (e.g. short recovery and challenge timeouts). */
  env?: Record<string, string>;
}

/**
 * `pnpm start` as a person runs it (one server process with embedded PostgreSQL, the in-process
 * emulator and the built web client), in a private data dir on a free port, plus one Chromium.
 */
export async function startBrowserStack(options: BrowserStackOptions = {}): Promise<BrowserStack> {
  const dataDir = mkdtempSync(join(tmpdir(), 'chargeonce-browser-'));
  const server = await spawnServer({
    CHARGEONCE_DATA_DIR: dataDir,
    PORT: '0',
    DATABASE_URL: '',
    STRIPE_SECRET_KEY: '',
    STRIPE_API_BASE: '',
    CHARGEONCE_DEMO: 'on',
    LOG_LEVEL: 'warn',
    ...options.env,
  });
  let browser: Browser | undefined;
  const stop = async () => {
    await browser?.close();
    await server.stop('SIGTERM');
    rmSync(dataDir, { recursive: true, force: true });
  };
  try {
    const webLine = server.output.find((line) => line.startsWith('web: '));
    if (!webLine)
      throw new Error(`the server printed no web line (is apps/web built?):\n${server.output.join('\n')}`);
    const webUrl = webLine.slice('web: '.length).trim();
    const emulatorUrl = server.printed['stripe emulator']!;
    const token = server.printed['demo token']!;
    browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });

    const admin = async (path: string, init?: RequestInit) => {
      const res = await fetch(`${emulatorUrl}/_emulator/${path}`, init);
      if (!res.ok) throw new Error(`emulator ${path}: ${res.status} ${await res.text()}`);
      return res.json() as Promise<unknown>;
    };
    const configure = async (patch: Record<string, number>) => {
      await admin('config', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(patch),
      });
    };
    /** `pnpm admin -- ARGS --json` against this server's database: its last line, parsed. */
    const adminCli = async (args: string[]) => {
      const run = await runScript('apps/server/src/cli/admin.ts', ['--', ...args, '--json'], {
        CHARGEONCE_DATA_DIR: dataDir,
        DATABASE_URL: '',
      });
      if (run.code !== 0) throw new Error(`pnpm admin ${args.join(' ')}: ${run.code}\n${run.stderr}`);
      return JSON.parse(run.lastLine);
    };
    const ledgerFor = async <T>(ledger: string, orderId: string) => {
      const query = new URLSearchParams({ 'metadata[order_id]': orderId });
      return ((await admin(`${ledger}?${query}`)) as { data: T[] }).data;
    };
    return {
      webUrl,
      emulatorUrl,
      token,
      server,
      browser,
      api: createChargeonceClient({ url: server.url, token }),
      paymentIntentsFor: (orderId) => ledgerFor<EmulatedIntent>('payment_intents', orderId),
      refundsFor: (orderId) => ledgerFor<EmulatedRefund>('refunds', orderId),
      setProviderLatency: (ms) => configure({ latencyMs: ms }),
      setRefundDelay: (ms) => configure({ refundDelayMs: ms }),
      setFaults: async (rules) => {
        await admin('faults', {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ rules }),
        });
      },
      operator: async () => {
        const { user } = await adminCli(['users', 'create', '--name', 'Operator']);
        await adminCli(['users', 'grant-operator', user.id]);
        const { token: operatorToken } = await adminCli(['tokens', 'create', '--user', user.id]);
        return {
          userId: user.id,
          token: operatorToken,
          api: createChargeonceClient({ url: server.url, token: operatorToken }),
        };
      },
      merchant: async () => {
        const { token: serviceToken } = await adminCli([
          'tokens',
          'create',
          '--service',
          'shop-back-office',
          '--scopes',
          'orders:read,orders:capture',
        ]);
        return createChargeonceClient({ url: server.url, token: serviceToken });
      },
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
