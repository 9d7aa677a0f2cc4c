import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedPostgres } from '@chargeonce/embedded-postgres';
import type { Executor } from './client';
import { migrate } from './migrate';

export interface TestDatabase {
  url: string;
  stop(): Promise<void>;
  /**
   * Outages, for the embedded server only (undefined with CHARGEONCE_TEST_DATABASE_URL): the server
   * crashed and started again on the same URL (`immediate`; `fast` is a clean restart)...
   */
  restart?(options?: { mode?: 'fast' | 'immediate' }): Promise<void>;
  /** ...or stopped in `mode` until start()... */
  shutdown?(options?: { mode?: 'fast' | 'immediate' }): Promise<void>;
  /** ...or its postmaster SIGKILLed (resolves once it has exited) until start()... */
  kill?(): Promise<void>;
  /** ...and started again on the same URL, once it accepts connections. */
  start?(): Promise<void>;
}

export interface TestDatabaseOptions {
  /**
   * The embedded server keeps every acknowledged commit across a crash of its own (restart immediate,
   * kill): needed by a test that crashes it. Default false (faster).
   */
  crashSafe?: boolean;
}

/**
 * A throwaway PostgreSQL server with the real migrations applied, for one test file.
 * Uses DATABASE_URL's server instead when CHARGEONCE_TEST_DATABASE_URL is set (a fresh database is
 * then the caller's job).
 */
export async function startTestDatabase(options: TestDatabaseOptions = {}): Promise<TestDatabase> {
  const external = process.env.CHARGEONCE_TEST_DATABASE_URL;
  if (external) {
    await migrate(external);
    return { url: external, stop: async () => {} };
  }
  const parent = mkdtempSync(join(tmpdir(), 'chargeonce-test-'));
  const pg = await startEmbeddedPostgres({
    dataDir: join(parent, 'pg'),
    persistent: false,
    port: 0,
    crashSafe: options.crashSafe ?? false,
  });
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
  return {
    url: pg.url,
    stop,
    restart: (restartOptions) => pg.restart(restartOptions),
    shutdown: (shutdownOptions) => pg.shutdown(shutdownOptions),
    kill: () => pg.kill(),
    start: () => pg.start(),
  };
}

/**
 * `db` whose `method` statements (UPDATE, SELECT, or a statement with common table expressions) run
 * `around.before` before they execute and `around.after` once they have (on the test's own
 * connection): how a test puts another request's move into the window between two statements of
 * the code under test.
 */
export function aroundStatements(
  db: Executor,
  method: 'update' | 'select' | 'with',
  around: { before?: () => Promise<void>; after?: () => Promise<void> },
): Executor {
  const wrap = (value: unknown): unknown =>
    typeof value !== 'object' || value === null
      ? value
      : new Proxy(value, {
          get(target, prop) {
            const member = Reflect.get(target, prop, target) as unknown;
            if (prop === 'then' && typeof member === 'function')
              return (ok: (v: unknown) => unknown, fail: (e: unknown) => unknown) =>
                (async () => {
                  await around.before?.();
                  const rows = await (target as PromiseLike<unknown>);
                  await around.after?.();
                  return rows;
                })().then(ok, fail);
            return typeof member === 'function'
              ? (...args: unknown[]) => wrap((member as (...a: unknown[]) => unknown).apply(target, args))
              : member;
          },
        });
  return new Proxy(db, {
    get: (target, prop) =>
      prop === method
        ? (...args: unknown[]) => wrap((target[method] as (...a: unknown[]) => unknown).apply(target, args))
        : Reflect.get(target, prop, target),
  }) as Executor;
}
