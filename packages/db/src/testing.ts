import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '@chargeonce/embedded-postgres';
import { migrate } from './migrate';

export interface TestDatabase {
  url: string;
  stop(): Promise<void>;
}

/**
 * A throwaway PostgreSQL server with the real migrations applied, for one test file.
 * Uses DATABASE_URL's server instead when CHARGEONCE_TEST_DATABASE_URL is set (a fresh database is
 * then the caller's job).
 */
export async function startTestDatabase(): Promise<TestDatabase> {
  const external = process.env.CHARGEONCE_TEST_DATABASE_URL;
  if (external) {
    await migrate(external);
    return { url: external, stop: async () => {} };
  }
  const parent = mkdtempSync(join(tmpdir(), 'chargeonce-test-'));
  const pg = await startEmbeddedPostgres({ dataDir: join(parent, 'pg'), persistent: false, port: 0 });
  const stop = async () => {
    await pg.stop();
    rmSync(parent, { recursive: true, force: true });
  };
  try {
    await migrate(pg.url);
  } catch (err) {
    await stop();
    throw err;
  }
  return { url: pg.url, stop };
}
