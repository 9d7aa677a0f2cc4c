import { createDb, type DbHandle } from '@chargeonce/db';
import { createStripeGateway, type PaymentsDeps } from '@chargeonce/payments';
import { type Config, ConfigError, loadConfig } from '../config';
import { readLocalEndpoints } from '../endpoints';

/**
 * The database and Stripe a one-shot tool should use: the environment's (DATABASE_URL,
 * STRIPE_SECRET_KEY, STRIPE_API_BASE), or else those of the `pnpm start` running on this checkout.
 */
export function connect(tool: string): { config: Config; deps: PaymentsDeps; handle: DbHandle } {
  const config = loadConfig(process.env);
  const local = readLocalEndpoints(config.dataDir);
  const databaseUrl = config.databaseUrl ?? local?.databaseUrl;
  const stripe =
    config.stripe ??
    (local?.stripeSecretKey ? { secretKey: local.stripeSecretKey, apiBase: local.stripeApiBase } : undefined);
  if (!databaseUrl || !stripe) {
    throw new ConfigError(
      `${tool}: set DATABASE_URL and STRIPE_SECRET_KEY (and STRIPE_API_BASE for an emulator), ` +
        'or run it while `pnpm start` is serving this checkout with nothing configured',
    );
  }
  const handle = createDb(databaseUrl, { max: 2, applicationName: tool });
  const gateway = createStripeGateway({
    secretKey: stripe.secretKey,
    apiBase: stripe.apiBase,
    timeoutMs: config.stripeTimeoutMs,
    maxNetworkRetries: config.stripeMaxNetworkRetries,
  });
  return { config, handle, deps: { db: handle.db, gateway, instanceId: `${tool}:${process.pid}` } };
}

export function fail(err: unknown): never {
  console.error(err instanceof ConfigError ? err.message : err);
  process.exit(2);
}
