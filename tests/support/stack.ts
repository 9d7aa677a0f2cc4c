import { createChargeonceClient } from '@chargeonce/client';
import { createDb, createUserWithToken, type DbHandle } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { EMULATOR_SECRET_KEY, type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import { type PgBouncer, startPgBouncer } from './pgbouncer';
import { type NodeCommand, type ServerProcess, spawnServer } from './processes';

export interface Stack {
  database: TestDatabase;
  /** Set with `pooler: true`: PgBouncer (transaction mode) between the servers and PostgreSQL. */
  pgbouncer: PgBouncer | undefined;
  db: DbHandle;
  emulator: StripeEmulator;
  servers: ServerProcess[];
  /** A new user with a token, and a typed client per server for that token. */
  newUser(
    name?: string,
  ): Promise<{ id: string; token: string; clients: ReturnType<typeof createChargeonceClient>[] }>;
  /** Replaces server `index` with a new process (same settings): `signal` stops the old one. */
  restart(index: number, signal?: NodeJS.Signals): Promise<ServerProcess>;
  /** PaymentIntents the emulator created for an order (by metadata.order_id). */
  paymentIntentsFor(orderId: string): ReturnType<StripeEmulator['paymentIntents']>;
  stop(): Promise<void>;
}

/**
 * The production topology on one machine: one PostgreSQL (real, migrated), one Stripe emulator,
 * and `instances` server processes sharing them.
 */
export async function startStack(options: {
  instances: number;
  emulatorLatencyMs?: number;
  env?: Record<string, string>;
  /**
   * The servers reach PostgreSQL through PgBouncer in transaction mode, configured as the README
   * says (`DATABASE_PREPARE=false`); they migrate through it too.
   */
  pooler?: boolean;
  /** What runs as each server: default `apps/server/src/main.ts` under tsx; e.g. the production build. */
  command?: NodeCommand;
}): Promise<Stack> {
  const database = await startTestDatabase();
  const emulator = await startStripeEmulator({ latencyMs: options.emulatorLatencyMs ?? 0 });
  const db = createDb(database.url, { max: 4 });
  const servers: ServerProcess[] = [];
  let pgbouncer: PgBouncer | undefined;
  const stop = async () => {
    await Promise.all(servers.map((s) => s.stop('SIGTERM')));
    await pgbouncer?.stop();
    await db.close();
    await emulator.close();
    await database.stop();
  };
  const pooled = (): Record<string, string> =>
    pgbouncer ? { DATABASE_URL: pgbouncer.url, DATABASE_PREPARE: 'false' } : {};
  const spawnInstance = (i: number) =>
    spawnServer(
      {
        DATABASE_URL: database.url,
        ...pooled(),
        STRIPE_SECRET_KEY: EMULATOR_SECRET_KEY,
        STRIPE_API_BASE: emulator.url,
        PORT: '0',
        CHARGEONCE_INSTANCE_ID: `server-${i + 1}`,
        CHARGEONCE_DEMO: 'off',
        LOG_LEVEL: 'warn',
        ...options.env,
      },
      options.command ? { command: options.command } : {},
    );
  try {
    if (options.pooler) pgbouncer = await startPgBouncer(database.url);
    const started = await Promise.all(Array.from({ length: options.instances }, (_, i) => spawnInstance(i)));
    servers.push(...started);
  } catch (err) {
    await stop();
    throw err;
  }
  return {
    database,
    pgbouncer,
    db,
    emulator,
    servers,
    async newUser(name = 'user') {
      const user = await createUserWithToken(db.db, { name });
      return {
        id: user.id,
        token: user.token,
        clients: servers.map((s) => createChargeonceClient({ url: s.url, token: user.token })),
      };
    },
    async restart(index, signal = 'SIGTERM') {
      await servers[index]?.stop(signal);
      const replacement = await spawnInstance(index);
      servers[index] = replacement;
      return replacement;
    },
    paymentIntentsFor: (orderId) =>
      emulator.paymentIntents().filter((pi) => pi.metadata.order_id === orderId),
    stop,
  };
}
