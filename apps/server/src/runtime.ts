import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTokenAuthenticator } from '@chargeonce/api';
import {
  createDb,
  createUserWithToken,
  type Database,
  findUserByToken,
  generateToken,
  migrate,
} from '@chargeonce/db';
import { startEmbeddedPostgres } from '@chargeonce/db/embedded';
import {
  createStripeGateway,
  DEFAULT_PAY_POLICY,
  type PaymentGateway,
  type PaymentsDeps,
} from '@chargeonce/payments';
import { startStripeEmulator } from '@chargeonce/stripe-emulator';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app';
import type { Config } from './config';

/** The key the in-process emulator accepts; not a secret (the emulator is local and fake). */
export const EMULATOR_SECRET_KEY = 'sk_test_chargeonce_emulator';

export interface Running {
  url: string;
  app: FastifyInstance;
  db: Database;
  /** Set when the in-process Stripe emulator is running. */
  emulatorUrl: string | undefined;
  /** Set when the demo user was seeded. */
  demoToken: string | undefined;
  /** Drains in-flight requests, then closes the pool, the emulator and the embedded PostgreSQL. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Replace the Stripe gateway (tests). */
  gateway?: PaymentGateway;
}

/**
 * Starts everything the configuration asks for. On any failure (a migration included) it stops
 * what it started and rethrows: the server never serves from an unmigrated database.
 */
export async function startChargeonce(config: Config, options: StartOptions = {}): Promise<Running> {
  const cleanups: Array<() => Promise<void>> = [];
  const closeAll = async () => {
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch(() => {});
    }
  };
  try {
    const startEmbedded = async () => {
      const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), persistent: true });
      cleanups.push(() => pg.stop());
      return pg.url;
    };
    const databaseUrl = config.databaseUrl ?? (await startEmbedded());
    await migrate(databaseUrl);

    let stripe = config.stripe;
    let emulatorUrl: string | undefined;
    if (!stripe && !options.gateway) {
      const emulator = await startStripeEmulator({ port: config.emulatorPort });
      cleanups.push(() => emulator.close());
      emulatorUrl = emulator.url;
      stripe = { secretKey: EMULATOR_SECRET_KEY, apiBase: emulator.url };
    }
    const gateway =
      options.gateway ??
      createStripeGateway({
        secretKey: stripe!.secretKey,
        apiBase: stripe!.apiBase,
        timeoutMs: config.stripeTimeoutMs,
        maxNetworkRetries: config.stripeMaxNetworkRetries,
      });

    const handle = createDb(databaseUrl, { max: config.databasePoolMax, applicationName: config.instanceId });
    cleanups.push(() => handle.close());

    const demoToken = config.demoUser ? await ensureDemoUser(handle.db, config.dataDir) : undefined;

    const payments: PaymentsDeps = {
      db: handle.db,
      gateway,
      instanceId: config.instanceId,
      policy: { ...DEFAULT_PAY_POLICY, deadlineMs: config.payDeadlineMs },
    };
    const app = await buildServer(
      { db: handle.db, auth: createTokenAuthenticator(handle.db), payments },
      { logLevel: config.logLevel },
    );
    // Provider calls are logged (with their idempotency key) through the server's logger.
    payments.logger = app.log.child({ component: 'payments' });
    await app.listen({ port: config.port, host: config.host });
    cleanups.push(() => app.close());
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    return {
      url: `http://${config.host}:${port}`,
      app,
      db: handle.db,
      emulatorUrl,
      demoToken,
      close: closeAll,
    };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * The demo user's token is kept in `<dataDir>/demo-token` (mode 0600) so it survives restarts; only
 * its hash is in the database.
 */
async function ensureDemoUser(db: Database, dataDir: string): Promise<string> {
  const file = join(dataDir, 'demo-token');
  let token: string;
  try {
    token = readFileSync(file, 'utf8').trim();
  } catch {
    token = generateToken();
    mkdirSync(dataDir, { recursive: true });
    writeFileSync(file, `${token}\n`, { mode: 0o600 });
  }
  if (!(await findUserByToken(db, token)))
    await createUserWithToken(db, { name: 'Demo user', token, label: 'demo' });
  return token;
}
