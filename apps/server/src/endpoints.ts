import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Where a running `pnpm start` (nothing configured) keeps its embedded PostgreSQL and Stripe
 * emulator, so one-shot tools (`pnpm recover`, `pnpm reconcile`) can reach the same ones. Local
 * development only: the emulator key is fake and the database listens on loopback.
 */
export interface LocalEndpoints {
  databaseUrl?: string | undefined;
  stripeApiBase?: string | undefined;
  stripeSecretKey?: string | undefined;
}

const file = (dataDir: string) => join(dataDir, 'endpoints.json');

export function writeLocalEndpoints(dataDir: string, endpoints: LocalEndpoints): () => Promise<void> {
  writeFileSync(file(dataDir), `${JSON.stringify(endpoints, null, 2)}\n`, { mode: 0o600 });
  return async () => rmSync(file(dataDir), { force: true });
}

export function readLocalEndpoints(dataDir: string): LocalEndpoints | undefined {
  try {
    return JSON.parse(readFileSync(file(dataDir), 'utf8')) as LocalEndpoints;
  } catch {
    return undefined;
  }
}
