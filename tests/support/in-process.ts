import { createChargeonceClient } from '@chargeonce/client';
import { createDb, createUserWithToken, type DbHandle } from '@chargeonce/db';
import { startTestDatabase, type TestDatabase } from '@chargeonce/db/testing';
import { loadConfig, type Running, type StartOptions, startChargeonce } from '@chargeonce/server';
import { type StripeEmulator, startStripeEmulator } from '@chargeonce/stripe-emulator';
import { EMULATOR_KEY } from './stack';

export interface InProcess {
  database: TestDatabase;
  db: DbHandle;
  emulator: StripeEmulator;
  server: Running;
  newUser(
    name?: string,
  ): Promise<{ id: string; token: string; client: ReturnType<typeof createChargeonceClient> }>;
  paymentIntentsFor(orderId: string): ReturnType<StripeEmulator['paymentIntents']>;
  stop(): Promise<void>;
}

/** One real server (in this process) over real PostgreSQL and the emulator, spoken to over HTTP. */
export async function startInProcess(
  env: Record<string, string> = {},
  options: StartOptions = {},
): Promise<InProcess> {
  const database = await startTestDatabase();
  const emulator = await startStripeEmulator();
  const server = await startChargeonce(
    loadConfig({
      DATABASE_URL: database.url,
      STRIPE_SECRET_KEY: EMULATOR_KEY,
      STRIPE_API_BASE: emulator.url,
      PORT: '0',
      CHARGEONCE_DEMO: 'off',
      CHARGEONCE_INSTANCE_ID: 'in-process',
      LOG_LEVEL: 'silent',
      ...env,
    }),
    options,
  );
  const db = createDb(database.url, { max: 4 });
  return {
    database,
    db,
    emulator,
    server,
    async newUser(name = 'user') {
      const user = await createUserWithToken(db.db, { name });
      return {
        id: user.id,
        token: user.token,
        client: createChargeonceClient({ url: server.url, token: user.token }),
      };
    },
    paymentIntentsFor: (orderId) =>
      emulator.paymentIntents().filter((pi) => pi.metadata.order_id === orderId),
    async stop() {
      await server.close();
      await db.close();
      await emulator.close();
      await database.stop();
    },
  };
}
