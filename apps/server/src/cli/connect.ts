import { join } from 'node:path';
import { createDb, type DbHandle, migrate } from '@chargeonce/db';
import type { PaymentsDeps } from '@chargeonce/payments';
import { type Config, ConfigError, loadConfig, loadDatabaseConfig } from '../config';
import { loadEmbeddedPostgres } from '../dev-packages';
import { readLocalEndpoints } from '../endpoints';
import { createGateway, paymentsDeps } from '../provider';

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
  const handle = createDb(databaseUrl, { ...config.database, max: 2, applicationName: tool });
  const deps = paymentsDeps(config, handle.db, createGateway(config, stripe), {
    instanceId: `${tool}:${process.pid}`,
  });
  return { config, handle, deps };
}

/**
 * The database a tool that needs only the database should use: DATABASE_URL; else the one of the
 * `pnpm start` running on this checkout; else the embedded one under the data directory, started
 * (and migrated) for the tool and stopped by `close()`.
 */
export async function connectDatabase(tool: string): Promise<{ handle: DbHandle; close(): Promise<void> }> {
  const { databaseUrl, dataDir, database } = loadDatabaseConfig(process.env);
  const url = databaseUrl ?? readLocalEndpoints(dataDir)?.databaseUrl;
  if (url) {
    const handle = createDb(url, { ...database, max: 2, applicationName: tool });
    return { handle, close: () => handle.close() };
  }
  const { startEmbeddedPostgres } = await loadEmbeddedPostgres();
  const pg = await startEmbeddedPostgres({ dataDir: join(dataDir, 'postgres'), persistent: true });
  try {
    await migrate(pg.url);
  } catch (err) {
    await pg.stop();
    throw err;
  }
  const handle = createDb(pg.url, { ...database, max: 2, applicationName: tool });
  return {
    handle,
    close: async () => {
      await handle.close();
      await pg.stop();
    },
  };
}

/** Ends a tool on an error: a configuration problem exits 2, anything else 1; never a stack trace. */
export function fail(err: unknown): never {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(`failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
}
