import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createTokenAuthenticator } from '@chargeonce/api';
import {
  createDb,
  createUserWithToken,
  type Database,
  type DbHandle,
  findUserByToken,
  generateToken,
  migrate,
  pendingMigrations,
} from '@chargeonce/db';
import { startEmbeddedPostgres } from '@chargeonce/db/embedded';
import {
  createStripeGateway,
  createWebhookVerifier,
  DEFAULT_PAY_POLICY,
  DEFAULT_RECOVERY_POLICY,
  type PaymentGateway,
  type PaymentsDeps,
  summarizeProcessingAttempts,
} from '@chargeonce/payments';
import { type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import type { FastifyInstance } from 'fastify';
import { buildServer } from './app';
import type { Config } from './config';
import { writeLocalEndpoints } from './endpoints';
import { createMetrics } from './metrics';
import type { Readiness } from './observability';
import { hasWebBuild } from './web';
import { startReconciler, startRecoveryWorker } from './worker';

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
  /** Set when the built web client is served (at `/` of `url`). */
  webUrl: string | undefined;
  /** Drains in-flight requests, then closes the pool, the emulator and the embedded PostgreSQL. */
  close(): Promise<void>;
}

export interface StartOptions {
  /** Replace the Stripe gateway (tests). */
  gateway?: PaymentGateway;
  /** Where the JSON logs go (tests capture them); default stdout. */
  logStream?: NodeJS.WritableStream;
}

const READINESS_TIMEOUT_MS = 2_000;

/** Ready = the database answers within a bound and has every committed migration applied. */
async function checkReadiness(sql: DbHandle['sql']): Promise<Readiness> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<Readiness>((resolve) => {
    timer = setTimeout(
      () => resolve({ ok: false, reason: 'database did not answer in time' }),
      READINESS_TIMEOUT_MS,
    );
  });
  const check = (async (): Promise<Readiness> => {
    try {
      const pending = await pendingMigrations(sql);
      // Negative (the database is newer than this build) is fine during a rolling deploy.
      return pending > 0 ? { ok: false, reason: `${pending} migration(s) not applied` } : { ok: true };
    } catch {
      return { ok: false, reason: 'database unreachable' };
    }
  })();
  try {
    return await Promise.race([check, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/**
 * Starts everything the configuration asks for. On any failure (a migration included) it stops
 * what it started and rethrows: the server never serves from an unmigrated database.
 */
export async function startChargeonce(config: Config, options: StartOptions = {}): Promise<Running> {
  const cleanups: Array<() => Promise<void>> = [];
  /** Runs every cleanup even if one fails, then reports the first failure. */
  const closeAll = async () => {
    let first: unknown;
    for (const cleanup of cleanups.splice(0).reverse()) {
      await cleanup().catch((err: unknown) => {
        first ??= err;
      });
    }
    if (first) throw first;
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
    let emulator: StripeEmulator | undefined;
    if (!stripe && !options.gateway) {
      const started = await startStripeEmulator({ port: config.emulatorPort });
      cleanups.push(() => started.close());
      emulator = started;
      stripe = { secretKey: EMULATOR_SECRET_KEY, apiBase: started.url };
    }
    // With the in-process emulator, webhooks are signed with a secret made up for this run.
    const webhookSecret =
      config.webhookSecret ?? (emulator ? `whsec_${randomBytes(24).toString('hex')}` : undefined);
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

    const metrics = createMetrics({ processingAttempts: () => summarizeProcessingAttempts(handle.db) });
    const payments: PaymentsDeps = {
      db: handle.db,
      gateway: metrics.instrumentGateway(gateway),
      instanceId: config.instanceId,
      policy: { ...DEFAULT_PAY_POLICY, deadlineMs: config.payDeadlineMs },
      hooks: metrics.payHooks,
    };
    const app = await buildServer(
      { db: handle.db, auth: createTokenAuthenticator(handle.db), payments },
      {
        logLevel: config.logLevel,
        logStream: options.logStream,
        metrics,
        readiness: () => checkReadiness(handle.sql),
        web: { distDir: config.webDist, demoToken },
        webhooks: webhookSecret
          ? { payments, verify: createWebhookVerifier(webhookSecret), metrics }
          : undefined,
      },
    );
    if (config.recoveryIntervalMs > 0) {
      const worker = startRecoveryWorker({
        payments,
        policy: { ...DEFAULT_RECOVERY_POLICY, ...config.recovery },
        intervalMs: config.recoveryIntervalMs,
        metrics,
      });
      // Registered before the app: on shutdown requests drain first, then the worker stops.
      cleanups.push(() => worker.stop());
    }
    if (config.reconcile.intervalMs > 0) {
      const reconciler = startReconciler({ payments, ...config.reconcile, metrics });
      cleanups.push(() => reconciler.stop());
    }
    // Provider calls are logged (with their idempotency key) through the server's logger.
    payments.logger = app.log.child({ component: 'payments' });
    await app.listen({ port: config.port, host: config.host });
    cleanups.push(() => app.close());
    const url = `http://${config.host}:${(app.server.address() as { port: number }).port}`;
    // The in-process emulator delivers its signed events to our own endpoint, as Stripe would.
    if (emulator && webhookSecret)
      emulator.configureWebhooks({ url: `${url}/webhooks/stripe`, secret: webhookSecret });
    if (!config.databaseUrl || emulator) {
      mkdirSync(config.dataDir, { recursive: true });
      cleanups.push(
        writeLocalEndpoints(config.dataDir, {
          databaseUrl: config.databaseUrl ? undefined : databaseUrl,
          stripeApiBase: emulator?.url,
          stripeSecretKey: emulator ? EMULATOR_SECRET_KEY : undefined,
        }),
      );
    }
    return {
      url,
      app,
      db: handle.db,
      emulatorUrl: emulator?.url,
      demoToken,
      webUrl: hasWebBuild(config.webDist) ? url : undefined,
      close: closeAll,
    };
  } catch (err) {
    await closeAll().catch(() => {});
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
