import { join } from 'node:path';
import { createDb, type DbHandle, migrate, pendingMigrations } from '@chargeonce/db';
import type { Config } from './config';
import { loadEmbeddedPostgres } from './dev-packages';
import type { Readiness } from './observability';
import type { Resources } from './resources';

export interface OpenDatabase {
  /** The database's URL (the embedded one's when nothing is configured). */
  url: string;
  handle: DbHandle;
  readiness(): Promise<Readiness>;
}

/**
 * The database the configuration names, or an embedded PostgreSQL under the data directory,
 * migrated (a failed migration throws: the server never serves from an unmigrated database) and
 * pooled for this instance.
 */
export async function openDatabase(config: Config, resources: Resources): Promise<OpenDatabase> {
  let url = config.databaseUrl;
  if (!url) {
    const { startEmbeddedPostgres } = await loadEmbeddedPostgres();
    const pg = await startEmbeddedPostgres({ dataDir: join(config.dataDir, 'postgres'), persistent: true });
    resources.add(() => pg.stop());
    url = pg.url;
  }
  await migrate(url);
  const handle = createDb(url, {
    ...config.database,
    max: config.databasePoolMax,
    applicationName: config.instanceId,
  });
  resources.add(() => handle.close());
  return { url, handle, readiness: () => checkReadiness(handle.sql) };
}

const READINESS_TIMEOUT_MS = 2_000;

/**
 * Ready = the database answers within a bound, accepts writes (not a standby, not a primary made
 * read-only during a failover) and has every committed migration applied.
 */
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
      const [row] = await sql<{ ro: string }[]>`select current_setting('transaction_read_only') as ro`;
      if (row?.ro === 'on')
        return { ok: false, reason: 'database is read-only (a standby, or failing over)' };
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
