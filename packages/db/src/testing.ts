import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from './embedded';
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
  const dataDir = join(mkdtempSync(join(tmpdir(), 'chargeonce-test-')), 'pg');
  const pg = await startEmbeddedPostgres({ dataDir, persistent: false, port: 0 });
  try {
    await migrate(pg.url);
  } catch (err) {
    await pg.stop();
    throw err;
  }
  return { url: pg.url, stop: () => pg.stop() };
}
