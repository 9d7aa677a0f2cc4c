/**
 * `pnpm db:migrate`: applies the committed migrations to DATABASE_URL, or, with nothing configured,
 * to the embedded PostgreSQL under .data/ that `pnpm start` uses. Exits non-zero on failure.
 */
import { resolve } from 'node:path';
import { importIfInstalled, parseCommandLine } from '@chargeonce/cli';
import { migrate } from '../migrate';

const cli = {
  usage: `usage: pnpm db:migrate
Applies the committed migrations (drizzle/) to DATABASE_URL, or, with it unset, to the embedded
PostgreSQL under CHARGEONCE_DATA_DIR (default .data/) that \`pnpm start\` uses. Safe to run from
many processes at once. Exit status 1 when a migration fails, 2 on a usage error.`,
  options: {},
} as const;

async function main(): Promise<void> {
  parseCommandLine(cli);
  const url = process.env.DATABASE_URL;
  if (url) {
    const { applied } = await migrate(url);
    console.log(`migrations applied: ${applied}`);
    return;
  }
  // A development dependency, absent from a production install (`pnpm deploy --prod`).
  const embedded = await importIfInstalled(
    '@chargeonce/embedded-postgres',
    () => import('@chargeonce/embedded-postgres'),
  );
  if (!embedded)
    throw new Error('DATABASE_URL is not set, and this build has no embedded PostgreSQL: set it');
  const dataDir = resolve(process.env.CHARGEONCE_DATA_DIR ?? '.data', 'postgres');
  const pg = await embedded.startEmbeddedPostgres({ dataDir, persistent: true });
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
