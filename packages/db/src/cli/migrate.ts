/**
 * `pnpm db:migrate`: applies the committed migrations to DATABASE_URL, or, with nothing configured,
 * to the embedded PostgreSQL under .data/ that `pnpm start` uses. Exits non-zero on failure.
 */
import { resolve } from 'node:path';
import { startEmbeddedPostgres } from '../embedded';
import { migrate } from '../migrate';

async function main(): Promise<void> {
  const url = process.env.DATABASE_URL;
  if (url) {
    const { applied } = await migrate(url);
    console.log(`migrations applied: ${applied}`);
    return;
  }
  const dataDir = resolve(process.env.CHARGEONCE_DATA_DIR ?? '.data', 'postgres');
  const pg = await startEmbeddedPostgres({ dataDir, persistent: true });
  try {
    const { applied } = await migrate(pg.url);
    console.log(`migrations applied: ${applied} (embedded PostgreSQL at ${pg.dataDir})`);
  } finally {
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error('migration failed:', err instanceof Error ? err.message : err);
  process.exit(1);
});
