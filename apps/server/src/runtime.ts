import { mkdirSync } from 'node:fs';
import { createTokenAuthenticator } from '@chargeonce/api';
import { type Database, userScopes } from '@chargeonce/db';
import {
  createWebhookVerifier,
  type PaymentGateway,
  type PaymentsDeps,
  summarizeOpenAuthorizations,
  summarizePendingRefunds,
  summarizeProcessingAttempts,
} from '@chargeonce/payments';
import Fastify, { type FastifyInstance } from 'fastify';
import { buildServer } from './app';
import { buildInfo } from './build-info';
import type { Config } from './config';
import { openDatabase } from './database';
import { ensureDemoUser } from './demo';
import { Drain, type InFlightRequest } from './drain';
import { writeLocalEndpoints } from './endpoints';
import { type ChildLogger, contextualLogger } from './log-context';
import { createMetrics, type Metrics } from './metrics';
import { metricsRoute } from './observability';
import { openProvider, paymentsDeps } from './provider';
import { Resources } from './resources';
import { hasWebBuild } from './web';
import { startIdempotencyReaper, startReconciler, startRecoveryWorker } from './worker';

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
  /** Set when /metrics has a listener of its own (METRICS_PORT). */
  metricsUrl: string | undefined;
  /**
   * Shutdown: /readyz turns 503 and responses say `Connection: close` at once; after the configured
   * delay the listener closes and in-flight requests drain; then the workers, the pool, the emulator
   * and the embedded PostgreSQL close.
   */
  close(): Promise<void>;
  /** The requests being served now (for the log line of a shutdown that ran out of time). */
  inFlight(): InFlightRequest[];
}

export interface StartOptions {
  /** Replace the Stripe gateway (tests). */
  gateway?: PaymentGateway;
  /** Where the JSON logs go (tests capture them); default stdout. */
  logStream?: NodeJS.WritableStream;
}

/**
 * Starts everything the configuration asks for: the database (embedded when none is configured,
 * always migrated), the provider (the emulator when no Stripe key is configured), the HTTP server,
 * and the recovery and reconciliation workers. On any failure it closes what it opened and
 * rethrows: the server never serves from an unmigrated database.
 */
export async function startChargeonce(config: Config, options: StartOptions = {}): Promise<Running> {
  const resources = new Resources();
  try {
    const database = await openDatabase(config, resources);
    // Provider calls log through the request (or pass) they serve, else the server's logger.
    let serverLog: ChildLogger | undefined;
    const stripeLog = contextualLogger(() => serverLog, { component: 'stripe' });
    const provider = await openProvider(config, resources, options.gateway, stripeLog);
    const { db } = database.handle;
    const demoToken = config.demoUser ? await ensureDemoUser(db, config.dataDir) : undefined;
    const metrics = createMetrics({
      processingAttempts: () => summarizeProcessingAttempts(db),
      pendingRefunds: () => summarizePendingRefunds(db),
      openAuthorizations: () => summarizeOpenAuthorizations(db),
      build: buildInfo(config.buildCommit),
    });
    const payments = paymentsDeps(config, db, metrics.instrumentGateway(provider.gateway), {
      hooks: metrics.payHooks,
    });
    const drain = new Drain();
    const app = await buildServer(
      {
        db,
        auth: createTokenAuthenticator(db, {
          ttlMs: config.authCacheMs,
          userScopes: userScopes({ customerRefunds: config.customerRefunds }),
        }),
        payments,
        idempotency: { leaseMs: config.idempotency.leaseMs },
        operations: { recovery: config.recovery.policy, reconcileWindowMs: config.reconcile.windowMs },
      },
      {
        logLevel: config.logLevel,
        logStream: options.logStream,
        metrics,
        serveMetrics: config.metrics === undefined,
        session: { ttlMs: config.sessionTtlMs },
        authFailuresPerMinute: config.authFailuresPerMinute,
        trustProxy: config.trustProxy,
        readiness: database.readiness,
        web: { distDir: config.webDist, demoToken },
        drain,
        webhooks: provider.webhookSecret
          ? { payments, verify: createWebhookVerifier(provider.webhookSecret), metrics }
          : undefined,
      },
    );
    serverLog = app.log;
    // Registered before the app: on shutdown requests drain first, then the workers stop.
    startWorkers(config, payments, metrics, resources, app.log);
    payments.logger = contextualLogger(() => serverLog, { component: 'payments' });
    await app.listen({ port: config.port, host: config.host });
    resources.add(() => app.close());
    const port = (app.server.address() as { port: number }).port;
    const url = `http://${config.host.includes(':') ? `[${config.host}]` : config.host}:${port}`;
    // Unconfigured with the emulator (in process, or at STRIPE_API_BASE), a customer comes back from
    // 3-D Secure to this server's order page. With real Stripe only a configured public URL will
    // do: unset, 3-D Secure stays off (a card that asks for it is declined
    // `authentication_required`) rather than send customers to an address they cannot reach.
    const realStripe = config.stripe !== undefined && config.stripe.apiBase === undefined;
    if (!realStripe) payments.returnUrl ??= `${publicBase(config.host, url)}/orders/{orderId}`;
    const metricsUrl = config.metrics
      ? await startMetricsServer(config.metrics, metrics, resources)
      : undefined;

    const { emulator, emulatorSecretKey, webhookSecret } = provider;
    // The in-process emulator delivers its signed events to our own endpoint, as Stripe would.
    if (emulator && webhookSecret) {
      emulator.configureWebhooks({ url: `${url}/webhooks/stripe`, secret: webhookSecret });
    }
    if (!config.databaseUrl || emulator) {
      mkdirSync(config.dataDir, { recursive: true });
      resources.add(
        writeLocalEndpoints(config.dataDir, {
          databaseUrl: config.databaseUrl ? undefined : database.url,
          stripeApiBase: emulator?.url,
          stripeSecretKey: emulatorSecretKey,
        }),
      );
    }
    return {
      url,
      app,
      db,
      emulatorUrl: emulator?.url,
      demoToken,
      webUrl: hasWebBuild(config.webDist) ? url : undefined,
      metricsUrl,
      close: async () => {
        drain.start();
        if (config.shutdown.delayMs > 0) await new Promise((r) => setTimeout(r, config.shutdown.delayMs));
        await resources.closeAll();
      },
      inFlight: () => drain.requests(),
    };
  } catch (err) {
    await resources.closeAll().catch(() => {});
    throw err;
  }
}

function startWorkers(
  config: Config,
  payments: PaymentsDeps,
  metrics: Metrics,
  resources: Resources,
  log: ChildLogger,
): void {
  if (config.recovery.intervalMs > 0) {
    const worker = startRecoveryWorker({ payments, ...config.recovery, metrics, log });
    resources.add(() => worker.stop());
  }
  if (config.reconcile.intervalMs > 0) {
    const reconciler = startReconciler({ payments, ...config.reconcile, metrics, log });
    resources.add(() => reconciler.stop());
  }
  if (config.idempotency.reapIntervalMs > 0) {
    const reaper = startIdempotencyReaper({
      ...config.idempotency,
      db: payments.db,
      intervalMs: config.idempotency.reapIntervalMs,
      metrics,
      logger: () => payments.logger,
    });
    resources.add(() => reaper.stop());
  }
}

/** /metrics alone on its own address (METRICS_HOST:METRICS_PORT), e.g. for a private network. */
async function startMetricsServer(
  at: { port: number; host: string },
  metrics: Metrics,
  resources: Resources,
): Promise<string> {
  const server = Fastify({ logger: false });
  metricsRoute(server, metrics);
  await server.listen({ port: at.port, host: at.host });
  resources.add(() => server.close());
  return `http://${at.host}:${(server.server.address() as { port: number }).port}/metrics`;
}

/** This server's URL as a browser on this machine reaches it (a wildcard host is reached on loopback). */
function publicBase(host: string, url: string): string {
  const port = new URL(url).port;
  return host === '0.0.0.0' || host === '::' ? `http://127.0.0.1:${port}` : url;
}
